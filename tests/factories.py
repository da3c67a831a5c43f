"""Plain factory functions for test data, built through core like the pages do, and one World
builder on top of them for tests that need organisations, people, assessments and their history."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core import db, review
from core.access import SYSTEM, Actor
from core.assessments import start_assessment
from core.banks.model import Bank
from core.banks.store import load_bank
from core.comments import add_comment
from core.demo_content import attach_evidence, demo_answers, sample_pdf
from core.evidence import add_evidence
from core.mappings.read import read_mapping
from core.mappings.store import plan_mapping, store_mapping
from core.models import Questionnaire, ScoreHistory
from core.organizations import create_organization
from core.products import create_product
from core.responses import AnswerInput, save_answers
from core.submission import submit
from core.users import create_user

PASSWORD = "plum orchard lantern 7"
CSF, SP800_53_LOW = "nist-csf-2.0", "nist-800-53-r5-low"


def make_org(url: str, name: str = "Acme Ltd") -> int:
    with db.transaction(url) as s:
        return create_organization(s, SYSTEM, name=name, industry="Retail").id


def make_actor(
    url: str, role: str, org_id: int | None = None, username: str | None = None
) -> Actor:
    username = username or f"{role}{org_id or ''}"
    with db.transaction(url) as s:
        user, _ = create_user(
            s,
            SYSTEM,
            username=username,
            name=username.title(),
            role=role,
            organization_id=org_id,
            password=PASSWORD,
            rounds=4,
        )
        return Actor(user.id, user.username, role, org_id)


def make_product(url: str, actor: Actor, name: str = "Web Shop") -> int:
    with db.transaction(url) as s:
        return create_product(s, actor, organization_id=actor.organization_id, name=name).id


def newest_bank_id(url: str, key: str) -> int:
    """The id of a stored bank's newest version."""
    with db.reading(url) as s:
        found = s.scalar(
            select(Questionnaire.id)
            .where(Questionnaire.key == key)
            .order_by(Questionnaire.version.desc())
            .limit(1)
        )
    assert found is not None, f"no bank {key!r}"
    return found


def csv_mapping(
    url: str,
    rows: str,
    *,
    key: str,
    title: str | None = None,
    source: str = CSF,
    target: str = SP800_53_LOW,
) -> int:
    """Import a mapping written as CSV rows (source_id,target_id,relationship; header added)
    between two stored banks; returns the mapping set's id."""
    mapping = read_mapping(f"{key}.csv", f"source_id,target_id,relationship\n{rows}".encode())
    if title is not None:
        mapping = replace(mapping, title=title)
    with db.transaction(url) as s:
        plan = plan_mapping(s, mapping, source_bank=source, target_bank=target, key=key)
        return store_mapping(s, SYSTEM, plan)[0].id


def baseline_id(url: str) -> int:
    with db.reading(url) as s:
        return s.scalar(
            select(Questionnaire.id).where(Questionnaire.key == "securesphere-baseline")
        )


@dataclass
class World:
    """A test database filled through core the way the pages fill it: organisations, people by
    role, products, assessments with answers and evidence, submissions and decisions (and the
    snapshots those write). What a test refers to is named, w.name(client=...), and read back
    as w["client"]."""

    url: str
    data_dir: Path  # where evidence files go
    named: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.named[name]

    def name(self, **things: Any) -> None:
        self.named.update(things)

    # ------------------------------------------------------------------ who and what

    def org(self, name: str = "Acme Ltd") -> int:
        return make_org(self.url, name)

    def person(self, role: str, org_id: int | None = None, username: str | None = None) -> Actor:
        return make_actor(self.url, role, org_id, username)

    def product(self, client: Actor, name: str = "Web Shop") -> int:
        return make_product(self.url, client, name)

    # ------------------------------------------------------------------ the questionnaire

    @cached_property
    def bank_id(self) -> int:
        """The shipped baseline questionnaire every assessment here answers."""
        return baseline_id(self.url)

    @cached_property
    def bank(self) -> Bank:
        with db.reading(self.url) as s:
            return load_bank(s, self.bank_id)

    def demo_answers(
        self, quality: float = 0.7, seed: int = 7, first: int | None = None
    ) -> dict[str, AnswerInput]:
        """The demo data's answers of that quality to every visible question (or the first few)."""
        answers = demo_answers(self.bank, quality, random.Random(seed))
        return answers if first is None else dict(list(answers.items())[:first])

    def weak_key(self, values: Mapping[str, object]) -> str:
        """The first question answered "no" or "partial" that no other question depends on."""
        referenced = {q.condition.question for q in self.bank.questions if q.condition}
        return next(k for k, v in values.items() if v in ("no", "partial") and k not in referenced)

    # ------------------------------------------------------------------ assessments

    def start(self, client: Actor, product_id: int) -> int:
        with db.transaction(self.url) as s:
            return start_assessment(
                s, client, product_id=product_id, questionnaire_id=self.bank_id
            ).id

    def answer(
        self, client: Actor, aid: int, answers: dict[str, AnswerInput], *, evidence: bool = False
    ) -> dict[str, AnswerInput]:
        """Save the answers; with evidence, a small PDF for each one that requires a file."""
        with db.transaction(self.url) as s:
            save_answers(s, client, aid, answers)
            if evidence:
                attach_evidence(s, client, aid, self.bank, answers, self.data_dir)
        return answers

    def answered(self, client: Actor, product_id: int, quality: float = 0.7, seed: int = 7) -> int:
        """A new assessment with a complete set of answers and the evidence they need."""
        aid = self.start(client, product_id)
        self.answer(client, aid, self.demo_answers(quality, seed), evidence=True)
        return aid

    def submit(self, client: Actor, aid: int) -> int:
        with db.transaction(self.url) as s:
            submit(s, client, aid)
        return aid

    def comment(self, actor: Actor, aid: int, text: str) -> None:
        with db.transaction(self.url) as s:
            add_comment(s, actor, aid, text)

    def evidence(
        self, actor: Actor, aid: int, key: str, filename: str = "policy.pdf", data: bytes = b""
    ) -> int:
        """One file on one answer (a small PDF when no data is given); returns its id."""
        with db.transaction(self.url) as s:
            return add_evidence(
                s,
                actor,
                aid,
                question_key=key,
                filename=filename,
                data=data or sample_pdf("Policy"),
                data_dir=self.data_dir,
            ).id

    def send_back(self, reviewer: Actor, aid: int, key: str, comment: str) -> None:
        """Claim, flag one answer with a comment and request changes, in one action."""
        with db.transaction(self.url) as s:
            review.claim(s, reviewer, aid)
            review.set_review_state(s, reviewer, aid, key, "needs_changes", comment=comment)
            review.request_changes(s, reviewer, aid)

    def decide(self, reviewer: Actor, aid: int, decision: str = "approved") -> None:
        """Claim and decide, as the review desk does."""
        with db.transaction(self.url) as s:
            review.claim(s, reviewer, aid)
            review.decide(s, reviewer, aid, decision)

    def snapshots(self, aid: int) -> list[ScoreHistory]:
        """The assessment's score snapshots, oldest first."""
        with db.reading(self.url) as s:
            return list(
                s.scalars(
                    select(ScoreHistory)
                    .where(ScoreHistory.assessment_id == aid)
                    .order_by(ScoreHistory.id)
                )
            )
