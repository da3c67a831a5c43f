"""Demo data, built through the same core functions the pages use (shared by the CLI and tests)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import assessments, comments, responses, review, submission
from core.access import SYSTEM, Actor
from core.banks.model import Bank, Question
from core.banks.question_types import QUESTION_TYPES
from core.banks.store import load_bank
from core.demo_accounts import create_accounts, write_passwords
from core.demo_content import accept_answers, attach_evidence, demo_answers
from core.demo_plan import (
    ACCOUNTS,
    ASVS,
    BASELINE,
    CSF,
    CYCLE_DAYS,
    MEMBERS,
    NEXT_FRAMEWORK,
    ORGANISATIONS,
    SP800_53_LOW,
    Cycle,
    demo_plan,
)
from core.errors import ValidationError
from core.models import Questionnaire, utcnow
from core.organizations import create_organization, organization_by_name
from core.passwords import generate_password
from core.products import create_product
from core.responses import AnswerInput
from core.settings import update_setting

APPROVED_NOTE = "Approved: the controls are in place. Re-assess within a year."
REJECTED_NOTE = "Too many gaps in access control and incident response."


def demo_exists(session: Session) -> bool:
    """True when the demo organisations were already created."""
    return organization_by_name(session, ORGANISATIONS[0].name) is not None


def build_demo(
    session: Session,
    *,
    data_dir: Path,
    password: str | None,
    rounds: int = 12,
    now: datetime | None = None,
) -> dict[str, str]:
    """Create the demo organisations, accounts, products and assessment histories; returns passwords."""
    now = now or utcnow()
    orgs = {
        o.name: create_organization(
            session, SYSTEM, name=o.name, industry=o.industry, tier=o.tier
        ).id
        for o in ORGANISATIONS
    }
    passwords = {a.username: password or generate_password() for a in ACCOUNTS}
    actors = create_accounts(session, orgs, passwords, rounds)
    clients = {
        a.organization: actors[a.username]
        for a in ACCOUNTS
        if a.role == "client" and a.organization
    }
    clients |= {m.organization: actors[m.username] for m in MEMBERS}
    banks = {key: _newest_bank(session, key) for key in (BASELINE, ASVS, CSF, SP800_53_LOW)}
    rng = random.Random(2026)
    products: dict[tuple[str, str], int] = {}
    for plan in demo_plan():
        client = clients[plan.organization]
        product = create_product(
            session,
            client,
            organization_id=orgs[plan.organization],
            name=plan.name,
            description=f"{plan.name} of {plan.organization}.",
        )
        products[plan.organization, plan.name] = product.id
        previous = None  # each cycle after the first starts from the one before
        for cycle in plan.cycles:
            story = Story(product.id, banks[plan.bank], previous, cycle)
            previous = _play_cycle(
                session, client, actors["lead_reviewer"], story, rng, data_dir, now
            )
    for org, name, bank, days_ago in NEXT_FRAMEWORK:
        story = Story(products[org, name], banks[bank], None, Cycle(0.0, "not_started", days_ago))
        _play_cycle(session, clients[org], actors["lead_reviewer"], story, rng, data_dir, now)
    # Every demo role can be tried without an authenticator app; README says how to require it.
    update_setting(session, SYSTEM, "second_factor_roles", [], now=now)
    if not password:
        write_passwords(data_dir, passwords)
    return passwords


def _newest_bank(session: Session, key: str) -> int:
    return session.scalars(
        select(Questionnaire.id)
        .where(Questionnaire.key == key)
        .order_by(Questionnaire.version.desc())
        .limit(1)
    ).one()


@dataclass(frozen=True)
class Story:
    """One cycle of a product to play: its bank, the cycle before it, and what happens."""

    product_id: int
    bank_id: int
    previous: int | None  # the product's last closed assessment, for start_next_cycle
    cycle: Cycle


def _clock(start: datetime, end: datetime) -> Iterator[datetime]:
    """16 event times from the cycle's start, spread over CYCLE_DAYS and never past `end`."""
    step = min(end - start, timedelta(days=CYCLE_DAYS)) / 16
    return iter(start + step * i for i in range(16))


def _open_cycle(session: Session, client: Actor, story: Story, when: Iterator[datetime]) -> int:
    start = next(when)
    due = (start + timedelta(days=30)).date()
    if story.previous is None:
        return assessments.start_assessment(
            session,
            client,
            product_id=story.product_id,
            questionnaire_id=story.bank_id,
            now=start,
            due_date=due,
        ).id
    return assessments.start_next_cycle(session, client, story.previous, now=start, due_date=due).id


def _play_cycle(
    session: Session,
    client: Actor,
    reviewer: Actor,
    story: Story,
    rng: random.Random,
    data_dir: Path,
    end: datetime,
) -> int:
    """Walk one assessment through its story with times from its start date; returns its id."""
    plan = story.cycle
    when = _clock(end - timedelta(days=plan.days_ago), end)
    aid = _open_cycle(session, client, story, when)
    if plan.story == "not_started":
        return aid
    bank = load_bank(session, story.bank_id)
    answers = demo_answers(bank, plan.quality, rng, complete=plan.story != "in_progress")
    # A new cycle starts from the last one's answers; those this round leaves out are cleared.
    carried = responses.answer_details(session, client, aid)
    cleared = {key: AnswerInput() for key in carried if key not in answers}
    responses.save_answers(session, client, aid, cleared | answers, now=next(when))
    attach_evidence(session, client, aid, bank, answers, data_dir, now=next(when))
    if plan.story != "in_progress":
        submission.submit(session, client, aid, now=next(when))
        _review(session, client, reviewer, aid, bank, answers, plan.story, when)
    return aid


def _review(
    session: Session,
    client: Actor,
    reviewer: Actor,
    aid: int,
    bank: Bank,
    answers: dict[str, AnswerInput],
    story: str,
    when: Iterator[datetime],
) -> None:
    """From submission on: claim, a change-request loop if the story has one, the decision."""
    if story == "submitted":
        return
    review.claim(session, reviewer, aid, now=next(when))
    if story in LOOPS:
        loop = LOOPS[story]
        _request_changes(session, reviewer, aid, bank, answers, when, loop)
        if story == "changes_requested":
            return
        _resubmit(session, client, aid, when, loop)
        if story == "corrected":  # back with the reviewers, scored lower than first submitted
            return
        review.claim(session, reviewer, aid, now=next(when))
    # Reviewers accept what they checked: most answers before a decision, some while reviewing.
    accept_answers(session, reviewer, aid, answers, 0.3 if story == "under_review" else 0.7)
    if story != "under_review":
        decision = "rejected" if story == "rejected" else "approved"
        review.decide(
            session,
            reviewer,
            aid,
            decision,
            now=next(when),
            note=REJECTED_NOTE if decision == "rejected" else APPROVED_NOTE,
        )


@dataclass(frozen=True)
class Loop:
    """One change-request round: which answers the reviewer flags and how the client answers."""

    flags: int
    first: tuple[str, ...]  # answer values the reviewer questions first
    comment: str
    fix: AnswerInput
    reply: str


IMPROVE = Loop(
    2,
    ("no", "partial"),
    "Please describe the control in place and attach evidence.",
    AnswerInput(value="yes", justification="Control implemented since the last round."),
    "Both controls are now in place; see the updated justifications.",
)
CORRECT = Loop(
    4,
    ("yes",),
    "This looks overstated: show the control in place or correct the answer.",
    AnswerInput(value="no", justification="Not in place after all; planned for next quarter."),
    "Corrected: these controls are not in place yet.",
)
LOOPS = {"approved_after_changes": IMPROVE, "changes_requested": IMPROVE, "corrected": CORRECT}


def _fixable(question: Question, fix: AnswerInput) -> bool:
    """True when the question is scored and its type takes the loop's fix as an answer: the
    yes/no questions (a yes/no/partial one too), whose answer the client can change to it."""
    qtype = QUESTION_TYPES[question.type]
    try:
        qtype.validate(question, fix.value)
    except ValidationError:
        return False
    return qtype.scored


def _request_changes(
    session: Session,
    reviewer: Actor,
    assessment_id: int,
    bank: Bank,
    answers: dict[str, AnswerInput],
    when: Iterator[datetime],
    loop: Loop,
) -> None:
    # Changing a question that others depend on would reveal or hide other questions.
    referenced = {q.condition.question for q in bank.questions if q.condition}
    fixable = [
        k
        for k, v in answers.items()
        if not v.is_na and k not in referenced and _fixable(bank.question(k), loop.fix)
    ]
    # The answers the loop is about first; failing those, any answer it can fix is questioned.
    flagged = sorted(fixable, key=lambda k: answers[k].value not in loop.first)[: loop.flags]
    for key in flagged:
        review.set_review_state(
            session,
            reviewer,
            assessment_id,
            key,
            "needs_changes",
            comment=loop.comment,
            now=next(when),
        )
    comments.add_comment(
        session,
        reviewer,
        assessment_id,
        "Evidence for these answers looks thin.",
        visibility="internal",
        now=next(when),
    )
    review.request_changes(
        session,
        reviewer,
        assessment_id,
        now=next(when),
        note=f"{len(flagged)} answers need another look; see the comments on them.",
    )


def _resubmit(
    session: Session, client: Actor, assessment_id: int, when: Iterator[datetime], loop: Loop
) -> None:
    flagged = review.flagged_keys(session, client, assessment_id)
    responses.save_answers(
        session, client, assessment_id, dict.fromkeys(flagged, loop.fix), now=next(when)
    )
    comments.add_comment(session, client, assessment_id, loop.reply, now=next(when))
    submission.submit(session, client, assessment_id, now=next(when))
