"""Where an answer came from: the origin kept on a carried, confirmed or reused answer, how it
reads on the page and in extracts, and the states the reviewer's filters use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.banks.model import Answer, Bank
from core.labels import answer_label, format_date
from core.mappings.credit import Credit, Source
from core.models import EvidenceFile, MappingSet, Product, Question, QuestionnaireResponse
from core.workspace import Workspace

KINDS = {"carried": "Carried", "proposed": "Proposed", "confirmed": "Confirmed", "reused": "Reused"}
# The reviewer's filters: an answer's provenance state (core/review_queue.py reads them).
STATES = ("carried", "confirmed", "reused", "changed after carrying")
RELATIONSHIP_WORDS = {
    "equal-to": "is equal to",
    "equivalent-to": "is equivalent to",
    "superset-of": "covers all of",
    "subset-of": "covers part of",
    "intersects-with": "overlaps",
    "no-relationship": "is unrelated to",
}


def label(bank: Bank, key: str, answer: Answer) -> str:
    """An answer to one of the bank's questions as people read it."""
    if answer.is_na:
        return "Not applicable"
    if answer.value is None:
        return "No answer"
    return answer_label(bank.question(key), answer.value)


def _evidence(session: Session, ws: Workspace, keys: Sequence[str]) -> dict[str, list[Any]]:
    ids = {ws.question_ids[k]: k for k in keys if k in ws.question_ids}
    rows = session.execute(
        select(EvidenceFile.id, EvidenceFile.filename, EvidenceFile.question_id).where(
            EvidenceFile.assessment_id == ws.assessment.id,
            EvidenceFile.question_id.in_(ids),
            EvidenceFile.is_active,
        )
    ).all()
    found: dict[str, list[Any]] = {}
    for file_id, filename, question_id in rows:
        if question_id is not None:
            found.setdefault(ids[question_id], []).append({"id": file_id, "filename": filename})
    return found


def _source(ws: Workspace, source: Source, files: list[Any]) -> dict[str, Any]:
    row = ws.responses.get(source.question)
    answered = row.answered_at if row is not None else None
    return {
        "question": source.question,
        "text": ws.bank.question(source.question).text[:300],
        "answer": label(ws.bank, source.question, source.answer),
        "answered_at": answered.isoformat() if answered else None,
        "relationship": source.relationship,
        "evidence": files,
    }


@dataclass(frozen=True)
class SourceContext:
    """What every origin drawn from one source assessment shares, read once: the assessment's
    workspace, its product's name and the evidence files of its answers, by question key."""

    ws: Workspace
    product: str
    files: dict[str, list[Any]]


def source_context(session: Session, ws: Workspace) -> SourceContext:
    """The shared part of the origins drawn from this source assessment (two queries)."""
    product = session.get(Product, ws.assessment.product_id)
    files = _evidence(session, ws, list(ws.question_ids))
    return SourceContext(ws, product.name if product else "", files)


def origin_of(
    context: SourceContext, mapping: MappingSet | None, found: Credit, kind: str, now: datetime
) -> dict[str, Any]:
    """The origin kept with an answer drawn from the source assessment's answers."""
    source = context.ws
    return {
        "kind": kind,
        "assessment_id": source.assessment.id,
        "product": context.product,
        "bank": source.bank.key,
        "bank_title": source.bank.title,
        "bank_version": source.bank.version,
        "cycle": source.assessment.cycle,
        "mapping": mapping.key if mapping else None,
        "mapping_title": mapping.title if mapping else None,
        "mapping_version": mapping.version if mapping else None,
        "relationship": found.sources[0].relationship if mapping else None,
        "sources": [_source(source, s, context.files.get(s.question, [])) for s in found.sources],
        "value": found.answer.value,
        "is_na": found.answer.is_na,
        "at": now.isoformat(),
    }


def state(response: QuestionnaireResponse | None) -> str | None:
    """An answer's provenance state: one of STATES, or None for an answer given here."""
    if response is None:
        return None
    return state_of(response.value, response.is_na, response.origin)


def state_of(value: object, is_na: bool, origin: dict[str, Any] | None) -> str | None:
    """The provenance state of a stored value with its origin (see state)."""
    if not origin:
        return None
    if (value, is_na) != (origin.get("value"), origin.get("is_na", False)):
        return "changed after carrying"
    return str(origin.get("kind"))


def origin_states(session: Session, assessment_id: int) -> dict[str, str]:
    """The provenance state of each of an assessment's answers that has an origin, by key."""
    rows = session.execute(
        select(
            Question.key,
            QuestionnaireResponse.value,
            QuestionnaireResponse.is_na,
            QuestionnaireResponse.origin,
        )
        .join(Question, Question.id == QuestionnaireResponse.question_id)
        .where(
            QuestionnaireResponse.assessment_id == assessment_id,
            QuestionnaireResponse.origin.is_not(None),
        )
    ).all()
    states = {key: state_of(value, is_na, origin) for key, value, is_na, origin in rows}
    return {key: found for key, found in states.items() if found}


def _shown(key: str) -> str:
    # control ids as their frameworks write them (GV.OC-01, AC-2.1); other keys as they are
    return key.upper() if any(c.isdigit() for c in key) else key


def describe(origin: dict[str, Any] | None) -> str:
    """One sentence saying where an answer came from, for the page and the extracts."""
    if not origin:
        return ""
    kind = KINDS.get(str(origin.get("kind")), "Taken")
    sources = origin.get("sources") or []
    parts = [
        f'{_shown(s["question"])} answered "{s["answer"]}"'
        + (f" on {format_date(s['answered_at'])}" if s.get("answered_at") else "")
        for s in sources
    ]
    where = f"{origin.get('bank_title', '')} (cycle {origin.get('cycle', '?')})"
    product = origin.get("product")
    if product:
        where += f" of {product}"
    text = f"{kind} from {where}: " + "; ".join(parts)
    if origin.get("mapping_title"):
        words = RELATIONSHIP_WORDS.get(str(origin.get("relationship")), "relates to")
        text += (
            f'. Mapping "{origin["mapping_title"]}" (version {origin.get("mapping_version")}):'
            f" the source {words} this question"
        )
    if len(sources) > 1:
        text += "; the weakest of the sources' answers was taken"
    return text + "."
