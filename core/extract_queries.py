"""The statement behind each extract: its columns, joins and order, and which time the date range
reads. core.extracts scopes and filters them and streams their rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, String, Text, cast, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from core.access import Actor
from core.models import (
    Assessment,
    EvidenceFile,
    LeadComment,
    Organization,
    Product,
    ProductStatus,
    Question,
    Questionnaire,
    QuestionnaireResponse,
    ScoreHistory,
    Section,
    User,
)

Rows = Select[*tuple[Any, ...]]


class ExtractQuery(NamedTuple):
    """An extract's statement over Assessment, ordered, and the time its date range reads."""

    statement: Rows
    dated: ColumnElement[datetime] | ColumnElement[datetime | None]


def _named(statement: Rows) -> Rows:
    """Add organisation, product and questionnaire names to a statement joined to Assessment."""
    return (
        statement.join(Organization, Organization.id == Assessment.organization_id)
        .join(Product, Product.id == Assessment.product_id)
        .join(Questionnaire, Questionnaire.id == Assessment.questionnaire_id)
    )


NAMES = (
    Assessment.id.label("assessment_id"),
    Organization.name.label("organization"),
    Product.name.label("product"),
    Questionnaire.title.label("questionnaire"),
    Questionnaire.version.label("questionnaire_version"),
    Assessment.cycle.label("cycle"),
)


class iso_text(FunctionElement[str]):
    """A UTC time as ISO 8601 text ("2026-12-01T14:05:00Z", like core.labels.iso_utc), formatted
    by the database: a million answers' times cost Python nothing."""

    type = String()
    inherit_cache = True


@compiles(iso_text, "sqlite")
def _iso_sqlite(element: iso_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m-%dT%H:%M:%SZ', {compiler.process(element.clauses, **kw)})"


@compiles(iso_text, "postgresql")
def _iso_postgresql(element: iso_text, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return f"""to_char(({value}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


def _answers(actor: Actor) -> ExtractQuery:
    """The answers' own columns, keyed by assessment and question: core.extract_answers adds
    the names from one read of each (a million rows would otherwise carry them all)."""
    answered = func.coalesce(QuestionnaireResponse.answered_at, QuestionnaireResponse.created_at)
    stmt = (
        select(
            QuestionnaireResponse.assessment_id,
            QuestionnaireResponse.question_id,
            cast(QuestionnaireResponse.value, Text).label("value"),  # JSON text, read once each
            QuestionnaireResponse.is_na,
            QuestionnaireResponse.score,
            QuestionnaireResponse.review_state,
            iso_text(answered).label("answered_at"),
            # JSON text like value; a JSON null (a hand-given answer written with origin=None)
            # comes as SQL NULL too, so the common case is one `is None` in Python
            func.nullif(cast(QuestionnaireResponse.origin, Text), "null").label("origin"),
        )
        .join(Assessment, Assessment.id == QuestionnaireResponse.assessment_id)
        .join(Question, Question.id == QuestionnaireResponse.question_id)
        .join(Section, Section.id == Question.section_id)
    )
    # By the answers' own assessment_id (equal to Assessment.id): SQLite then walks the
    # (assessment_id, question_id) index in order and sorts one assessment at a time, streaming,
    # instead of sorting every row before the first leaves.
    order = (QuestionnaireResponse.assessment_id, Section.position, Question.position)
    return ExtractQuery(stmt.order_by(*order), answered)


def answer_assessments() -> Rows:
    """The assessment columns of the answers extract by assessment id (scope it like the rows)."""
    return _named(select(*NAMES, Assessment.status.label("status")).select_from(Assessment))


def answer_questions() -> Rows:
    """The question columns of the answers extract by question id."""
    return select(
        Question.id, Section.title, Question.key, Question.text, Question.questionnaire_id
    ).join(Section, Section.id == Question.section_id)


def _snapshots(actor: Actor) -> ExtractQuery:
    stmt = _named(
        select(
            ScoreHistory.id.label("snapshot_id"),
            *NAMES,
            ScoreHistory.created_at.label("taken_at"),
            ScoreHistory.trigger.label("trigger"),
            ScoreHistory.overall_score.label("overall_score"),
            ScoreHistory.band.label("band"),
            ScoreHistory.completion.label("completion"),
            ScoreHistory.answered_count.label("answered_count"),
            ScoreHistory.total_count.label("total_count"),
            ScoreHistory.formula_version.label("formula_version"),
            ScoreHistory.section_scores.label("section_scores"),
            ScoreHistory.assurance.label("assurance"),
            Assessment.questionnaire_id.label("questionnaire_id"),
        ).join(Assessment, Assessment.id == ScoreHistory.assessment_id)
    )
    order = (Assessment.id, ScoreHistory.created_at, ScoreHistory.id)
    return ExtractQuery(stmt.order_by(*order), ScoreHistory.created_at.expression)


def _timeline(actor: Actor) -> ExtractQuery:
    who = aliased(User)
    stmt = _named(
        select(
            *NAMES,
            ProductStatus.created_at.label("changed_at"),
            ProductStatus.from_status.label("from_status"),
            ProductStatus.to_status.label("to_status"),
            func.coalesce(who.name, "system").label("changed_by"),
            ProductStatus.note.label("note"),
        )
        .join(Assessment, Assessment.id == ProductStatus.assessment_id)
        .outerjoin(who, who.id == ProductStatus.actor_id)
    )
    order = (Assessment.id, ProductStatus.created_at, ProductStatus.id)
    return ExtractQuery(stmt.order_by(*order), ProductStatus.created_at.expression)


def _comments(actor: Actor) -> ExtractQuery:
    author = aliased(User)
    stmt = _named(
        select(
            LeadComment.id.label("comment_id"),
            *NAMES,
            Question.key.label("question_key"),
            LeadComment.parent_id.label("reply_to"),
            func.coalesce(author.name, "system").label("author"),
            author.role.label("author_role"),
            LeadComment.visibility.label("visibility"),
            LeadComment.is_resolved.label("resolved"),
            LeadComment.created_at.label("created_at"),
            LeadComment.body.label("body"),
        )
        .join(Assessment, Assessment.id == LeadComment.assessment_id)
        .outerjoin(QuestionnaireResponse, QuestionnaireResponse.id == LeadComment.response_id)
        .outerjoin(Question, Question.id == QuestionnaireResponse.question_id)
        .outerjoin(author, author.id == LeadComment.author_id)
        .where(LeadComment.is_active)
    )
    if actor.is_client:  # internal reviewer notes never reach a client, whatever else changes
        stmt = stmt.where(LeadComment.visibility == "shared")
    order = (Assessment.id, LeadComment.created_at, LeadComment.id)
    return ExtractQuery(stmt.order_by(*order), LeadComment.created_at.expression)


def _evidence(actor: Actor) -> ExtractQuery:
    uploader = aliased(User)
    stmt = _named(
        select(
            EvidenceFile.id.label("evidence_id"),
            *NAMES,
            Question.key.label("question_key"),
            EvidenceFile.filename.label("filename"),
            EvidenceFile.content_type.label("content_type"),
            EvidenceFile.size_bytes.label("size_bytes"),
            EvidenceFile.sha256.label("sha256"),
            func.coalesce(uploader.name, "system").label("uploaded_by"),
            EvidenceFile.created_at.label("uploaded_at"),
            EvidenceFile.valid_until.label("valid_until"),
            (~EvidenceFile.is_active).label("withdrawn"),
            EvidenceFile.deleted_at.label("withdrawn_at"),
        )
        .join(Assessment, Assessment.id == EvidenceFile.assessment_id)
        .outerjoin(Question, Question.id == EvidenceFile.question_id)
        .outerjoin(uploader, uploader.id == EvidenceFile.uploaded_by)
    )
    order = (Assessment.id, EvidenceFile.created_at, EvidenceFile.id)
    return ExtractQuery(stmt.order_by(*order), EvidenceFile.created_at.expression)


QUERIES: dict[str, Callable[[Actor], ExtractQuery]] = {
    "answers": _answers,
    "snapshots": _snapshots,
    "section_scores": _snapshots,
    "status_timeline": _timeline,
    "comments": _comments,
    "evidence": _evidence,
}
