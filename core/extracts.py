"""Tidy extracts of what the actor may read: answers, snapshots, section scores, the status
timeline, comments and evidence metadata, as CSV (core.exports), with a data dictionary describing
every column. The statements are in core/extract_queries.py, the XLSX workbook of them all in
core/extract_workbook.py.

Every extract is scoped like the analytics pages (clients: their organisation; lead reviewers:
per reviewer_visibility) and takes the same Filters; internal comments never reach a client.
Rows stream from the database (yield_per), so a large extract never sits in memory as objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from sqlalchemy import Result, Select, func, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.banks.model import Question
from core.banks.question_types import QUESTION_TYPES
from core.banks.store import load_bank
from core.exports import csv_bytes
from core.extract_columns import DICTIONARY_COLUMNS, EXTRACTS, DictionaryEntry
from core.extract_queries import QUERIES
from core.filters import Filters, scope, seen_by
from core.labels import iso_utc
from core.models import Section
from core.settings import get_settings

BATCH = 5_000
Row = dict[str, object]  # one row of an extract: its columns by name


_iso = iso_utc
# Scores and completion leave as the screen shows them: 0-100, one decimal.
PERCENT_COLUMNS = {"answers": ("score",), "snapshots": ("overall_score", "completion")}
_FRACTIONS = ("score", "completion")  # stored as 0-1; the overall and section scores are 0-100


def as_shown(column: str, value: float | None) -> float | None:
    """A score or completion as the screen shows it: 0-100 with one decimal; None stays empty."""
    if value is None:
        return None
    return round(float(value) * (100 if column in _FRACTIONS else 1), 1)


def _statement(
    session: Session, actor: Actor, name: str, filters: Filters
) -> Select[*tuple[Any, ...]]:
    if name not in QUERIES:
        raise ValueError(f"unknown extract {name!r}; known: {', '.join(EXTRACTS)}")
    query = QUERIES[name](actor)
    stmt = scope(query.statement, actor, filters, seen_by(actor, get_settings(session)))
    return filters.in_range(stmt, query.dated)


def extract_rows(session: Session, actor: Actor, name: str, filters: Filters) -> Iterator[Row]:
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
        out: Row = {c: as_shown(c, row[c]) if c in percent else _iso(row.get(c)) for c in columns}
        if questions is not None:
            out["value_label"] = questions.value_label(
                row["questionnaire_id"], row["question_key"], row["value"]
            )
        yield out


class _Questions:
    """The questions of each questionnaire of an extract, read once per questionnaire."""

    def __init__(self, session: Session):
        self.session = session
        self.banks: dict[int, dict[str, Question]] = {}

    def value_label(self, questionnaire_id: int, question_key: str, value: object) -> str | None:
        """The label people read beside a stored value, as its question type describes it."""
        if questionnaire_id not in self.banks:
            bank = load_bank(self.session, questionnaire_id)
            self.banks[questionnaire_id] = {q.key: q for q in bank.questions}
        question = self.banks[questionnaire_id].get(question_key)
        if question is None or value is None:
            return None
        return QUESTION_TYPES[question.type].describe(question, value)


def _section_rows(session: Session, result: Result[*tuple[Any, ...]]) -> Iterator[Row]:
    """One row per snapshot and section, sections in bank order."""
    titles: dict[int, list[tuple[str, str]]] = {}
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
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def extract_csv(session: Session, actor: Actor, name: str, filters: Filters) -> bytes:
    """One extract as RFC 4180 CSV in UTF-8, every cell made formula-safe."""
    return csv_bytes(
        extract_rows(session, actor, name, filters), [c.name for c in EXTRACTS[name].columns]
    )


def data_dictionary() -> list[DictionaryEntry]:
    """Every column of every extract: extract, column, type, description."""
    return [
        DictionaryEntry(name, c.name, c.type, c.description)
        for name, extract in EXTRACTS.items()
        for c in extract.columns
    ]


def dictionary_csv() -> bytes:
    """The data dictionary as CSV."""
    return csv_bytes(map(asdict, data_dictionary()), DICTIONARY_COLUMNS)
