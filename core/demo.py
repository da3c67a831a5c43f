"""Demo data, built through the same core functions the pages use (shared by the CLI and tests)."""
from __future__ import annotations

import os
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import assessments, review
from core.access import SYSTEM, Actor
from core.assessments import AnswerInput
from core.auth import generate_password
from core.banks.answers import is_visible
from core.banks.model import Answer, Bank, Question
from core.banks.store import load_bank
from core.evidence import add_evidence, sample_pdf
from core.models import Questionnaire, utcnow
from core.products import create_product
from core.organizations import create_organization, organization_by_name
from core.users import create_user

PASSWORD_FILE = "demo_passwords.txt"
BASELINE_KEY = "securesphere-baseline"
ORGANISATIONS = (("Demo Corp", "Technology", "tier_2"), ("Enterprise Inc", "Financial services", "tier_1"))
ACCOUNTS = (  # username, name, role, organisation
    ("admin", "Ada Admin", "admin", None),
    ("lead_reviewer", "Lee Reviewer", "lead_reviewer", None),
    ("security_manager", "Sam Manager", "security_manager", None),
    ("analyst", "Ana Analyst", "analyst", None),
    ("demo_client", "Dana Client", "client", "Demo Corp"),
    ("enterprise_client", "Eli Client", "client", "Enterprise Inc"),
)
# product -> list of cycles: (answer quality 0-1, story, days ago the cycle started)
PRODUCTS = {
    "Demo Corp": {
        "Customer Portal": [(0.55, "approved_after_changes", 200), (0.8, "in_progress", 20)],
        "Mobile App": [(0.7, "submitted", 15)],
        "Internal HR System": [(0.0, "not_started", 3)],
    },
    "Enterprise Inc": {
        "Payments Gateway": [(0.6, "approved", 240), (0.75, "approved_after_changes", 120),
                             (0.9, "under_review", 10)],
        "Data Warehouse": [(0.5, "changes_requested", 45)],
        "Partner API": [(0.25, "rejected", 90)],
    },
}


def demo_exists(session: Session) -> bool:
    """True when the demo organisations were already created."""
    return organization_by_name(session, ORGANISATIONS[0][0]) is not None


def build_demo(session: Session, *, data_dir: Path, password: str | None, rounds: int = 12,
               now: datetime | None = None) -> dict[str, str]:
    """Create the demo organisations, accounts, products and assessment histories; returns passwords."""
    now = now or utcnow()
    orgs = {name: create_organization(session, SYSTEM, name=name, industry=industry, tier=tier).id
            for name, industry, tier in ORGANISATIONS}
    passwords = {}
    actors = {}
    for username, name, role, org in ACCOUNTS:
        passwords[username] = password or generate_password()
        user, _ = create_user(session, SYSTEM, username=username, name=name, role=role,
                              email=f"{username}@example.com", organization_id=orgs.get(org),
                              password=passwords[username], rounds=rounds, is_demo=True)
        actors[username] = Actor(user.id, username, role, user.organization_id)
    bank_id = session.scalar(select(Questionnaire.id).where(Questionnaire.key == BASELINE_KEY)
                             .order_by(Questionnaire.version.desc()).limit(1))
    clients = {"Demo Corp": actors["demo_client"], "Enterprise Inc": actors["enterprise_client"]}
    rng = random.Random(2026)
    for org, products in PRODUCTS.items():
        for product_name, cycles in products.items():
            product = create_product(session, clients[org], organization_id=orgs[org],
                                     name=product_name, description=f"{product_name} of {org}.")
            for quality, story, days_ago in cycles:
                _play_cycle(session, clients[org], actors["lead_reviewer"], product.id, bank_id,
                            quality, story, now - timedelta(days=days_ago), rng, data_dir, now)
    if not password:
        _write_passwords(data_dir, passwords)
    return passwords


def _write_passwords(data_dir: Path, passwords: dict[str, str]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / PASSWORD_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{user}: {pw}\n" for user, pw in passwords.items())
    os.chmod(path, 0o600)


def _play_cycle(session, client, reviewer, product_id, bank_id, quality, story, start, rng,
                data_dir, end) -> None:
    """Walk one assessment through its story, with timestamps spread from its start date."""
    # Up to 16 events per cycle, spread evenly between its start and today.
    step = (end - start) / 16
    when = iter(start + step * i for i in range(16))
    a = assessments.start_assessment(session, client, product_id=product_id,
                                     questionnaire_id=bank_id, now=next(when),
                                     due_date=(start + timedelta(days=30)).date())
    if story == "not_started":
        return
    bank = load_bank(session, bank_id)
    answers = demo_answers(bank, quality, rng, complete=story != "in_progress")
    assessments.save_answers(session, client, a.id, answers, now=next(when))
    attach_evidence(session, client, a.id, bank, answers, data_dir, now=next(when))
    if story == "in_progress":
        return
    assessments.submit(session, client, a.id, now=next(when))
    if story == "submitted":
        return
    review.claim(session, reviewer, a.id, now=next(when))
    if story in ("approved_after_changes", "changes_requested"):
        _request_changes(session, reviewer, a.id, bank, answers, when)
        if story == "changes_requested":
            return
        _resubmit(session, client, reviewer, a.id, when)
    if story == "under_review":
        return
    decision = "rejected" if story == "rejected" else "approved"
    note = "Too many gaps in access control and incident response." if decision == "rejected" else ""
    review.decide(session, reviewer, a.id, decision, note=note, now=next(when))


def _request_changes(session, reviewer, assessment_id, bank, answers, when) -> None:
    # Fixing a question that others depend on would reveal new required questions.
    referenced = {q.condition.question for q in bank.questions if q.condition}
    weak = [k for k, v in answers.items()
            if bank.question(k).type.startswith("yes_no") and v.value in ("no", "partial")
            and k not in referenced][:2]
    for key in weak:
        review.set_review_state(session, reviewer, assessment_id, key, "needs_changes", now=next(when),
                                comment="Please describe the control in place and attach evidence.")
    review.add_comment(session, reviewer, assessment_id, "Evidence for the weak answers looks thin.",
                       visibility="internal", now=next(when))
    review.request_changes(session, reviewer, assessment_id, note="Two answers need more detail.",
                           now=next(when))


def _resubmit(session, client, reviewer, assessment_id, when) -> None:
    flagged = review.flagged_keys(session, client, assessment_id)
    fixes = {k: AnswerInput(value="yes", justification="Control implemented since the last round.")
             for k in flagged}
    assessments.save_answers(session, client, assessment_id, fixes, now=next(when))
    review.add_comment(session, client, assessment_id, "Both controls are now in place; see the "
                       "updated justifications.", now=next(when))
    assessments.submit(session, client, assessment_id, now=next(when))
    review.claim(session, reviewer, assessment_id, now=next(when))


def attach_evidence(session: Session, actor: Actor, assessment_id: int, bank: Bank,
                    answers: dict[str, AnswerInput], data_dir: Path, *,
                    now: datetime | None = None) -> int:
    """Upload a small PDF for every answered question that requires evidence; returns how many."""
    keys = [k for k, a in answers.items() if bank.question(k).evidence_required and not a.is_na]
    for key in keys:
        add_evidence(session, actor, assessment_id, question_key=key, filename=f"{key}-evidence.pdf",
                     data=sample_pdf(f"Evidence for {key}"), data_dir=data_dir, now=now)
    return len(keys)


def demo_answers(bank: Bank, quality: float, rng: random.Random, *,
                 complete: bool = True) -> dict[str, AnswerInput]:
    """Plausible answers of a given quality (0-1) for every visible question, in bank order."""
    given: dict[str, Answer] = {}
    result = {}
    questions = bank.questions if complete else bank.questions[: len(bank.questions) // 2]
    for q in questions:
        if not is_visible(q, given, bank):
            continue
        value, is_na = _pick(q, quality, rng)
        given[q.key] = Answer(value, is_na)
        result[q.key] = AnswerInput(value=value, is_na=is_na)
    return result


def _pick(q: Question, quality: float, rng: random.Random) -> tuple[object, bool]:
    if q.allow_na and rng.random() < 0.1:
        return None, True
    if q.type == "number":
        low, high = q.min or 0, q.max if q.max is not None else 100
        return int(low + (high - low) * quality), False
    if q.type == "text":
        return "Documented in our security handbook, reviewed yearly.", False
    if q.type == "date":
        return (date.today() - timedelta(days=rng.randint(10, 300))).isoformat(), False
    ranked = sorted(q.options, key=lambda o: o.score or 0)
    level = min(len(ranked) - 1, max(0, round((quality + rng.uniform(-0.35, 0.35)) * (len(ranked) - 1))))
    if q.type == "multi_choice":
        return [o.key for o in ranked[: level + 1]][-2:], False
    return ranked[level].key, False
