"""Score snapshots: append-only rows in score_history, and the per-assessment summary."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor
from core.banks.model import Answer, Bank
from core.banks.store import load_bank
from core.models import Assessment, Question, QuestionnaireResponse, ScoreHistory, utcnow
from core.scoring import FORMULA_VERSION, ScoreResult, score_assessment
from core.settings import bands


def load_answers(session: Session, assessment_id: int) -> dict[str, Answer]:
    """The stored answers of an assessment, by question key."""
    rows = session.execute(
        select(Question.key, QuestionnaireResponse.value, QuestionnaireResponse.is_na)
        .join(Question, Question.id == QuestionnaireResponse.question_id)
        .where(QuestionnaireResponse.assessment_id == assessment_id)).all()
    return {key: Answer(value=value, is_na=is_na) for key, value, is_na in rows}


def current_result(session: Session, assessment: Assessment) -> tuple[Bank, ScoreResult]:
    """Score the assessment's answers as they stand, with today's bands."""
    bank = load_bank(session, assessment.questionnaire_id)
    return bank, score_assessment(bank, load_answers(session, assessment.id), bands(session))


def take_snapshot(session: Session, actor: Actor, assessment: Assessment, trigger: str, *,
                  now: datetime | None = None) -> ScoreHistory:
    """Append a snapshot of the current score and refresh the assessment's summary columns."""
    now = now or utcnow()
    _, result = current_result(session, assessment)
    used = {"bands": [list(b) for b in bands(session)]}
    row = ScoreHistory(assessment_id=assessment.id, overall_score=result.overall,
                       section_scores=dict(result.sections), band=result.band,
                       completion=result.completion, answered_count=result.answered,
                       total_count=result.total, trigger=trigger, actor_id=actor.user_id,
                       formula_version=FORMULA_VERSION, settings_used=used,
                       created_at=now, updated_at=now)
    session.add(row)
    assessment.latest_score, assessment.latest_band = result.overall, result.band
    assessment.completion = result.completion
    session.flush()
    audit.record(session, actor, "score_snapshot", object_type="assessment",
                 object_id=assessment.id, detail={"trigger": trigger, "overall": result.overall,
                                                  "band": result.band}, now=now)
    return row

