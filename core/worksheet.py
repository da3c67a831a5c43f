"""Everything the questionnaire page shows for one assessment, read in one go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.assessments import can_edit
from core.banks.model import Bank
from core.banks.store import load_bank
from core.comments import Comment, list_comments
from core.evidence import EvidenceItem, list_evidence
from core.models import Product, Questionnaire
from core.responses import StoredAnswer, answer_details
from core.submission import MissingItem, SectionProgress, missing_items, section_progress
from core.workspace import get_assessment


@dataclass(frozen=True)
class Worksheet:
    """One assessment as its questionnaire page needs it."""

    assessment_id: int
    product: str
    questionnaire: str
    status: str
    cycle: int
    due_date: date | None
    completion: float
    latest_score: float | None
    editable: bool
    bank: Bank
    answers: dict[str, StoredAnswer]
    evidence: dict[str | None, list[EvidenceItem]]  # by question key
    comments: dict[str, list[Comment]]  # by question key
    general_comments: list[Comment]  # on the whole assessment
    progress: list[SectionProgress]
    missing: list[MissingItem]


def worksheet(session: Session, actor: Actor, assessment_id: int) -> Worksheet:
    """Load an assessment the actor may read, with answers, evidence, visible comments and progress."""
    a = get_assessment(session, actor, assessment_id)
    bank = load_bank(session, a.questionnaire_id)
    answers = answer_details(session, actor, a.id)
    stored = {k: d.answer for k, d in answers.items()}
    evidence: dict[str | None, list[EvidenceItem]] = {}
    for item in list_evidence(session, actor, a.id):
        evidence.setdefault(item.question_key, []).append(item)
    comments: dict[str, list[Comment]] = {}
    for c in list_comments(session, actor, a.id):
        comments.setdefault(c.question or "", []).append(c)
    product = session.scalars(select(Product.name).where(Product.id == a.product_id)).one()
    qn = session.get_one(Questionnaire, a.questionnaire_id)
    return Worksheet(
        a.id,
        product,
        f"{qn.title} v{qn.version}",
        a.status,
        a.cycle,
        a.due_date,
        a.completion,
        a.latest_score,
        can_edit(actor, a),
        bank,
        answers,
        evidence,
        comments,
        comments.pop("", []),
        section_progress(bank, stored),
        missing_items(session, a),
    )
