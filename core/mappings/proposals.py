"""Proposed answers: what a pre-fill drew from a subset-of or intersects-with source. They count
nowhere until the client confirms one, which stores it as an answer with its origin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_org_write
from core.errors import NotFound
from core.models import AnswerProposal, Question, QuestionnaireResponse, utcnow
from core.responses import AnswerInput, save_with_origins
from core.workspace import get_assessment


@dataclass(frozen=True)
class Proposal:
    """A proposed answer to one question, with where it came from."""

    question: str
    value: object
    is_na: bool
    origin: dict[str, Any]


def list_proposals(session: Session, actor: Actor, assessment_id: int) -> dict[str, Proposal]:
    """Open proposals by question key: those whose question has no answer stored yet."""
    assessment = get_assessment(session, actor, assessment_id)
    answered = select(QuestionnaireResponse.question_id).where(
        QuestionnaireResponse.assessment_id == assessment.id,
        (QuestionnaireResponse.value.is_not(None)) | QuestionnaireResponse.is_na,
    )
    rows = session.execute(
        select(Question.key, AnswerProposal)
        .join(Question, Question.id == AnswerProposal.question_id)
        .where(
            AnswerProposal.assessment_id == assessment.id,
            AnswerProposal.question_id.not_in(answered),
        )
        .order_by(Question.position)
    ).all()
    return {key: Proposal(key, p.value, p.is_na, p.origin) for key, p in rows}


def _proposal(session: Session, actor: Actor, assessment_id: int, key: str) -> AnswerProposal:
    assessment = get_assessment(session, actor, assessment_id)
    require_org_write(actor, assessment.organization_id)
    row = session.scalar(
        select(AnswerProposal)
        .join(Question, Question.id == AnswerProposal.question_id)
        .where(AnswerProposal.assessment_id == assessment.id, Question.key == key)
    )
    if row is None:
        raise NotFound(f"There is no proposed answer to question '{key}'.")
    return row


def confirm_proposal(
    session: Session, actor: Actor, assessment_id: int, key: str, *, now: datetime | None = None
) -> None:
    """Store the proposed answer as the client's answer (validated like any answer)."""
    now = now or utcnow()
    row = _proposal(session, actor, assessment_id, key)
    origin = {**row.origin, "kind": "confirmed", "confirmed_at": now.isoformat()}
    answers = {key: AnswerInput(row.value, row.is_na)}
    save_with_origins(session, actor, assessment_id, answers, {key: origin}, now=now)
    session.delete(row)
    session.flush()


def dismiss_proposal(session: Session, actor: Actor, assessment_id: int, key: str) -> None:
    """Drop a proposed answer; the question stays unanswered."""
    row = _proposal(session, actor, assessment_id, key)
    session.delete(row)
    audit.record(
        session,
        actor,
        "proposal_dismissed",
        object_type="assessment",
        object_id=assessment_id,
        detail={"question": key},
    )
    session.flush()
