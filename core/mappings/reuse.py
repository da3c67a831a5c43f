"""Answers reused within a client: what the organisation answered before, for another product,
to the same question (same bank key and question key) or to a mapped one, offered in one click
and stored with its origin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, require_org_write
from core.banks.model import Answer
from core.banks.store import load_bank
from core.errors import NotFound
from core.mappings.credit import translate
from core.mappings.provenance import label
from core.models import (
    Assessment,
    EvidenceFile,
    MappingLink,
    MappingSet,
    Product,
    Question,
    Questionnaire,
    QuestionnaireResponse,
    utcnow,
)
from core.responses import AnswerInput, save_with_origins
from core.workspace import load_workspace

PER_QUESTION = 3  # the newest answers offered per question


@dataclass(frozen=True)
class Reuse:
    """An earlier answer of the organisation that fits a question of this assessment."""

    question: str  # the question of this assessment it answers
    answer: Answer  # as an answer to that question
    origin: dict[str, Any]


def reusable_answers(session: Session, actor: Actor, assessment_id: int) -> dict[str, list[Reuse]]:
    """Earlier answers of the organisation's other products, newest first, by question key."""
    ws = load_workspace(session, actor, assessment_id)
    require_org_write(actor, ws.assessment.organization_id)
    bank = ws.bank
    mapped = session.execute(
        select(
            MappingSet.source_bank,
            MappingLink.source_key,
            MappingLink.target_key,
            MappingLink.relationship,
            MappingSet.title,
        )
        .join(MappingSet, MappingSet.id == MappingLink.mapping_set_id)
        .where(
            MappingSet.is_active,
            MappingSet.target_bank == bank.key,
            MappingLink.relationship != "no-relationship",
        )
    ).all()
    # (bank key, question key) of an earlier answer -> the questions here it answers
    wanted: dict[tuple[str, str], list[tuple[str, str | None, str | None]]] = {
        (bank.key, q.key): [(q.key, None, None)] for q in bank.questions
    }
    for from_bank, from_key, to_key, linked_by, mapping_title in mapped:
        wanted.setdefault((from_bank, from_key), []).append((to_key, linked_by, mapping_title))
    rows = session.execute(
        select(Questionnaire.key, Question, QuestionnaireResponse, Product.name, Assessment)
        .join(Assessment, Assessment.id == QuestionnaireResponse.assessment_id)
        .join(Product, Product.id == Assessment.product_id)
        .join(Question, Question.id == QuestionnaireResponse.question_id)
        .join(Questionnaire, Questionnaire.id == Assessment.questionnaire_id)
        .where(
            Assessment.organization_id == ws.assessment.organization_id,
            Assessment.product_id != ws.assessment.product_id,
            Assessment.is_active,
            Product.is_active,
            Questionnaire.key.in_({k for k, _ in wanted}),
            (QuestionnaireResponse.value.is_not(None)) | QuestionnaireResponse.is_na,
        )
        .order_by(QuestionnaireResponse.answered_at.desc(), QuestionnaireResponse.id.desc())
    ).all()
    banks = {qid: load_bank(session, qid) for qid in {r[1].questionnaire_id for r in rows}}
    offers: dict[str, list[Reuse]] = {}
    for bank_key, question, response, product, assessment in rows:
        for target_key, relationship, title in wanted.get((bank_key, question.key), []):
            listed = offers.setdefault(target_key, [])
            if len(listed) >= PER_QUESTION or any(r.origin["product"] == product for r in listed):
                continue
            asked = banks[question.questionnaire_id]
            given = Answer(response.value, response.is_na)
            crossed = translate(asked.question(question.key), given, bank.question(target_key))
            if crossed is None:
                continue
            shown = label(asked, question.key, given)
            origin = _origin(question, response, product, assessment, shown, crossed)
            origin.update(bank_title=asked.title, mapping_title=title)
            origin.update(relationship=relationship)
            listed.append(Reuse(target_key, crossed, origin))
    _add_evidence(session, [r for listed in offers.values() for r in listed])
    return {k: v for k, v in offers.items() if v}


def _add_evidence(session: Session, offered: list[Reuse]) -> None:
    """Name each offered answer's evidence files in its origin (one query for all)."""
    wanted = {(r.origin["assessment_id"], r.origin["sources"][0]["question_id"]) for r in offered}
    if not wanted:
        return
    files: dict[tuple[int, int | None], list[dict[str, Any]]] = {}
    for file_id, filename, aid, qid in session.execute(
        select(
            EvidenceFile.id,
            EvidenceFile.filename,
            EvidenceFile.assessment_id,
            EvidenceFile.question_id,
        ).where(EvidenceFile.assessment_id.in_({aid for aid, _ in wanted}), EvidenceFile.is_active)
    ):
        if (aid, qid) in wanted:
            files.setdefault((aid, qid), []).append({"id": file_id, "filename": filename})
    for r in offered:
        source = r.origin["sources"][0]
        source["evidence"] = files.get((r.origin["assessment_id"], source["question_id"]), [])


def _origin(
    question: Question,
    response: QuestionnaireResponse,
    product: str,
    assessment: Assessment,
    shown: str,
    crossed: Answer,
) -> dict[str, Any]:
    answered = response.answered_at
    return {
        "kind": "reused",
        "assessment_id": assessment.id,
        "product": product,
        "cycle": assessment.cycle,
        "sources": [
            {
                "question": question.key,
                "text": question.text[:300],
                "answer": shown,
                "answered_at": answered.isoformat() if answered else None,
                "question_id": question.id,
            }
        ],
        "value": crossed.value,
        "is_na": crossed.is_na,
    }


def reuse_answer(
    session: Session,
    actor: Actor,
    assessment_id: int,
    question_key: str,
    source_assessment_id: int,
    *,
    now: datetime | None = None,
) -> None:
    """Store the offered earlier answer from that assessment as this question's answer, with
    its origin (the evidence files are named there: linked, not copied)."""
    now = now or utcnow()
    offers = reusable_answers(session, actor, assessment_id).get(question_key, [])
    chosen = next((r for r in offers if r.origin["assessment_id"] == source_assessment_id), None)
    if chosen is None:
        raise NotFound("That earlier answer is no longer on offer for this question.")
    origin = {**chosen.origin, "at": now.isoformat()}
    answers = {question_key: AnswerInput(chosen.answer.value, chosen.answer.is_na)}
    save_with_origins(session, actor, assessment_id, answers, {question_key: origin}, now=now)
