"""The client side of an assessment: start, answer, submit."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_org_write, scope_assessments, scope_to_org
from core.banks.answers import clean_justification, is_visible, validate_answer
from core.banks.model import Answer, Bank
from core.banks.store import load_bank
from core.errors import NotFound, ValidationError
from core.models import (
    Assessment,
    EvidenceFile,
    Product,
    Question,
    Questionnaire,
    QuestionnaireResponse,
    ScoreHistory,
    Section,
    utcnow,
)
from core.products import get_product
from core.scoring import score_assessment
from core.settings import bands, get_settings
from core.snapshots import ScoreInputs, load_answers
from core.workflow import EDITABLE, transition
from core.workspace import Workspace, load_workspace, require_readable

MAX_JUSTIFICATION = 5000


@dataclass(frozen=True)
class AnswerInput:
    """One answer as a page submits it."""

    value: object = None
    is_na: bool = False
    justification: str = ""


def get_assessment(session: Session, actor: Actor, assessment_id: int) -> Assessment:
    """An assessment the actor may read."""
    return require_readable(session, actor, session.get(Assessment, assessment_id))


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


def _save(
    session: Session,
    actor: Actor,
    ws: Workspace,
    answers: dict[str, AnswerInput],
    now: datetime | None,
) -> int:
    now = now or utcnow()
    assessment, bank = ws.assessment, ws.bank
    require_org_write(actor, assessment.organization_id)
    if assessment.status not in EDITABLE:
        raise ValidationError("This assessment is not open for answers in its current status.")
    merged = dict(ws.answers)
    cleaned = {}
    for key, given in answers.items():
        question = bank.question(key)
        given = replace(
            given, justification=clean_justification(key, given.justification, MAX_JUSTIFICATION)
        )
        value = validate_answer(question, given.value, given.is_na)
        cleaned[key] = (value, given)
        merged[key] = Answer(value=value, is_na=given.is_na)
    for key in cleaned:
        if not is_visible(bank.question(key), merged, bank) and not _is_blank(merged[key]):
            raise ValidationError(
                f"{key}: this question is hidden by an earlier answer and cannot be answered."
            )
    # The answers as they will be stored (a blank never stored counts as no answer either way);
    # bands play no part in completion or question scores.
    result = score_assessment(bank, merged)
    assessment.completion = result.completion  # before the status change: one UPDATE for both
    if assessment.status != "in_progress":
        transition(session, actor, assessment, "in_progress", now=now)
    written = _store(session, actor, ws, cleaned, result.question_scores, now)
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


def _is_blank(answer: Answer) -> bool:
    return answer.value is None and not answer.is_na


def _store(
    session: Session, actor: Actor, ws: Workspace, cleaned: dict, scores: dict, now: datetime
) -> list[str]:
    """Write the answers that differ from what is stored; the keys written. A blank input for a
    question never answered is no answer (an untouched widget's default) and stores nothing."""
    written, added = [], []
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
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        row.value, row.is_na, row.justification = new
        row.score = scores[key]
        if row.review_state == "needs_changes":
            row.review_state = "pending"  # addressed: back to the reviewer
        row.answered_by, row.answered_at, row.updated_at = actor.user_id, now, now
    if added:
        session.execute(insert(QuestionnaireResponse).execution_options(render_nulls=True), added)
    session.flush()
    return written


def can_edit(actor: Actor, assessment: Assessment) -> bool:
    """True when the actor may change this assessment's answers now."""
    own = actor.role == "admin" or (
        actor.is_client and actor.organization_id == assessment.organization_id
    )
    return own and assessment.status in EDITABLE


def section_progress(bank: Bank, answers: dict[str, Answer]) -> list[dict]:
    """Per section: required visible questions answered, of how many, and visible questions."""
    rows = []
    for section in bank.sections:
        visible = [q for q in section.questions if is_visible(q, answers, bank)]
        required = [q for q in visible if q.required]
        done = [q for q in required if not _is_blank(answers.get(q.key, Answer()))]
        rows.append(
            {
                "key": section.key,
                "title": section.title,
                "answered": len(done),
                "required": len(required),
                "visible": len(visible),
            }
        )
    return rows


def answer_details(session: Session, actor: Actor, assessment_id: int) -> dict[str, dict]:
    """Stored answers by question key, with justification and review state."""
    assessment = get_assessment(session, actor, assessment_id)
    rows = session.execute(
        select(Question.key, QuestionnaireResponse)
        .join(Question, Question.id == QuestionnaireResponse.question_id)
        .where(QuestionnaireResponse.assessment_id == assessment.id)
    ).all()
    return {
        key: {
            "value": r.value,
            "is_na": r.is_na,
            "justification": r.justification,
            "review_state": r.review_state,
            "score": r.score,
        }
        for key, r in rows
    }


def missing_items(
    session: Session,
    assessment: Assessment,
    *,
    bank: Bank | None = None,
    answers: dict[str, Answer] | None = None,
) -> list[dict]:
    """Required visible questions still unanswered, and answers still lacking required evidence
    (from the bank and stored answers given, when the caller loaded them already)."""
    bank = bank or load_bank(session, assessment.questionnaire_id)
    answers = load_answers(session, assessment.id) if answers is None else answers
    with_evidence = set(
        session.scalars(
            select(Question.key)
            .join(EvidenceFile, EvidenceFile.question_id == Question.id)
            .where(EvidenceFile.assessment_id == assessment.id, EvidenceFile.is_active)
        )
    )
    titles = {s.key: s.title for s in bank.sections}
    missing = []
    for q in bank.questions:
        if not is_visible(q, answers, bank):
            continue
        answer = answers.get(q.key, Answer())
        if q.required and _is_blank(answer):
            what = "answer"
        elif (
            q.evidence_required
            and not answer.is_na
            and not _is_blank(answer)
            and q.key not in with_evidence
        ):
            what = "evidence"
        else:
            continue
        missing.append(
            {
                "section": q.section_key,
                "section_title": titles[q.section_key],
                "key": q.key,
                "text": q.text,
                "what": what,
            }
        )
    return missing


def missing_message(missing: list[dict]) -> str:
    """Why a submission is refused, with counts that add up and the first gap by its text."""
    answers = sum(1 for m in missing if m["what"] == "answer")
    files = len(missing) - answers
    parts = [
        f"{n} {word}{'' if n == 1 else 's'}"
        for n, word in ((answers, "answer"), (files, "evidence file"))
        if n
    ]
    first = missing[0]
    need = "an answer" if first["what"] == "answer" else "evidence"
    return (
        f"Not submitted: {len(missing)} required answers or evidence files are missing "
        f'({" and ".join(parts)}). First: {need} for "{first["text"]}" in {first["section_title"]}.'
    )


def start_next_cycle(
    session: Session,
    actor: Actor,
    assessment_id: int,
    *,
    due_date: date | None = None,
    now: datetime | None = None,
) -> Assessment:
    """A new cycle of a closed assessment, pre-filled with its answers and justifications."""
    previous = get_assessment(session, actor, assessment_id)
    if previous.status not in ("approved", "rejected"):
        raise ValidationError(
            "A new cycle can start only after the current one is approved or rejected."
        )
    fresh = start_assessment(
        session,
        actor,
        product_id=previous.product_id,
        questionnaire_id=previous.questionnaire_id,
        due_date=due_date,
        now=now,
    )
    carried = {
        key: AnswerInput(value=d["value"], is_na=d["is_na"], justification=d["justification"])
        for key, d in answer_details(session, actor, previous.id).items()
    }
    if carried:
        save_answers(session, actor, fresh.id, carried, now=now)
    return fresh


def submit(
    session: Session, actor: Actor, assessment_id: int, *, now: datetime | None = None
) -> None:
    """Submit a complete assessment for review (status, timeline, snapshot, audit in one go)."""
    ws = load_workspace(session, actor, assessment_id)
    assessment = ws.assessment
    require_org_write(actor, assessment.organization_id)
    missing = missing_items(session, assessment, bank=ws.bank, answers=ws.answers)
    if missing:
        raise ValidationError(missing_message(missing))
    now = now or utcnow()
    inputs = ScoreInputs(ws.bank, ws.answers, bands(session))  # read before any change is pending
    if assessment.status == "changes_requested":  # sent back as it was (a reply in the comments)
        transition(session, actor, assessment, "in_progress", now=now)
    assessment.submitted_at = now
    transition(session, actor, assessment, "submitted", now=now, inputs=inputs)


def client_overview(session: Session, actor: Actor) -> list[dict]:
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
    return [dict(r._mapping) for r in session.execute(stmt)]


def count_by_status(session: Session, actor: Actor) -> dict[str, int]:
    """Assessments per status within the actor's scope."""
    stmt = (
        select(Assessment.status, func.count())
        .where(Assessment.is_active)
        .group_by(Assessment.status)
    )
    return dict(session.execute(scope_to_org(stmt, actor, Assessment.organization_id)).all())


def score_history(session: Session, actor: Actor, assessment_id: int) -> list[dict]:
    """Every snapshot of an assessment the actor may read, oldest first."""
    get_assessment(session, actor, assessment_id)
    rows = session.scalars(
        select(ScoreHistory)
        .where(ScoreHistory.assessment_id == assessment_id)
        .order_by(ScoreHistory.created_at, ScoreHistory.id)
    ).all()
    return [
        {
            "time": r.created_at,
            "overall": r.overall_score,
            "band": r.band,
            "completion": r.completion,
            "trigger": r.trigger,
            "sections": r.section_scores,
            "formula_version": r.formula_version,
        }
        for r in rows
    ]


def answer_rows(session: Session, actor: Actor, assessment_id: int) -> list[dict]:
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
        {
            "question": r.key,
            "text": r.text,
            "section": r.title,
            "value": r.value,
            "is_na": r.is_na,
            "justification": r.justification,
            "score": r.score,
            "review_state": r.review_state,
        }
        for r in rows
    ]
