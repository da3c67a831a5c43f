"""Scoring benchmarks: python -m benchmarks.scoring [--json] [--peers N].

1. score_assessment on a synthetic 300-question bank (median and p95 over RUNS runs).
2. Saving one section's 20 answers (validate, score, store, audit, commit), p95 over SAVES
   saves; the target is SAVE_TARGET_MS.
3. The whole submit path (validate, score, snapshot, status change, audit, commit) on a
   temporary SQLite database, p95 over SUBMITS submits after one warm-up; the target is
   SUBMIT_TARGET_MS.

Both writes include the dashboards' read model, which core updates at commit for the
organisation and version written to; the organisation first gets `--peers` (default PEERS)
submitted assessments of its own, so the read model's roll-ups have that much to recompute.
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
SAVES = 60
PEERS = 200
SUBMIT_TARGET_MS = 100.0
SAVE_TARGET_MS = 30.0
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


def _with_peers(url: str, bank: Bank, peers: int) -> tuple[Actor, int, random.Random]:
    client, bank_id = _setup(url, bank)
    rng = random.Random(3)
    for n in range(peers):
        aid = _ready_assessment(
            url, client, bank_id, demo_answers(bank, rng.random(), rng), 100_000 + n
        )
        with db.transaction(url) as s:
            submission.submit(s, client, aid)
    return client, bank_id, rng


def _verdict(stats: dict, target: float) -> dict:
    return {**stats, "target_p95_ms": target, "meets_target": stats["p95_ms"] <= target}


def bench_writes(bank: Bank, peers: int = PEERS) -> tuple[dict, dict]:
    """Time saving a section and the whole submit transaction on a temporary SQLite database
    whose organisation already holds `peers` submitted assessments."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        client, bank_id, rng = _with_peers(url, bank, peers)
        section = bank.sections[0]
        keys = [q.key for q in section.questions][:20]
        open_one = _ready_assessment(url, client, bank_id, {}, 10_000)
        saves = []
        for _ in range(SAVES + 1):  # the first save warms caches and is not counted
            everything = demo_answers(bank, rng.random(), rng)
            answers = {k: everything[k] for k in keys if k in everything}
            start = time.perf_counter()
            with db.transaction(url) as s:
                responses.save_section(s, client, open_one, section.key, answers)
            saves.append((time.perf_counter() - start) * 1000)
        submits = []
        for n in range(SUBMITS + 1):
            aid = _ready_assessment(url, client, bank_id, demo_answers(bank, rng.random(), rng), n)
            start = time.perf_counter()
            with db.transaction(url) as s:
                submission.submit(s, client, aid)
            submits.append((time.perf_counter() - start) * 1000)
        db.dispose_all()
    return (
        _verdict(_stats(saves[1:]), SAVE_TARGET_MS),
        _verdict(_stats(submits[1:]), SUBMIT_TARGET_MS),
    )


def main(argv: list[str] | None = None) -> int:
    """Run both benchmarks; print a table, or one JSON object with --json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scoring", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--peers", type=int, default=PEERS, help="submitted assessments already in the organisation"
    )
    args = parser.parse_args(argv)
    bank = synthetic_bank()
    save, submit = bench_writes(bank, args.peers)
    report = {
        "questions": len(bank.questions),
        "peers": args.peers,
        "scoring": bench_scoring(bank),
        "save_section_sqlite": save,
        "submit_sqlite": submit,
    }
    if args.json:
        print(json.dumps(report, sort_keys=True))
        return 0
    print(f"{'benchmark':<34}{'runs':>6}{'median ms':>12}{'p95 ms':>10}{'max ms':>10}")
    for name, row in (
        ("score_assessment, 300 questions", report["scoring"]),
        ("save a section (20 answers)", save),
        ("submit path, SQLite", submit),
    ):
        print(
            f"{name:<34}{row['runs']:>6}{row['median_ms']:>12.2f}{row['p95_ms']:>10.2f}"
            f"{row['max_ms']:>10.2f}"
        )
    for name, row in (("save p95", save), ("submit p95", submit)):
        verdict = "meets" if row["meets_target"] else "MISSES"
        print(f"{name} {verdict} the {row['target_p95_ms']:.0f} ms target")
    print(f"(the organisation holds {args.peers} submitted assessments; read model included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
