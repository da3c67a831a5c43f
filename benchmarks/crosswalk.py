"""Crosswalk benchmark: python -m benchmarks.crosswalk [--json] [--questions N] [--links N]
[--runs N] [--postgres] [--profile].

Builds, on a temporary SQLite database (and with --postgres on a throw-away PostgreSQL cluster,
tests/support/postgres.py, as benchmarks.dashboard starts it), two synthetic banks of --questions
questions each (yes/no, yes/partially/no and maturity; YAML bank dicts through
core.banks.schema.parse_bank and core.banks.store.import_bank), a mapping of about --links links
mixing every relationship (a generated CSV read by core.mappings.read.read_mapping, resolved by
plan_mapping and stored by store_mapping), and one product with a source assessment answering
every question; then measures, medians of --runs:

* import_ms: the mapping CSV read, planned and stored (once: the same file again is "unchanged");
* credit_ms: core.mappings.credit.credit alone, the pure rules over banks, answers and links;
* coverage_ms: core.mappings.coverage.coverage of the source on the target bank (a read);
* plan_ms: core.mappings.prefill.plan_prefill into an empty target (a read);
* apply_ms: apply_prefill into a fresh empty target, commit included (the figure the target
  reads: a pre-fill of a 1,000-question target from a mapped source within target_ms);
* apply_first_ms, apply_max_ms: the first (uncounted, warming) apply and the slowest counted;
* apply_statements: the SQL statements one apply_prefill sends (counted on the engine);
* carried / proposed / uncovered: what the pre-fill gave, so runs can be compared;
* apply_to_plan, credit_share: apply_ms over plan_ms and credit_ms over apply_ms (how much of a
  pre-fill is the rules rather than reading and writing);
* calibration_ms (a fixed pure-Python loop of 2 million additions) and load_average: the
  machines are shared.

A fresh target each run: start_assessment allows one open assessment per product and
questionnaire, so the previous run's target is set to "rejected" by a plain UPDATE between runs
(untimed; nothing here reads it again).

The figures print as a table (figure | SQLite | PostgreSQL | target, each marked ok or MISSED);
--json prints one object {"sqlite": {figure: value}, "postgresql": {...}, "target_ms": 1000,
"meets_target": bool, "missed": ["engine/figure", ...]}. --profile adds, per engine, the
functions one more apply_prefill spends its time in (cProfile, cumulative). Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, update

from core import db, migrate
from core.access import SYSTEM, Actor
from core.assessments import start_assessment
from core.banks.model import Answer, Bank
from core.banks.schema import parse_bank
from core.banks.store import import_bank, load_bank
from core.demo_content import demo_answers
from core.mappings.coverage import coverage
from core.mappings.credit import Link, credit
from core.mappings.prefill import apply_prefill, plan_prefill
from core.mappings.read import read_mapping
from core.mappings.store import load_links, plan_mapping, store_mapping
from core.models import RELATIONSHIPS, Assessment
from core.organizations import create_organization
from core.products import create_product
from core.responses import save_answers
from core.settings import ensure_defaults
from core.users import create_user
from core.workspace import load_workspace

QUESTIONS = 1_000
LINKS = 1_500
RUNS = 5
SECTIONS = 10
TARGET_MS = 1_000  # the target: a 1,000-question target pre-filled within 1 s
TYPES = ("yes_no_partial", "maturity", "yes_no")
ENGINES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TARGETS = {"apply_ms": ("<=", TARGET_MS)}
SOURCE_KEY, TARGET_KEY, MAPPING_KEY = "xw-source", "xw-target", "xw-bench"
# how often each relationship is drawn: mostly carried, some proposed, a few unrelated
WEIGHTS = {
    "equal-to": 4,
    "equivalent-to": 2,
    "superset-of": 2,
    "subset-of": 2,
    "intersects-with": 3,
    "no-relationship": 1,
}
assert set(WEIGHTS) == set(RELATIONSHIPS)


def _id(prefix: str, index: int) -> str:
    """A question key as the bank stores it (pfx-0007); the CSV writes it upper-cased."""
    return f"{prefix}-{index:04d}"


def bank_data(key: str, prefix: str, questions: int, *, conditions: bool) -> dict[str, Any]:
    """A bank dict as a YAML file holds it: sections of yes/no, yes/partially/no and maturity
    questions, some allowing N/A; with conditions, one question in 25 shown only when the
    yes/no question before it is answered yes."""
    per = max(1, questions // SECTIONS)
    sections = []
    for s in range(0, questions, per):
        items = []
        for i in range(s, min(s + per, questions)):
            qtype = TYPES[i % len(TYPES)]
            item: dict[str, Any] = {
                "key": _id(prefix, i),
                "text": f"Synthetic control {prefix.upper()}-{i}: is it in place and reviewed?",
                "type": qtype,
                "weight": 1 + i % 3,
                "allow_na": i % 9 == 0,
            }
            previous = i - 1
            if conditions and i % 25 == 0 and previous >= s and TYPES[previous % 3] == "yes_no":
                item["condition"] = {"question": _id(prefix, previous), "equals": "yes"}
            items.append(item)
        sections.append(
            {"key": f"s{s // per:02d}", "title": f"Section {s // per}", "questions": items}
        )
    return {"key": key, "version": 1, "title": f"Benchmark {key}", "sections": sections}


def mapping_csv(questions: int, links: int, seed: int = 17) -> bytes:
    """A CSV mapping source -> target: one link per target question, then the rest from random
    sources to random targets (several sources per target), relationships drawn by WEIGHTS."""
    rng = random.Random(seed)
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    pairs: dict[tuple[int, int], str] = {}
    for i in range(min(questions, links)):
        pairs[rng.randrange(questions), i] = rng.choices(names, weights)[0]
    while len(pairs) < links:
        pairs[rng.randrange(questions), rng.randrange(questions)] = rng.choices(names, weights)[0]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["source_id", "target_id", "relationship"])
    for (s, t), relationship in pairs.items():
        writer.writerow([_id("src", s).upper(), _id("tgt", t).upper(), relationship])
    return buffer.getvalue().encode()


def _ms(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def calibration_ms() -> float:
    """A fixed pure-Python loop: how fast this machine is right now."""
    started = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    return (time.perf_counter() - started) * 1000


class Crosswalk:
    """The benchmark's data on one database: banks, mapping, a client, a product, its source."""

    def __init__(self, url: str, questions: int, links: int) -> None:
        self.url = url
        migrate.upgrade(url)
        source = parse_bank(
            bank_data(SOURCE_KEY, "src", questions, conditions=False), source_name="source.yaml"
        )
        target = parse_bank(
            bank_data(TARGET_KEY, "tgt", questions, conditions=True), source_name="target.yaml"
        )
        with db.transaction(url) as s:
            ensure_defaults(s)
            self.source_bank_id = import_bank(s, SYSTEM, source)[0].id
            self.target_bank_id = import_bank(s, SYSTEM, target)[0].id
            org = create_organization(s, SYSTEM, name="Crosswalk Ltd")
            user, _ = create_user(
                s,
                SYSTEM,
                username="bench-client",
                name="Bench client",
                role="client",
                organization_id=org.id,
                password="bench password 2026",
                rounds=4,
            )
            self.client = Actor(user.id, user.username, "client", org.id)
            self.product = create_product(s, self.client, organization_id=org.id, name="P1").id
        self.import_ms, self.links = self._import(mapping_csv(questions, links))
        with db.transaction(url) as s:
            bank = load_bank(s, self.source_bank_id)
            self.source_id = start_assessment(
                s, self.client, product_id=self.product, questionnaire_id=self.source_bank_id
            ).id
            answers = demo_answers(bank, 0.6, random.Random(3))
            assert len(answers) == questions  # no conditions: every question answered
            save_answers(s, self.client, self.source_id, answers)
        self.target_id: int | None = None

    def _import(self, data: bytes) -> tuple[float, int]:
        started = time.perf_counter()
        with db.transaction(self.url) as s:
            plan = plan_mapping(
                s,
                read_mapping("bench.csv", data),
                source_bank=SOURCE_KEY,
                target_bank=TARGET_KEY,
                key=MAPPING_KEY,
            )
            row, _ = store_mapping(s, SYSTEM, plan)
            self.mapping_id = row.id
        return (time.perf_counter() - started) * 1000, len(plan.links)

    def fresh_target(self) -> int:
        """A new empty target assessment (the previous one set aside as rejected)."""
        with db.transaction(self.url) as s:
            if self.target_id is not None:
                s.execute(
                    update(Assessment)
                    .where(Assessment.id == self.target_id)
                    .values(status="rejected")
                )
            self.target_id = start_assessment(
                s, self.client, product_id=self.product, questionnaire_id=self.target_bank_id
            ).id
        return self.target_id

    def _target(self) -> int:
        assert self.target_id is not None, "call fresh_target first"
        return self.target_id

    def plan(self) -> Any:
        with db.reading(self.url) as s:
            return plan_prefill(s, self.client, self._target(), self.source_id)

    def apply(self) -> Any:
        with db.transaction(self.url) as s:
            return apply_prefill(s, self.client, self._target(), self.source_id)

    def coverage(self) -> Any:
        with db.reading(self.url) as s:
            return coverage(s, self.client, self.source_id, self.mapping_id)

    def credit_inputs(self) -> tuple[Bank, dict[str, Answer], Bank, list[Link]]:
        with db.reading(self.url) as s:
            ws = load_workspace(s, self.client, self.source_id)
            target = load_bank(s, self.target_bank_id)
            links = load_links(s, self.mapping_id)
        return ws.bank, ws.answers, target, links


def _statements(url: str, xw: Crosswalk) -> int:
    """The SQL statements one apply_prefill into a fresh target sends."""
    xw.fresh_target()
    sent = [0]

    def count(*_: Any) -> None:
        sent[0] += 1

    engine = db.get_engine(url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        xw.apply()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sent[0]


def measure(url: str, questions: int, links: int, runs: int, profile: bool) -> dict[str, Any]:
    """Every figure on the database at url."""
    xw = Crosswalk(url, questions, links)
    source_bank, answers, target_bank, mapped = xw.credit_inputs()
    credit(source_bank, answers, target_bank, mapped)  # warm
    credit_ms = statistics.median(
        _ms(lambda: credit(source_bank, answers, target_bank, mapped))[0] for _ in range(runs * 4)
    )
    xw.coverage()  # warm: banks cached, statements compiled
    coverage_ms = statistics.median(_ms(xw.coverage)[0] for _ in range(runs))
    xw.fresh_target()
    xw.plan()
    plan_ms = statistics.median(_ms(xw.plan)[0] for _ in range(runs))
    applied: list[float] = []
    first = None
    for _ in range(runs + 1):  # the first apply warms the write path and is not counted
        xw.fresh_target()
        took, done = _ms(xw.apply)
        if first is None:
            first = took
        else:
            applied.append(took)
    apply_ms = statistics.median(applied)
    counts = done.counts()
    statements = _statements(url, xw)
    figures: dict[str, Any] = {
        "questions": questions,
        "links": xw.links,
        "carried": counts["carried"],
        "proposed": counts["proposed"],
        "uncovered": len(done.uncovered),
        "import_ms": round(xw.import_ms, 1),
        "credit_ms": round(credit_ms, 1),
        "coverage_ms": round(coverage_ms, 1),
        "plan_ms": round(plan_ms, 1),
        "apply_ms": round(apply_ms, 1),
        "apply_first_ms": round(first or 0.0, 1),
        "apply_max_ms": round(max(applied), 1),
        "apply_statements": statements,
        "apply_to_plan": round(apply_ms / plan_ms, 2),
        "credit_share": round(credit_ms / apply_ms, 3),
        "calibration_ms": round(calibration_ms(), 1),
        "load_average": round(os.getloadavg()[0], 2),
    }
    if profile:
        xw.fresh_target()
        profiler = cProfile.Profile()
        profiler.runcall(xw.apply)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        figures["profile"] = out.getvalue()
    db.dispose_all()
    return figures


def _met(value: float, goal: tuple[str, float]) -> bool:
    op, limit = goal
    return value <= limit if op == "<=" else value >= limit


def missed(figures: dict[str, dict[str, Any]]) -> list[str]:
    """engine/figure of every target missed."""
    return [
        f"{engine}/{key}"
        for engine, values in figures.items()
        for key, goal in TARGETS.items()
        if key in values and not _met(values[key], goal)
    ]


def _cell(value: Any, goal: tuple[str, float] | None) -> str:
    text = f"{value:,}" if isinstance(value, int | float) and not isinstance(value, bool) else value
    return f"{text!s} {'' if goal is None else 'ok' if _met(value, goal) else 'MISSED'}".strip()


def table(figures: dict[str, dict[str, Any]]) -> str:
    """figure | SQLite | PostgreSQL | target."""
    engines = list(figures)
    lines = [f"{'figure':<18}" + "".join(f"{ENGINES[e]:>16}" for e in engines) + "   target"]
    for key in figures["sqlite"]:
        if key == "profile":
            continue
        goal = TARGETS.get(key)
        cells = "".join(f"{_cell(figures[e][key], goal):>16}" for e in engines)
        lines.append(f"{key:<18}{cells}   {f'{goal[0]} {goal[1]:,}' if goal else ''}".rstrip())
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The figures on SQLite, then on a throw-away PostgreSQL cluster with --postgres."""
    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'crosswalk.db'}"
        figures["sqlite"] = measure(url, args.questions, args.links, args.runs, args.profile)
    if args.postgres:
        from tests.support.postgres import start_cluster

        cluster = start_cluster()
        try:
            url = cluster.create_database("crosswalk")
            figures["postgresql"] = measure(
                url, args.questions, args.links, args.runs, args.profile
            )
        finally:
            db.dispose_all()
            cluster.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.crosswalk",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--questions", type=int, default=QUESTIONS, help="questions per bank")
    parser.add_argument("--links", type=int, default=LINKS, help="links in the mapping")
    parser.add_argument("--runs", type=int, default=RUNS, help="repeats (medians)")
    parser.add_argument("--postgres", action="store_true", help="also on a throw-away cluster")
    parser.add_argument("--profile", action="store_true", help="profile one more apply_prefill")
    args = parser.parse_args(argv)
    if args.questions < SECTIONS or args.links < 1 or args.runs < 1:
        parser.error(f"give at least {SECTIONS} questions, 1 link and 1 run")
    figures = run(args)
    profiles = {e: f.pop("profile") for e, f in figures.items() if "profile" in f}
    meets = not missed(figures)
    if args.json:
        report = {**figures, "target_ms": TARGET_MS, "meets_target": meets}
        print(
            json.dumps(
                {**report, "missed": missed(figures), **({"profile": profiles} if profiles else {})}
            )
        )
        return 0
    print(table(figures))
    print(f"target_ms: {TARGET_MS}")
    print(f"meets_target: {meets}")
    for engine, text in profiles.items():
        print(f"\napply_prefill profile, {ENGINES[engine]}:\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
