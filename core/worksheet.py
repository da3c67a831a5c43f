"""Everything the questionnaire page shows for one assessment, read in one go."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.assessments import can_edit
from core.banks.model import Answer, Bank
from core.banks.store import load_bank
from core.comments import list_comments
from core.evidence import list_evidence
from core.models import Product, Questionnaire
from core.responses import answer_details
from core.submission import missing_items, section_progress
from core.workspace import get_assessment


@dataclass(frozen=True)
class Worksheet:
    """One assessment as its questionnaire page needs it."""

    assessment_id: int
    product: str
    questionnaire: str
    status: str
    cycle: int
    due_date: object
    completion: float
    latest_score: float | None
    editable: bool
    bank: Bank
    answers: dict[str, dict]
    evidence: dict[str, list[dict]]
    comments: dict[str, list[dict]]
    general_comments: list[dict]
    progress: list[dict]
    missing: list[dict]


def worksheet(session: Session, actor: Actor, assessment_id: int) -> Worksheet:
    """Load an assessment the actor may read, with answers, evidence, visible comments and progress."""
    a = get_assessment(session, actor, assessment_id)
    bank = load_bank(session, a.questionnaire_id)
    answers = answer_details(session, actor, a.id)
    stored = {k: Answer(d["value"], d["is_na"]) for k, d in answers.items()}
    evidence: dict[str, list[dict]] = {}
    for item in list_evidence(session, actor, a.id):
        evidence.setdefault(item["question_key"], []).append(item)
    comments: dict[str, list[dict]] = {}
    for c in list_comments(session, actor, a.id):
        comments.setdefault(c["question"] or "", []).append(c)
    product = session.scalar(select(Product.name).where(Product.id == a.product_id))
    qn = session.get(Questionnaire, a.questionnaire_id)
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
