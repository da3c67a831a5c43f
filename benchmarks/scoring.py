"""Scoring benchmarks: python -m benchmarks.scoring [--json].

1. score_assessment on a synthetic 300-question bank (median and p95 over RUNS runs).
2. The whole submit path (validate, score, snapshot, status change, audit, commit) on a
   temporary SQLite database, p95 over SUBMITS submits after one warm-up; the target is
   SUBMIT_TARGET_MS.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from core import assessments, db, migrate, responses, submission
from core.access import SYSTEM, Actor
from core.banks import Bank, parse_bank
from core.banks.store import import_bank
from core.demo_content import demo_answers
from core.organizations import create_organization
from core.products import create_product
from core.responses import AnswerInput
from core.scoring import Answer, score_assessment
from core.settings import ensure_defaults
from core.users import create_user

QUESTIONS = 300
SECTIONS = 10
RUNS = 200
SUBMITS = 30
SUBMIT_TARGET_MS = 150.0
TYPES = ("yes_no", "yes_no_partial", "maturity", "single_choice", "multi_choice", "number")


def _question(index: int, rng: random.Random) -> dict:
    qtype = TYPES[index % len(TYPES)]
    data = {
        "key": f"q{index:03d}",
        "text": f"Synthetic control {index}?",
        "type": qtype,
        "weight": rng.choice([0.5, 1, 1, 2, 3]),
        "allow_na": index % 7 == 0,
        "critical": index % 50 == 0,
    }
    if qtype in ("single_choice", "multi_choice"):
        data["options"] = [
            {"key": f"o{i}", "label": f"Option {i}", "score": i / 3} for i in range(4)
        ]
    if index % 12 == 1:  # one question in twelve depends on the yes/no just before it
        data["condition"] = {"question": f"q{index - 1:03d}", "equals": "yes"}
    return data


def synthetic_bank(questions: int = QUESTIONS, sections: int = SECTIONS, seed: int = 5) -> Bank:
    """A valid bank of the given size: mixed types, weights, N/A, critical and conditional questions."""
    rng = random.Random(seed)
    per = questions // sections
    data = {
        "key": "benchmark-bank",
        "version": 1,
        "title": "Benchmark",
        "sections": [
            {
                "key": f"s{s:02d}",
                "title": f"Section {s}",
                "weight": rng.choice([1, 2, 3]),
                "questions": [_question(s * per + i, rng) for i in range(per)],
            }
            for s in range(sections)
        ],
    }
    return parse_bank(data, source_name="benchmark.yaml")


def _stats(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    return {
        "runs": len(ordered),
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[max(0, round(0.95 * len(ordered)) - 1)],
        "max_ms": ordered[-1],
    }


def bench_scoring(bank: Bank, runs: int = RUNS) -> dict:
    """Time score_assessment over fresh random answers each run."""
    rng, samples = random.Random(11), []
    for _ in range(runs):
        answers = {
            k: Answer(a.value, a.is_na) for k, a in demo_answers(bank, rng.random(), rng).items()
        }
        start = time.perf_counter()
        score_assessment(bank, answers)
        samples.append((time.perf_counter() - start) * 1000)
    return _stats(samples)


def _setup(url: str, bank: Bank) -> tuple[Actor, int]:
    migrate.upgrade(url)
    with db.transaction(url) as s:
        ensure_defaults(s)
        questionnaire, _ = import_bank(s, SYSTEM, bank)
        org = create_organization(s, SYSTEM, name="Bench Ltd")
        user, _ = create_user(
            s,
            SYSTEM,
            username="bench",
            name="Bench",
            role="client",
            organization_id=org.id,
            password="bench password 2026",
            rounds=4,
        )
        return Actor(user.id, user.username, "client", org.id), questionnaire.id


def _ready_assessment(
    url: str, client: Actor, bank_id: int, answers: dict[str, AnswerInput], n: int
) -> int:
    with db.transaction(url) as s:
        product = create_product(s, client, organization_id=client.organization_id, name=f"P{n}")
        aid = assessments.start_assessment(
            s, client, product_id=product.id, questionnaire_id=bank_id
        ).id
        responses.save_answers(s, client, aid, answers)
    return aid


def bench_submit(bank: Bank, submits: int = SUBMITS) -> dict:
    """Time the whole submit transaction on a temporary SQLite database."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        client, bank_id = _setup(url, bank)
        rng, samples = random.Random(3), []
        for n in range(submits + 1):  # the first submit warms caches and is not counted
            aid = _ready_assessment(url, client, bank_id, demo_answers(bank, rng.random(), rng), n)
            start = time.perf_counter()
            with db.transaction(url) as s:
                submission.submit(s, client, aid)
            samples.append((time.perf_counter() - start) * 1000)
        samples = samples[1:]
        db.dispose_all()
    stats = _stats(samples)
    return {
        **stats,
        "target_p95_ms": SUBMIT_TARGET_MS,
        "meets_target": stats["p95_ms"] <= SUBMIT_TARGET_MS,
    }


def main(argv: list[str] | None = None) -> int:
    """Run both benchmarks; print a table, or one JSON object with --json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scoring", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    bank = synthetic_bank()
    report = {
        "questions": len(bank.questions),
        "scoring": bench_scoring(bank),
        "submit_sqlite": bench_submit(bank),
    }
    if args.json:
        print(json.dumps(report, sort_keys=True))
        return 0
    print(f"{'benchmark':<34}{'runs':>6}{'median ms':>12}{'p95 ms':>10}{'max ms':>10}")
    for name, row in (
        ("score_assessment, 300 questions", report["scoring"]),
        ("submit path, SQLite", report["submit_sqlite"]),
    ):
        print(
            f"{name:<34}{row['runs']:>6}{row['median_ms']:>12.2f}{row['p95_ms']:>10.2f}"
            f"{row['max_ms']:>10.2f}"
        )
    verdict = "meets" if report["submit_sqlite"]["meets_target"] else "MISSES"
    print(f"submit p95 {verdict} the {SUBMIT_TARGET_MS:.0f} ms target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
