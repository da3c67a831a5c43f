"""Saved score plans: the planner's planned answers and target for one assessment, kept so the
next cycle can start from them and the report can show them.

A plan never changes a stored answer or a score snapshot: it lives in its own table
(assessment_plans) and is only laid over the answers when projected (core/planner.py) or when a
next cycle starts from it (core.assessments.start_next_cycle). Anyone who may read the
assessment may read its plan; admins, lead reviewers and the organisation's own client users
may save or clear it (core.workspace.get_assessment decides who reads which assessment).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_role
from core.banks.answers import is_visible, validate_answer
from core.banks.model import Answer
from core.errors import NotFound, ValidationError
from core.models import AssessmentPlan, User, utcnow
from core.organizations import score_target
from core.planner import parse_target, target_text
from core.workspace import get_assessment, load_workspace

PLANNERS = ("admin", "lead_reviewer", "client")  # who may save or clear a plan
MAX_PLANNED = 5000  # planned answers in one plan (more than any bank's questions)


@dataclass(frozen=True)
class SavedPlan:
    """An assessment's saved plan: planned answers by question key, the target, who and when."""

    assessment_id: int
    planned: dict[str, Answer]
    target: float | str
    updated_at: datetime
    updated_by: str  # the user's name, or "system"


@dataclass(frozen=True)
class PlannerStart:
    """What the planner starts from: the saved plan if any, the target (the plan's, else the
    organisation's), and whether the actor may save or clear the plan."""

    saved: SavedPlan | None
    target: float | str
    may_save: bool


def may_plan(actor: Actor) -> bool:
    """True when the actor's role may save or clear plans (on assessments it may read)."""
    return actor.role in PLANNERS


def load_plan(session: Session, actor: Actor, assessment_id: int) -> SavedPlan | None:
    """The saved plan of an assessment the actor may read, or None when there is none."""
    get_assessment(session, actor, assessment_id)
    row = session.get(AssessmentPlan, assessment_id)
    if row is None:
        return None
    name = session.scalar(select(User.name).where(User.id == row.updated_by))
    return SavedPlan(
        assessment_id,
        {key: Answer(a.get("value"), bool(a.get("is_na"))) for key, a in row.planned.items()},
        parse_target(row.target),
        row.updated_at,
        name or "system",
    )


def planner_start(session: Session, actor: Actor, assessment_id: int) -> PlannerStart:
    """The saved plan, the target to start from and whether the actor may save (see PlannerStart)."""
    assessment = get_assessment(session, actor, assessment_id)
    saved = load_plan(session, actor, assessment_id)
    target = saved.target if saved else score_target(session, actor, assessment.organization_id)
    return PlannerStart(saved, target, may_plan(actor))


def save_plan(
    session: Session,
    actor: Actor,
    assessment_id: int,
    planned: Mapping[str, Answer],
    target: float | str,
    *,
    now: datetime | None = None,
) -> SavedPlan:
    """Save (replace) the assessment's plan: every planned answer is checked as an answer to its
    question would be, and nothing is written unless all are good. Stored answers and score
    snapshots are never touched."""
    require_role(actor, *PLANNERS)
    ws = load_workspace(session, actor, assessment_id)
    stored_target = target_text(target)
    if not planned:
        raise ValidationError("A plan needs at least one planned answer.")
    if len(planned) > MAX_PLANNED:
        raise ValidationError(f"A plan holds at most {MAX_PLANNED} planned answers.")
    cleaned: dict[str, Answer] = {}
    for key, answer in planned.items():
        try:
            question = ws.bank.question(key)
        except NotFound:
            raise ValidationError(f"Question {key!r} is not in this questionnaire.") from None
        value = validate_answer(question, answer.value, answer.is_na)
        if value is None and not answer.is_na:
            raise ValidationError(f"Question '{key}': a planned answer needs a value or N/A.")
        cleaned[key] = Answer(value, answer.is_na)
    merged = {**ws.answers, **cleaned}
    for key in cleaned:
        if not is_visible(ws.bank.question(key), merged, ws.bank):
            raise ValidationError(
                f"Question '{key}' is hidden by an earlier answer, with the plan laid over the "
                "answers, and cannot be planned."
            )
    now = now or utcnow()
    data = {key: {"value": a.value, "is_na": a.is_na} for key, a in cleaned.items()}
    row = session.get(AssessmentPlan, assessment_id)
    if row is None:
        row = AssessmentPlan(assessment_id=assessment_id, created_at=now)
        session.add(row)
    row.planned, row.target = data, stored_target  # a new dict: the JSON column sees the change
    row.updated_by, row.updated_at = actor.user_id, now
    session.flush()
    audit.record(
        session,
        actor,
        "score_plan_saved",
        object_type="assessment",
        object_id=assessment_id,
        detail={"questions": sorted(cleaned), "target": stored_target},
        now=now,
    )
    saved = load_plan(session, actor, assessment_id)
    assert saved is not None  # written just now
    return saved


def clear_plan(
    session: Session, actor: Actor, assessment_id: int, *, now: datetime | None = None
) -> bool:
    """Remove the assessment's saved plan; False when there was none."""
    require_role(actor, *PLANNERS)
    get_assessment(session, actor, assessment_id)
    row = session.get(AssessmentPlan, assessment_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor,
        "score_plan_cleared",
        object_type="assessment",
        object_id=assessment_id,
        now=now,
    )
    return True


def has_plan(session: Session, actor: Actor, assessment_id: int) -> bool:
    """True when the assessment (one the actor may read) has a saved plan."""
    get_assessment(session, actor, assessment_id)
    return session.get(AssessmentPlan, assessment_id) is not None
