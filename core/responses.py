"""Answers to an assessment's questions: validate and store them, and read them back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core import audit, read_model
from core.access import Actor, require_org_write
from core.banks.answers import clean_justification, is_visible, validate_answer
from core.banks.model import Answer
from core.errors import ValidationError
from core.models import Question, QuestionnaireResponse, Section, utcnow
from core.scoring import score_assessment
from core.workflow import EDITABLE, transition
from core.workspace import Workspace, get_assessment, load_workspace

MAX_JUSTIFICATION = 5000


@dataclass(frozen=True)
class AnswerInput:
    """One answer as a page submits it."""

    value: object = None
    is_na: bool = False
    justification: str = ""


@dataclass(frozen=True)
class StoredAnswer:
    """One stored answer with its justification, question score and review state."""

    value: object
    is_na: bool
    justification: str
    review_state: str
    score: float | None
    origin: dict[str, Any] | None = None  # where a carried, confirmed or reused answer came from

    @property
    def answer(self) -> Answer:
        """The value and N/A mark alone, as scoring and visibility read them."""
        return Answer(self.value, self.is_na)


@dataclass(frozen=True)
class AnswerRow:
    """One stored answer with its question and section, in bank order (the answers extract)."""

    question: str
    text: str
    section: str
    value: object
    is_na: bool
    justification: str
    score: float | None
    review_state: str


# A validated value with the input it came from, by question key.
Cleaned = dict[str, tuple[object, AnswerInput]]


def save_answers(
    session: Session,
    actor: Actor,
    assessment_id: int,
    answers: dict[str, AnswerInput],
    *,
    now: datetime | None = None,
) -> int:
    """Validate and store answers (by question key) in one go; returns how many changed."""
    return _save(session, actor, load_workspace(session, actor, assessment_id), answers, now)


def save_with_origins(
    session: Session,
    actor: Actor,
    assessment_id: int,
    answers: dict[str, AnswerInput],
    origins: Mapping[str, dict[str, Any]],
    *,
    now: datetime | None = None,
) -> int:
    """save_answers for answers that came from elsewhere (a pre-fill, a confirmed proposal, a
    reused answer), each stored with where it came from."""
    ws = load_workspace(session, actor, assessment_id)
    return _save(session, actor, ws, answers, now, origins)


def _save(
    session: Session,
    actor: Actor,
    ws: Workspace,
    answers: dict[str, AnswerInput],
    now: datetime | None,
    origins: Mapping[str, dict[str, Any]] | None = None,
) -> int:
    now = now or utcnow()
    assessment, bank = ws.assessment, ws.bank
    require_org_write(actor, assessment.organization_id)
    if assessment.status not in EDITABLE:
        raise ValidationError("This assessment is not open for answers in its current status.")
    merged = dict(ws.answers)
    cleaned: Cleaned = {}
    for key, given in answers.items():
        question = bank.question(key)
        given = replace(
            given, justification=clean_justification(key, given.justification, MAX_JUSTIFICATION)
        )
        value = validate_answer(question, given.value, given.is_na)
        cleaned[key] = (value, given)
        merged[key] = Answer(value=value, is_na=given.is_na)
    for key in cleaned:
        if not is_visible(bank.question(key), merged, bank) and not is_blank(merged[key]):
            raise ValidationError(
                f"{key}: this question is hidden by an earlier answer and cannot be answered."
            )
    # The answers as they will be stored (a blank never stored counts as no answer either way);
    # bands play no part in completion or question scores.
    result = score_assessment(bank, merged)
    assessment.completion = result.completion  # before the status change: one UPDATE for both
    if assessment.status != "in_progress":
        transition(session, actor, assessment, "in_progress", now=now)
    written = _store(session, actor, ws, cleaned, result.question_scores, now, origins or {})
    audit.record(
        session,
        actor,
        "answers_saved",
        object_type="assessment",
        object_id=assessment.id,
        detail={"questions": sorted(written), "changed": len(written)},
        now=now,
    )
    return len(written)


def save_section(
    session: Session,
    actor: Actor,
    assessment_id: int,
    section_key: str,
    answers: dict[str, AnswerInput],
    *,
    now: datetime | None = None,
) -> int:
    """Save one section's answers as the page holds them; answers to questions that these very
    answers hide are left as they are stored (they count nowhere while hidden)."""
    ws = load_workspace(session, actor, assessment_id)
    bank = ws.bank
    keys = {q.key for q in bank.section(section_key).questions}
    if set(answers) - keys:
        raise ValidationError(f"{sorted(set(answers) - keys)[0]} is not in section {section_key}.")
    merged = ws.answers | {k: Answer(a.value, a.is_na) for k, a in answers.items()}
    visible = {k: a for k, a in answers.items() if is_visible(bank.question(k), merged, bank)}
    return _save(session, actor, ws, visible, now)


def is_blank(answer: Answer) -> bool:
    """True for no answer at all: no value and not marked N/A."""
    return answer.value is None and not answer.is_na


def _store(
    session: Session,
    actor: Actor,
    ws: Workspace,
    cleaned: Cleaned,
    scores: dict[str, float | None],
    now: datetime,
    origins: Mapping[str, dict[str, Any]],
) -> list[str]:
    """Write the answers that differ from what is stored; the keys written. A blank input for a
    question never answered is no answer (an untouched widget's default) and stores nothing.
    An answer given with an origin (carried, confirmed, reused) keeps it; an answer changed
    later keeps its origin too, so "changed after carrying" can be told."""
    written: list[str] = []
    added: list[dict[str, object]] = []
    for key, (value, given) in cleaned.items():
        row = ws.responses.get(key)
        new = (value, given.is_na, (given.justification or "").strip())
        if row is None and new == (None, False, ""):
            continue
        if row is not None and (row.value, row.is_na, row.justification) == new:
            continue
        written.append(key)
        if row is None:  # new rows go in as one statement, not one each
            added.append(
                {
                    "assessment_id": ws.assessment.id,
                    "question_id": ws.question_ids[key],
                    "value": value,
                    "is_na": given.is_na,
                    "justification": new[2],
                    "score": scores[key],
                    "answered_by": actor.user_id,
                    "answered_at": now,
                    "origin": origins.get(key),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        row.value, row.is_na, row.justification = new
        row.score = scores[key]
        # addressed, or changed after an acceptance: back to the reviewer (core/assurance.py)
        row.review_state = "pending"
        row.answered_by, row.answered_at, row.updated_at = actor.user_id, now, now
        if key in origins:
            row.origin = origins[key]
    if added:
        session.execute(insert(QuestionnaireResponse).execution_options(render_nulls=True), added)
        read_model.touch(session, ws.assessment)
    session.flush()
    return written


def answer_details(session: Session, actor: Actor, assessment_id: int) -> dict[str, StoredAnswer]:
    """Stored answers by question key, with justification, score and review state."""
    assessment = get_assessment(session, actor, assessment_id)
    rows = session.execute(
        select(Question.key, QuestionnaireResponse)
        .join(Question, Question.id == QuestionnaireResponse.question_id)
        .where(QuestionnaireResponse.assessment_id == assessment.id)
    ).all()
    return {
        key: StoredAnswer(r.value, r.is_na, r.justification, r.review_state, r.score, r.origin)
        for key, r in rows
    }


def answer_rows(session: Session, actor: Actor, assessment_id: int) -> list[AnswerRow]:
    """The stored answers of an assessment the actor may read, in bank order."""
    assessment = get_assessment(session, actor, assessment_id)
    rows = session.execute(
        select(
            Question.key,
            Question.text,
            Section.title,
            QuestionnaireResponse.value,
            QuestionnaireResponse.is_na,
            QuestionnaireResponse.justification,
            QuestionnaireResponse.score,
            QuestionnaireResponse.review_state,
        )
        .join(Question, Question.id == QuestionnaireResponse.question_id)
        .join(Section, Section.id == Question.section_id)
        .where(QuestionnaireResponse.assessment_id == assessment.id)
        .order_by(Section.position, Question.position)
    ).all()
    return [
        AnswerRow(
            question=r.key,
            text=r.text,
            section=r.title,
            value=r.value,
            is_na=r.is_na,
            justification=r.justification,
            score=r.score,
            review_state=r.review_state,
        )
        for r in rows
    ]
