"""A synthetic benchmark data set, loaded with SQLAlchemy Core executemany in chunks.

50 organisations, N products with one assessment each (approved or in flight) against a synthetic
bank of Q yes/no/partial questions in 10 sections (so N x Q answers), 5 score snapshots per
assessment over 24 months, the matching status timeline, review comments and sign-in attempts.

It is a benchmark data set, not a history of real actions: its rows get no audit rows of their
own. The bank import and one closing ``synthetic_data_seeded`` row are audited through
core.audit, so the audit chain still verifies. Its accounts are inactive and nobody knows their
password. Run it on a database of its own (``--url``), not on production data.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from operator import itemgetter

from sqlalchemy import bindparam, column, func, insert, select, table, text, update
from sqlalchemy.orm import Session

from core import audit, db, migrate
from core.access import SYSTEM
from core.auth import hash_password
from core.banks.schema import parse_bank
from core.banks.store import import_bank
from core.errors import SecureSphereError
from core.models import (
    Assessment,
    LeadComment,
    Organization,
    Product,
    ProductStatus,
    Question,
    QuestionnaireResponse,
    ScoreHistory,
    Section,
    SignInAttempt,
    User,
    utcnow,
)
from core.scoring import DEFAULT_BANDS, FORMULA_VERSION, band_for
from core.settings import ensure_defaults
from core.synthetic_stories import DAYS, comment_rows, plan_assessment, sign_in_rows, timeline_rows

BANK_KEY = "synthetic-bank"
ORG_PREFIX = "Synthetic Org"
INDUSTRIES = (
    "Technology",
    "Financial services",
    "Healthcare",
    "Retail",
    "Manufacturing",
    "Public sector",
)
TIERS = ("tier_1", "tier_2", "tier_3")
SECTIONS = 10
CHUNK = 50_000
VALUES = (("yes", 1.0), ("partial", 0.5), ("no", 0.0))
_JSON = {v: json.dumps(v) for v, _ in VALUES}


def synthetic_bank_data(questions: int) -> dict:
    """The bank dict: `questions` yes/no/partial questions spread over 10 weighted sections."""
    per = [questions // SECTIONS + (1 if s < questions % SECTIONS else 0) for s in range(SECTIONS)]
    start = [sum(per[:s]) for s in range(SECTIONS)]
    return {
        "key": BANK_KEY,
        "version": 1,
        "title": "Synthetic benchmark bank",
        "sections": [
            {
                "key": f"s{s + 1:02d}",
                "title": f"Section {s + 1:02d}",
                "weight": 1 + s % 3,
                "questions": [
                    {
                        "key": f"q{i + 1:04d}",
                        "text": f"Synthetic control {i + 1}?",
                        "type": "yes_no_partial",
                        "critical": i % 25 == 0,
                        "allow_na": i % 7 == 3,
                    }
                    for i in range(start[s], start[s] + per[s])
                ],
            }
            for s in range(SECTIONS)
            if per[s]
        ],
    }


class _Loader:
    """Chunked Core inserts into lightweight tables; values arrive already in storage form."""

    def __init__(self, session: Session):
        self.conn = session.connection()
        self.sqlite = self.conn.dialect.name == "sqlite"
        self.counts: dict[str, int] = {}

    def ts(self, when: datetime):
        """A UTC datetime as the column stores it (SQLite: naive text, as UTCDateTime does)."""
        return when.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else when

    @contextmanager
    def big_cache(self) -> Iterator[None]:
        """SQLite: a 256 MB page cache while loading, so index pages are not spilled and re-read."""
        if self.sqlite:
            self.conn.exec_driver_sql("PRAGMA cache_size=-262144")
        try:
            yield
        finally:
            if self.sqlite:
                self.conn.exec_driver_sql("PRAGMA cache_size=-2000")

    def next_id(self, model) -> int:
        """The first free id of a table (its rows get explicit ids, so others can refer to them)."""
        return (self.conn.scalar(select(func.max(model.id))) or 0) + 1

    def insert(self, model, rows: Iterable, columns: tuple[str, ...] | None = None) -> int:
        """Insert rows (dicts, or tuples in `columns` order) in chunks of CHUNK, one executemany
        each; returns how many."""
        name, chunk, done = model.__tablename__, [], 0
        for row in rows:
            chunk.append(row)
            if len(chunk) == CHUNK:
                done += self._flush(name, chunk, columns)
                chunk = []
        done += self._flush(name, chunk, columns) if chunk else 0
        self.counts[name] = self.counts.get(name, 0) + done
        return done

    def _flush(self, name: str, rows: list, columns: tuple[str, ...] | None) -> int:
        """One executemany of a Core insert() compiled for the chunk. A positional driver
        (sqlite3) gets tuples straight through, skipping per-row parameter processing."""
        keys = columns or tuple(rows[0])
        compiled = insert(table(name, *map(column, keys))).compile(dialect=self.conn.dialect)
        if compiled.positional and columns is None:
            rows = list(map(itemgetter(*compiled.positiontup), rows))
        elif compiled.positional and tuple(compiled.positiontup) != keys:
            raise RuntimeError(f"unexpected parameter order for {name}")
        elif not compiled.positional and columns is not None:
            rows = [dict(zip(keys, row, strict=False)) for row in rows]
        self.conn.exec_driver_sql(compiled.string, rows)
        return len(rows)

    def sync_sequences(self, *models) -> None:
        """PostgreSQL: move each id sequence past the explicit ids we inserted."""
        if self.sqlite:
            return
        for model in models:
            name = model.__tablename__
            self.conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                )
            )


def seed_synthetic(
    url: str,
    *,
    products: int = 10_000,
    questions: int = 100,
    seed: int = 1,
    organizations: int = 50,
    now: datetime | None = None,
) -> dict:
    """Build the synthetic data set in the database at `url` in one transaction; returns counts
    and timings (rows/s)."""
    if products < 1 or questions < 1 or organizations < 1:
        raise SecureSphereError("products, questions and organisations must each be at least 1")
    migrate.upgrade(url)
    started = time.perf_counter()
    with db.transaction(url) as session:
        ensure_defaults(session)
        if session.scalar(select(Organization.id).where(Organization.name.like(f"{ORG_PREFIX}%"))):
            raise SecureSphereError("synthetic data is already present in this database")
        loader = _Loader(session)
        with loader.big_cache():
            report = _build(
                session,
                loader,
                random.Random(seed),
                products,
                questions,
                organizations,
                now or utcnow(),
            )
        audit.record(
            session,
            SYSTEM,
            "synthetic_data_seeded",
            object_type="database",
            detail={**loader.counts, "seed": seed},
        )
    report["seconds"] = time.perf_counter() - started
    report["rows_per_s"] = sum(loader.counts.values()) / report["seconds"]
    return report


def _build(session, loader, rng, products, questions, organizations, now) -> dict:
    bank, _ = import_bank(
        session, SYSTEM, parse_bank(synthetic_bank_data(questions), source_name="synthetic bank")
    )
    qrows = session.execute(
        select(Question.id, Section.key, Question.allow_na, Question.critical)
        .join(Section, Section.id == Question.section_id)
        .where(Question.questionnaire_id == bank.id)
        .order_by(Question.id)
    ).all()
    orgs = _organizations(loader, organizations, now)
    people = _users(loader, orgs, now)
    first_product = _products(loader, orgs, products, now)
    plans = [
        plan_assessment(rng, first_product + i, orgs[i % len(orgs)], people, now)
        for i in range(products)
    ]
    _assessments(loader, plans, bank.id)
    answer_start = time.perf_counter()
    sections = _answers(loader, plans, qrows, rng)
    answer_seconds = time.perf_counter() - answer_start
    weights = dict(
        session.execute(
            select(Section.key, Section.weight).where(Section.questionnaire_id == bank.id)
        ).all()
    )
    _snapshots(loader, plans, sections, weights, rng)
    loader.insert(ProductStatus, (row for p in plans for row in timeline_rows(loader.ts, p)))
    loader.insert(LeadComment, (row for p in plans for row in comment_rows(loader.ts, p)))
    loader.insert(SignInAttempt, sign_in_rows(loader.ts, people, rng, now))
    loader.sync_sequences(Organization, User, Product, Assessment)
    answers = loader.counts["questionnaire_responses"]
    return {
        **loader.counts,
        "answer_seconds": answer_seconds,
        "answer_rows_per_s": answers / answer_seconds if answer_seconds else 0.0,
    }


def _organizations(loader: _Loader, count: int, now: datetime) -> list[int]:
    first, when = loader.next_id(Organization), loader.ts(now - timedelta(days=DAYS + 30))
    loader.insert(
        Organization,
        (
            {
                "id": first + i,
                "name": f"{ORG_PREFIX} {i + 1:02d}",
                "industry": INDUSTRIES[i % len(INDUSTRIES)],
                "tier": TIERS[i // len(INDUSTRIES) % len(TIERS)],
                "is_active": True,
                "created_at": when,
                "updated_at": when,
            }
            for i in range(count)
        ),
    )
    return list(range(first, first + count))


def _users(
    loader: _Loader, orgs: list[int], now: datetime
) -> dict[str, list[tuple[int, str, int]]]:
    """5 reviewers, 3 analysts and one client per organisation: inactive, unknown password."""
    first, when = loader.next_id(User), loader.ts(now - timedelta(days=DAYS + 30))
    hashed = hash_password(secrets.token_urlsafe(24), rounds=4)
    specs = (
        [("lead_reviewer", None)] * 5 + [("analyst", None)] * 3 + [("client", org) for org in orgs]
    )
    rows = [
        {
            "id": first + i,
            "username": f"syn-{role.replace('_', '-')}-{i + 1:03d}",
            "name": f"Synthetic {role.replace('_', ' ')} {i + 1}",
            "email": "",
            "role": role,
            "organization_id": org,
            "password_hash": hashed,
            "must_change_password": False,
            "is_active": False,
            "is_demo": False,
            "failed_logins": 0,
            "lockouts": 0,
            "created_at": when,
            "updated_at": when,
        }
        for i, (role, org) in enumerate(specs)
    ]
    loader.insert(User, rows)
    people: dict[str, list] = {}
    for row in rows:
        people.setdefault(row["role"], []).append(
            (row["id"], row["username"], row["organization_id"])
        )
    return people


def _products(loader: _Loader, orgs: list[int], count: int, now: datetime) -> int:
    first, when = loader.next_id(Product), loader.ts(now - timedelta(days=DAYS + 20))
    loader.insert(
        Product,
        (
            {
                "id": first + i,
                "organization_id": orgs[i % len(orgs)],
                "name": f"Product {i + 1:05d}",
                "description": "",
                "tier": TIERS[(i // len(orgs)) % len(TIERS)],
                "industry": "",
                "is_active": True,
                "created_at": when,
                "updated_at": when,
            }
            for i in range(count)
        ),
    )
    return first


def _assessments(loader: _Loader, plans: list[dict], questionnaire_id: int) -> None:
    first = loader.next_id(Assessment)
    for i, plan in enumerate(plans):
        plan["id"] = first + i
    loader.insert(Assessment, (_assessment_row(loader, p, questionnaire_id) for p in plans))


def _assessment_row(loader: _Loader, plan: dict, questionnaire_id: int) -> dict:
    times, triggers = plan["times"], plan["triggers"]
    started = times[0] - timedelta(days=14)
    submitted = max(t for t, g in zip(times, triggers, strict=False) if g == "submit")
    decided = next((t for t, g in zip(times, triggers, strict=False) if g == "approve"), None)
    return {
        "id": plan["id"],
        "product_id": plan["product_id"],
        "questionnaire_id": questionnaire_id,
        "organization_id": plan["org"],
        "status": plan["status"],
        "cycle": 1,
        "round": 1 + triggers.count("changes_requested"),
        "reviewer_id": plan["reviewer"],
        "created_by": plan["client"],
        "due_date": (started + timedelta(days=30)).date(),
        "submitted_at": loader.ts(submitted),
        "decided_at": decided and loader.ts(decided),
        "is_active": True,
        "completion": 1.0,
        "created_at": loader.ts(started),
        "updated_at": loader.ts(times[-1]),
    }


ANSWER_COLUMNS = (
    "assessment_id",
    "question_id",
    "value",
    "is_na",
    "justification",
    "score",
    "review_state",
    "answered_by",
    "answered_at",
    "created_at",
    "updated_at",
)


def _answers(loader: _Loader, plans: list[dict], qrows, rng: random.Random) -> list[dict]:
    """Insert every answer; returns per assessment {section key: [scored sum, scored count]}."""
    sections: list[dict] = []

    def rows() -> Iterator[tuple]:
        for plan in plans:
            sums, when, aid, who = (
                {},
                loader.ts(plan["times"][-1] - timedelta(days=3)),
                plan["id"],
                plan["client"],
            )
            yes, partial = plan["quality"], plan["quality"] + (1 - plan["quality"]) / 2
            for qid, section, allow_na, critical in qrows:
                r = rng.random() * (0.5 if critical else 1)
                value, score = VALUES[0] if r < yes else VALUES[1] if r < partial else VALUES[2]
                if allow_na and rng.random() < 0.1:
                    yield aid, qid, None, True, "", None, "accepted", who, when, when, when
                    continue
                acc = sums.setdefault(section, [0.0, 0])
                acc[0] += score
                acc[1] += 1
                yield aid, qid, _JSON[value], False, "", score, "accepted", who, when, when, when
            sections.append(sums)

    loader.insert(QuestionnaireResponse, rows(), ANSWER_COLUMNS)
    return sections


def _snapshots(
    loader: _Loader, plans: list[dict], sections: list[dict], weights: dict, rng: random.Random
) -> None:
    """Five snapshots per assessment (the newest scored from its answers), then the summary columns."""
    loader.insert(
        ScoreHistory,
        (
            row
            for plan, sums in zip(plans, sections, strict=False)
            for row in _snapshot_rows(loader, plan, sums, weights, rng)
        ),
    )
    summary = table(
        "assessments",
        column("id"),
        column("latest_score"),
        column("latest_band"),
        column("completion"),
    )
    loader.conn.execute(
        update(summary)
        .where(summary.c.id == bindparam("aid"))
        .values(
            latest_score=bindparam("score"),
            latest_band=bindparam("band"),
            completion=bindparam("done"),
        ),
        [
            {
                "aid": p["id"],
                "score": p["latest"]["overall_score"],
                "band": p["latest"]["band"],
                "done": p["latest"]["completion"],
            }
            for p in plans
        ],
    )


def _snapshot_rows(loader, plan, sums, weights, rng) -> list[dict]:
    history = [{key: 100 * s / n for key, (s, n) in sorted(sums.items()) if n}]
    completion = [1.0]
    for _ in range(4):  # walk back in time: scores were mostly lower before, sometimes higher
        shift = rng.gauss(3, 7)
        history.insert(
            0, {k: min(100.0, max(0.0, v - shift - rng.gauss(0, 4))) for k, v in history[0].items()}
        )
        completion.insert(0, max(0.8, completion[0] - rng.uniform(0, 0.04)))
    out = []
    for when, trigger, secs, done in zip(
        plan["times"], plan["triggers"], history, completion, strict=False
    ):
        total = sum(weights[k] for k in secs)
        overall = sum(weights[k] * v for k, v in secs.items()) / total if secs else None
        stamp = loader.ts(when)
        out.append(
            {
                "assessment_id": plan["id"],
                "overall_score": overall,
                "section_scores": json.dumps(secs),
                "band": band_for(overall, DEFAULT_BANDS),
                "completion": done,
                "answered_count": round(done * 100),
                "total_count": 100,
                "trigger": trigger,
                "actor_id": None,
                "formula_version": FORMULA_VERSION,
                "settings_used": "{}",
                "question_scores": None,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    plan["latest"] = out[-1]
    return out
