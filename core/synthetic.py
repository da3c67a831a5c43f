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

import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, db, migrate, read_model
from core.access import SYSTEM
from core.banks.schema import parse_bank
from core.banks.store import import_bank
from core.errors import SecureSphereError
from core.models import (
    Assessment,
    LeadComment,
    Organization,
    Product,
    ProductStatus,
    SignInAttempt,
    User,
    utcnow,
)
from core.settings import ensure_defaults
from core.synthetic_loader import Loader
from core.synthetic_portfolio import (
    ORG_PREFIX,
    add_assessments,
    add_organizations,
    add_products,
    add_users,
)
from core.synthetic_scores import add_answers, add_snapshots
from core.synthetic_stories import comment_rows, plan_assessment, sign_in_rows, timeline_rows

BANK_KEY = "synthetic-bank"
SECTIONS = 10


@dataclass(frozen=True)
class SeedReport:
    """What a seed wrote, rows per table, and how fast (the answers timed on their own)."""

    counts: dict[str, int]  # by table name
    seconds: float
    rows_per_s: float
    answer_seconds: float
    answer_rows_per_s: float


def synthetic_bank_data(questions: int) -> dict[str, Any]:
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


def seed_synthetic(
    url: str,
    *,
    products: int = 10_000,
    questions: int = 100,
    seed: int = 1,
    organizations: int = 50,
    now: datetime | None = None,
) -> SeedReport:
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
        loader = Loader(session)
        with loader.big_cache():
            answer_seconds = _build(
                session,
                loader,
                random.Random(seed),
                products,
                questions,
                organizations,
                now or utcnow(),
            )
        read_model.rebuild(session)
        audit.record(
            session,
            SYSTEM,
            "synthetic_data_seeded",
            object_type="database",
            detail={**loader.counts, "seed": seed},
        )
    seconds = time.perf_counter() - started
    answers = loader.counts["questionnaire_responses"]
    return SeedReport(
        counts=dict(loader.counts),
        seconds=seconds,
        rows_per_s=sum(loader.counts.values()) / seconds,
        answer_seconds=answer_seconds,
        answer_rows_per_s=answers / answer_seconds if answer_seconds else 0.0,
    )


def _build(
    session: Session,
    loader: Loader,
    rng: random.Random,
    products: int,
    questions: int,
    organizations: int,
    now: datetime,
) -> float:
    """Write every row; returns the seconds the answers took."""
    bank, _ = import_bank(
        session, SYSTEM, parse_bank(synthetic_bank_data(questions), source_name="synthetic bank")
    )
    orgs = add_organizations(loader, organizations, now)
    people = add_users(loader, orgs, now)
    first_product = add_products(loader, orgs, products, now)
    first_assessment = loader.next_id(Assessment.id)
    plans = [
        plan_assessment(
            rng, first_assessment + i, first_product + i, orgs[i % len(orgs)], people, now
        )
        for i in range(products)
    ]
    add_assessments(loader, plans, bank.id)
    answer_start = time.perf_counter()
    sections = add_answers(loader, plans, bank.id, rng)
    answer_seconds = time.perf_counter() - answer_start
    add_snapshots(loader, plans, sections, bank.id, rng)
    loader.insert(ProductStatus, (row for p in plans for row in timeline_rows(loader.ts, p)))
    loader.insert(LeadComment, (row for p in plans for row in comment_rows(loader.ts, p)))
    loader.insert(SignInAttempt, sign_in_rows(loader.ts, people, rng, now))
    loader.sync_sequences(Organization, User, Product, Assessment)
    return answer_seconds
