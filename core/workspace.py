"""One assessment as a user action needs it, loaded once and passed down: the row, its bank, its
stored answers and its questions' ids (one query, where separate reads had each read them again)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from core.access import Actor, can_read_assessment
from core.banks.model import Answer, Bank
from core.banks.store import load_bank
from core.errors import AccessDenied, NotFound
from core.models import Assessment, Question, Questionnaire, QuestionnaireResponse
from core.settings import get_settings


@dataclass(frozen=True)
class Workspace:
    """An assessment the actor may read, with what saving or submitting it needs."""

    assessment: Assessment
    bank: Bank
    question_ids: dict[str, int]
    responses: dict[str, QuestionnaireResponse]  # the stored rows, by question key
    answers: dict[str, Answer]  # the same, as answers


def require_readable(session: Session, actor: Actor, assessment: Assessment | None) -> Assessment:
    """The assessment, if it exists, is active and the actor may read it."""
    if assessment is None or not assessment.is_active:
        raise NotFound("That assessment does not exist.")
    # Only a lead reviewer's reach depends on a setting; nobody else's needs it read.
    visibility = (
        get_settings(session)["reviewer_visibility"] if actor.role == "lead_reviewer" else "all"
    )
    if not can_read_assessment(actor, assessment, visibility):
        raise AccessDenied("You do not have access to this assessment.")
    return assessment


def get_assessment(session: Session, actor: Actor, assessment_id: int) -> Assessment:
    """An assessment the actor may read."""
    return require_readable(session, actor, session.get(Assessment, assessment_id))


def load_workspace(session: Session, actor: Actor, assessment_id: int) -> Workspace:
    """The assessment with its bank and stored answers, read in one query."""
    rows = session.execute(
        select(
            Assessment,
            Questionnaire.content_sha256,
            Question.key,
            Question.id,
            QuestionnaireResponse,
        )
        .join(Questionnaire, Questionnaire.id == Assessment.questionnaire_id)
        .join(Question, Question.questionnaire_id == Assessment.questionnaire_id)
        .outerjoin(
            QuestionnaireResponse,
            and_(
                QuestionnaireResponse.question_id == Question.id,
                QuestionnaireResponse.assessment_id == Assessment.id,
            ),
        )
        .where(Assessment.id == assessment_id)
    ).all()
    assessment = require_readable(session, actor, rows[0][0] if rows else None)
    bank = load_bank(session, assessment.questionnaire_id, fingerprint=rows[0][1])
    responses = {key: row for _, _, key, _, row in rows if row is not None}
    return Workspace(
        assessment,
        bank,
        {key: qid for _, _, key, qid, _ in rows},
        responses,
        {key: Answer(r.value, r.is_na) for key, r in responses.items()},
    )
