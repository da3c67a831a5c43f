"""Tidy extracts of what the actor may read: answers, snapshots, section scores, the status
timeline, comments and evidence metadata, as CSV (core.exports), with a data dictionary describing
every column. The statements are in core/extract_queries.py, the XLSX workbook of them all in
core/extract_workbook.py.

Every extract is scoped like the analytics pages (clients: their organisation; lead reviewers:
per reviewer_visibility) and takes the same Filters; internal comments never reach a client.
Rows stream from the database (yield_per), so a large extract never sits in memory as objects;
the answers, a million rows on a large site, take the Core-level path of core/extract_answers.py,
and extract_chunks streams any extract as CSV for the app's downloads and the API alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from sqlalchemy import Result, Select, func, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.assurance import LEVELS
from core.exports import csv_bytes, safe_cell
from core.extract_answers import AnswerParts, answer_lines, answer_values
from core.extract_columns import DICTIONARY_COLUMNS, EXTRACTS, DictionaryEntry
from core.extract_queries import QUERIES
from core.filters import Filters, scope, visibility
from core.labels import iso_utc
from core.models import Section

BATCH = 5_000
CHUNK = 256 * 1024  # characters of CSV gathered before a chunk is sent
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


def _seen(session: Session, actor: Actor) -> str:
    return visibility(session, actor)


def _statement(
    session: Session, actor: Actor, name: str, filters: Filters
) -> Select[*tuple[Any, ...]]:
    if name not in QUERIES:
        raise ValueError(f"unknown extract {name!r}; known: {', '.join(EXTRACTS)}")
    query = QUERIES[name](actor)
    stmt = scope(query.statement, actor, filters, _seen(session, actor))
    return filters.in_range(stmt, query.dated)


def extract_rows(session: Session, actor: Actor, name: str, filters: Filters) -> Iterator[Row]:
    """The rows of one extract as dicts of its columns (datetimes as ISO 8601 UTC text), streamed."""
    columns = [c.name for c in EXTRACTS[name].columns]
    statement = _statement(session, actor, name, filters)
    if name == "answers":
        parts = AnswerParts(session, actor, filters, _seen(session, actor))
        for cells in answer_values(session, parts, statement):
            yield dict(zip(columns, cells, strict=True))
        return
    result = session.execute(statement.execution_options(yield_per=BATCH))
    if name == "section_scores":
        yield from _section_rows(session, result)
        return
    percent = PERCENT_COLUMNS.get(name, ())
    for row in result.mappings():
        line: Row = {c: as_shown(c, row[c]) if c in percent else _iso(row.get(c)) for c in columns}
        if name == "snapshots":
            line.update(share_cells((row["assurance"] or {}).get("overall")))
        yield line


def share_cells(shares: dict[str, float] | None) -> Row:
    """A score's assurance shares as the extracts' share columns, 0-100 with one decimal (all
    empty when the score has no points or the snapshot has no shares)."""
    return {f"{level}_share": as_shown("share", (shares or {}).get(level)) for level in LEVELS}


def _lines(session: Session, actor: Actor, name: str, filters: Filters) -> Iterator[str]:
    """The extract as CSV text, header first, a batch of lines (about CHUNK) at a time."""
    columns = [c.name for c in EXTRACTS[name].columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    if name == "answers":
        yield buffer.getvalue()
        statement = _statement(session, actor, name, filters)
        parts = AnswerParts(session, actor, filters, _seen(session, actor))
        yield from answer_lines(session, parts, statement)
        return
    for row in extract_rows(session, actor, name, filters):
        writer.writerow([safe_cell(row.get(c)) for c in columns])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def extract_chunks(session: Session, actor: Actor, name: str, filters: Filters) -> Iterator[bytes]:
    """One extract as RFC 4180 CSV in UTF-8, every cell formula-safe, streamed in chunks: what
    the app's downloads and the API send."""
    for text in _lines(session, actor, name, filters):
        yield text.encode("utf-8")


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
        shares = (row["assurance"] or {}).get("sections") or {}
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
                    **share_cells(shares.get(key)),
                }


def extract_count(session: Session, actor: Actor, name: str, filters: Filters) -> int:
    """How many rows an extract holds (section scores: how many snapshots they come from)."""
    stmt = _statement(session, actor, name, filters).order_by(None)
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def extract_csv(session: Session, actor: Actor, name: str, filters: Filters) -> bytes:
    """One extract as RFC 4180 CSV in UTF-8, every cell made formula-safe."""
    return b"".join(extract_chunks(session, actor, name, filters))


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
