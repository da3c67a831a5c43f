"""Assessment cycles: start one, start the next from the last one's answers, and list them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_org_write, scope_assessments, scope_to_org
from core.banks.answers import is_visible
from core.banks.model import Answer
from core.banks.store import load_bank
from core.errors import NotFound, ValidationError
from core.models import Assessment, Product, Questionnaire, ScoreHistory, utcnow
from core.plans import load_plan
from core.products import get_product
from core.responses import AnswerInput, answer_details, save_answers
from core.settings import get_settings
from core.workflow import EDITABLE
from core.workspace import get_assessment


@dataclass(frozen=True)
class AssessmentSummary:
    """One assessment in a list: product, questionnaire version, cycle, status, progress, score."""

    id: int
    product: str
    questionnaire: str
    version: int
    cycle: int
    status: str
    completion: float
    latest_score: float | None
    latest_band: str | None
    due_date: date | None
    updated_at: datetime


@dataclass(frozen=True)
class ScoreSnapshot:
    """One score snapshot of an assessment: when, the scores, and what triggered it."""

    time: datetime
    overall: float | None
    band: str | None
    completion: float
    trigger: str
    sections: dict[str, Any]
    formula_version: str


def start_assessment(
    session: Session,
    actor: Actor,
    *,
    product_id: int,
    questionnaire_id: int,
    due_date: date | None = None,
    now: datetime | None = None,
) -> Assessment:
    """Start a new cycle of a product against a questionnaire version."""
    now = now or utcnow()
    product = get_product(session, actor, product_id)
    require_org_write(actor, product.organization_id)
    if session.get(Questionnaire, questionnaire_id) is None:
        raise NotFound("That questionnaire does not exist.")
    previous = session.scalar(
        select(Assessment)
        .where(Assessment.product_id == product_id, Assessment.questionnaire_id == questionnaire_id)
        .order_by(Assessment.cycle.desc())
        .limit(1)
    )
    if previous is not None and previous.status not in ("approved", "rejected"):
        raise ValidationError("This product already has an open assessment on that questionnaire.")
    assessment = Assessment(
        product_id=product_id,
        questionnaire_id=questionnaire_id,
        organization_id=product.organization_id,
        status="not_started",
        cycle=previous.cycle + 1 if previous else 1,
        previous_id=previous.id if previous else None,
        created_by=actor.user_id,
        due_date=due_date,
        created_at=now,
        updated_at=now,
    )
    session.add(assessment)
    session.flush()
    audit.record(
        session,
        actor,
        "assessment_started",
        object_type="assessment",
        object_id=assessment.id,
        detail={"product_id": product_id, "questionnaire_id": questionnaire_id},
        now=now,
    )
    return assessment


def start_next_cycle(
    session: Session,
    actor: Actor,
    assessment_id: int,
    *,
    due_date: date | None = None,
    from_plan: bool = False,
    now: datetime | None = None,
) -> Assessment:
    """A new cycle of a closed assessment, pre-filled with its answers and justifications; with
    from_plan, its saved plan's answers are laid over them (core/plans.py). The answers go in
    through save_answers, so they are checked and scored as any answer; an answer to a question
    the new answers hide is left out (it would count nowhere)."""
    previous = get_assessment(session, actor, assessment_id)
    if previous.status not in ("approved", "rejected"):
        raise ValidationError(
            "A new cycle can start only after the current one is approved or rejected."
        )
    plan = load_plan(session, actor, previous.id) if from_plan else None
    if from_plan and plan is None:
        raise ValidationError("This assessment has no saved plan to start the next cycle from.")
    fresh = start_assessment(
        session,
        actor,
        product_id=previous.product_id,
        questionnaire_id=previous.questionnaire_id,
        due_date=due_date,
        now=now,
    )
    carried = {
        key: AnswerInput(value=d.value, is_na=d.is_na, justification=d.justification)
        for key, d in answer_details(session, actor, previous.id).items()
    }
    for key, planned in (plan.planned if plan else {}).items():
        kept = carried.get(key, AnswerInput()).justification
        carried[key] = AnswerInput(value=planned.value, is_na=planned.is_na, justification=kept)
    if carried:  # an answer's question key is in the bank: the new cycle answers the same version
        bank = load_bank(session, fresh.questionnaire_id)
        merged = {key: Answer(a.value, a.is_na) for key, a in carried.items()}
        shown = {k: a for k, a in carried.items() if is_visible(bank.question(k), merged, bank)}
        if shown:
            save_answers(session, actor, fresh.id, shown, now=now)
    return fresh


def can_edit(actor: Actor, assessment: Assessment) -> bool:
    """True when the actor may change this assessment's answers now."""
    own = actor.role == "admin" or (
        actor.is_client and actor.organization_id == assessment.organization_id
    )
    return own and assessment.status in EDITABLE


def client_overview(session: Session, actor: Actor) -> list[AssessmentSummary]:
    """One row per assessment the actor may read: product, questionnaire, status, progress, score."""
    stmt = (
        select(
            Assessment.id,
            Product.name.label("product"),
            Questionnaire.title.label("questionnaire"),
            Questionnaire.version,
            Assessment.cycle,
            Assessment.status,
            Assessment.completion,
            Assessment.latest_score,
            Assessment.latest_band,
            Assessment.due_date,
            Assessment.updated_at,
        )
        .join(Product, Product.id == Assessment.product_id)
        .join(Questionnaire, Questionnaire.id == Assessment.questionnaire_id)
        .where(Assessment.is_active)
        .order_by(Product.name, Assessment.cycle.desc())
    )
    stmt = scope_assessments(stmt, actor, get_settings(session)["reviewer_visibility"], Assessment)
    return [AssessmentSummary(**r._mapping) for r in session.execute(stmt)]


def count_by_status(session: Session, actor: Actor) -> dict[str, int]:
    """Assessments per status within the actor's scope."""
    stmt = (
        select(Assessment.status, func.count())
        .where(Assessment.is_active)
        .group_by(Assessment.status)
    )
    return dict(session.execute(scope_to_org(stmt, actor, Assessment.organization_id)).all())


def score_history(session: Session, actor: Actor, assessment_id: int) -> list[ScoreSnapshot]:
    """Every snapshot of an assessment the actor may read, oldest first."""
    get_assessment(session, actor, assessment_id)
    rows = session.scalars(
        select(ScoreHistory)
        .where(ScoreHistory.assessment_id == assessment_id)
        .order_by(ScoreHistory.created_at, ScoreHistory.id)
    ).all()
    return [
        ScoreSnapshot(
            time=r.created_at,
            overall=r.overall_score,
            band=r.band,
            completion=r.completion,
            trigger=r.trigger,
            sections=r.section_scores,
            formula_version=r.formula_version,
        )
        for r in rows
    ]
