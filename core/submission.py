"""Submitting an assessment: section progress, what is still missing, and the submission itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import notify_events
from core.access import Actor, require_org_write
from core.banks.answers import is_visible
from core.banks.model import Answer, Bank
from core.banks.store import load_bank
from core.errors import ValidationError
from core.models import Assessment, EvidenceFile, Question, utcnow
from core.responses import is_blank
from core.settings import bands
from core.snapshots import ScoreInputs, load_answers
from core.workflow import transition
from core.workspace import load_workspace


@dataclass(frozen=True)
class SectionProgress:
    """One section's required visible questions answered, of how many, and its visible questions."""

    key: str
    title: str
    answered: int
    required: int
    visible: int


@dataclass(frozen=True)
class MissingItem:
    """A visible question that stops a submission: it needs an answer, or evidence."""

    section: str
    section_title: str
    key: str
    text: str
    what: str  # "answer" or "evidence"


def section_progress(bank: Bank, answers: dict[str, Answer]) -> list[SectionProgress]:
    """Per section: required visible questions answered, of how many, and visible questions."""
    rows = []
    for section in bank.sections:
        visible = [q for q in section.questions if is_visible(q, answers, bank)]
        required = [q for q in visible if q.required]
        done = [q for q in required if not is_blank(answers.get(q.key, Answer()))]
        rows.append(
            SectionProgress(section.key, section.title, len(done), len(required), len(visible))
        )
    return rows


def missing_items(
    session: Session,
    assessment: Assessment,
    *,
    bank: Bank | None = None,
    answers: dict[str, Answer] | None = None,
) -> list[MissingItem]:
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
        if q.required and is_blank(answer):
            what = "answer"
        elif (
            q.evidence_required
            and not answer.is_na
            and not is_blank(answer)
            and q.key not in with_evidence
        ):
            what = "evidence"
        else:
            continue
        missing.append(MissingItem(q.section_key, titles[q.section_key], q.key, q.text, what))
    return missing


def missing_message(missing: list[MissingItem]) -> str:
    """Why a submission is refused, with counts that add up and the first gap by its text."""
    answers = sum(1 for m in missing if m.what == "answer")
    files = len(missing) - answers
    parts = [
        f"{n} {word}{'' if n == 1 else 's'}"
        for n, word in ((answers, "answer"), (files, "evidence file"))
        if n
    ]
    first = missing[0]
    need = "an answer" if first.what == "answer" else "evidence"
    return (
        f"Not submitted: {len(missing)} required answers or evidence files are missing "
        f'({" and ".join(parts)}). First: {need} for "{first.text}" in {first.section_title}.'
    )


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
    notify_events.on_submitted(session, actor, assessment, now)
