"""Tidy extracts of what the actor may read: answers, snapshots, section scores, the status
timeline, comments and evidence metadata, as CSV (core.exports) or one XLSX workbook, with a data
dictionary describing every column.

Every extract is scoped like the analytics pages (clients: their organisation; lead reviewers:
per reviewer_visibility) and takes the same Filters; internal comments never reach a client.
Rows stream from the database (yield_per), so a large extract never sits in memory as objects.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator

import xlsxwriter
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from core.access import Actor
from core.banks.question_types import QUESTION_TYPES
from core.banks.store import load_bank
from core.exports import csv_bytes, safe_cell
from core.extract_columns import DICTIONARY_COLUMNS, EXTRACTS
from core.filters import Filters, scope, seen_by
from core.labels import iso_utc
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
from core.settings import get_settings

XLSX_MAX_ROWS = 1_048_575  # data rows per sheet, under the header
BATCH = 5_000


_iso = iso_utc
# Scores and completion leave as the screen shows them: 0-100, one decimal.
PERCENT_COLUMNS = {"answers": ("score",), "snapshots": ("overall_score", "completion")}
_FRACTIONS = ("score", "completion")  # stored as 0-1; the overall and section scores are 0-100


def as_shown(column: str, value):
    """A score or completion as the screen shows it: 0-100 with one decimal; None stays empty."""
    if value is None:
        return None
    return round(float(value) * (100 if column in _FRACTIONS else 1), 1)


def _named(statement: Select) -> Select:
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


def _answers(actor: Actor) -> tuple[Select, object]:
    stmt = _named(
        select(
            *NAMES,
            Assessment.status.label("status"),
            Section.title.label("section"),
            Question.key.label("question_key"),
            Question.text.label("question"),
            QuestionnaireResponse.value.label("value"),
            Assessment.questionnaire_id.label("questionnaire_id"),
            QuestionnaireResponse.is_na.label("not_applicable"),
            QuestionnaireResponse.score.label("score"),
            QuestionnaireResponse.review_state.label("review_state"),
            func.coalesce(
                QuestionnaireResponse.answered_at, QuestionnaireResponse.created_at
            ).label("answered_at"),
        )
        .join(Assessment, Assessment.id == QuestionnaireResponse.assessment_id)
        .join(Question, Question.id == QuestionnaireResponse.question_id)
        .join(Section, Section.id == Question.section_id)
    )
    order = (Assessment.id, Section.position, Question.position)
    return stmt.order_by(*order), func.coalesce(
        QuestionnaireResponse.answered_at, QuestionnaireResponse.created_at
    )


def _snapshots(actor: Actor) -> tuple[Select, object]:
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
            Assessment.questionnaire_id.label("questionnaire_id"),
        ).join(Assessment, Assessment.id == ScoreHistory.assessment_id)
    )
    return stmt.order_by(
        Assessment.id, ScoreHistory.created_at, ScoreHistory.id
    ), ScoreHistory.created_at


def _timeline(actor: Actor) -> tuple[Select, object]:
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
    return (
        stmt.order_by(Assessment.id, ProductStatus.created_at, ProductStatus.id),
        ProductStatus.created_at,
    )


def _comments(actor: Actor) -> tuple[Select, object]:
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
    return stmt.order_by(
        Assessment.id, LeadComment.created_at, LeadComment.id
    ), LeadComment.created_at


def _evidence(actor: Actor) -> tuple[Select, object]:
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
            (~EvidenceFile.is_active).label("withdrawn"),
            EvidenceFile.deleted_at.label("withdrawn_at"),
        )
        .join(Assessment, Assessment.id == EvidenceFile.assessment_id)
        .outerjoin(Question, Question.id == EvidenceFile.question_id)
        .outerjoin(uploader, uploader.id == EvidenceFile.uploaded_by)
    )
    return stmt.order_by(
        Assessment.id, EvidenceFile.created_at, EvidenceFile.id
    ), EvidenceFile.created_at


QUERIES: dict[str, Callable[[Actor], tuple[Select, object]]] = {
    "answers": _answers,
    "snapshots": _snapshots,
    "section_scores": _snapshots,
    "status_timeline": _timeline,
    "comments": _comments,
    "evidence": _evidence,
}


def _statement(session: Session, actor: Actor, name: str, filters: Filters) -> Select:
    if name not in QUERIES:
        raise ValueError(f"unknown extract {name!r}; known: {', '.join(EXTRACTS)}")
    stmt, dated = QUERIES[name](actor)
    stmt = scope(stmt, actor, filters, seen_by(actor, get_settings(session)))
    return filters.in_range(stmt, dated)


def extract_rows(session: Session, actor: Actor, name: str, filters: Filters) -> Iterator[dict]:
    """The rows of one extract as dicts of its columns (datetimes as ISO 8601 UTC text), streamed."""
    columns = [c.name for c in EXTRACTS[name].columns]
    result = session.execute(
        _statement(session, actor, name, filters).execution_options(yield_per=BATCH)
    )
    if name == "section_scores":
        yield from _section_rows(session, result)
        return
    percent = PERCENT_COLUMNS.get(name, ())
    questions = _Questions(session) if name == "answers" else None
    for row in result.mappings():
        out = {c: as_shown(c, row[c]) if c in percent else _iso(row.get(c)) for c in columns}
        if questions is not None:
            out["value_label"] = questions.value_label(
                row["questionnaire_id"], row["question_key"], row["value"]
            )
        yield out


class _Questions:
    """The questions of each questionnaire of an extract, read once per questionnaire."""

    def __init__(self, session: Session):
        self.session, self.banks = session, {}

    def value_label(self, questionnaire_id: int, question_key: str, value) -> str | None:
        """The label people read beside a stored value, as its question type describes it."""
        if questionnaire_id not in self.banks:
            bank = load_bank(self.session, questionnaire_id)
            self.banks[questionnaire_id] = {q.key: q for q in bank.questions}
        question = self.banks[questionnaire_id].get(question_key)
        if question is None or value is None:
            return None
        return QUESTION_TYPES[question.type].describe(question, value)


def _section_rows(session: Session, result) -> Iterator[dict]:
    """One row per snapshot and section, sections in bank order."""
    titles: dict[int, list] = {}
    for qid, key, title in session.execute(
        select(Section.questionnaire_id, Section.key, Section.title).order_by(
            Section.questionnaire_id, Section.position
        )
    ):
        titles.setdefault(qid, []).append((key, title))
    for row in result.mappings():
        scores = row["section_scores"] or {}
        for key, title in titles.get(row["questionnaire_id"], []):
            if key in scores:
                yield {
                    "snapshot_id": row["snapshot_id"],
                    "assessment_id": row["assessment_id"],
                    "organization": row["organization"],
                    "product": row["product"],
                    "questionnaire": row["questionnaire"],
                    "questionnaire_version": row["questionnaire_version"],
                    "taken_at": _iso(row["taken_at"]),
                    "section_key": key,
                    "section": title,
                    "score": as_shown("section_score", scores[key]),
                }


def extract_count(session: Session, actor: Actor, name: str, filters: Filters) -> int:
    """How many rows an extract holds (section scores: how many snapshots they come from)."""
    stmt = _statement(session, actor, name, filters).order_by(None)
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())))


def extract_csv(session: Session, actor: Actor, name: str, filters: Filters) -> bytes:
    """One extract as RFC 4180 CSV in UTF-8, every cell made formula-safe."""
    return csv_bytes(
        extract_rows(session, actor, name, filters), [c.name for c in EXTRACTS[name].columns]
    )


def data_dictionary() -> list[dict]:
    """Every column of every extract: extract, column, type, description."""
    return [
        {"extract": name, "column": c.name, "type": c.type, "description": c.description}
        for name, extract in EXTRACTS.items()
        for c in extract.columns
    ]


def dictionary_csv() -> bytes:
    """The data dictionary as CSV."""
    return csv_bytes(data_dictionary(), DICTIONARY_COLUMNS)


def _cell(sheet, row: int, col: int, value) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, (int, float)) and math.isfinite(value):
        sheet.write_number(row, col, value)
    else:
        sheet.write_string(row, col, safe_cell(value)[:32767])


def _sheet(book, title: str, columns: list[str], rows) -> None:
    """Write rows under a header, continuing on "title (2)"... past the sheet row limit."""
    part, sheet, at = 1, None, XLSX_MAX_ROWS
    for row in rows:
        if at == XLSX_MAX_ROWS:
            sheet = book.add_worksheet(title if part == 1 else f"{title} ({part})"[:31])
            sheet.write_row(0, 0, columns)
            sheet.freeze_panes(1, 0)
            part, at = part + 1, 0
        at += 1
        for col, name in enumerate(columns):
            _cell(sheet, at, col, row.get(name))
    if sheet is None:
        book.add_worksheet(title).write_row(0, 0, columns)


def workbook_xlsx(session: Session, actor: Actor, filters: Filters) -> bytes:
    """Every extract on its own sheet, then the data dictionary, as one XLSX workbook; text cells
    are escaped like the CSV cells and never read as formulas, links or numbers."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    for name, extract in EXTRACTS.items():
        _sheet(
            book,
            name,
            [c.name for c in extract.columns],
            extract_rows(session, actor, name, filters),
        )
    _sheet(book, "data_dictionary", list(DICTIONARY_COLUMNS), data_dictionary())
    book.close()
    return buffer.getvalue()
