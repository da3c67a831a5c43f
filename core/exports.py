"""CSV extracts: RFC 4180 quoting, UTF-8, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict

from sqlalchemy.orm import Session

from core.access import Actor
from core.audit_labels import readable_row
from core.audit_trail import AuditEntry
from core.labels import iso_utc
from core.responses import answer_rows

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
AUDIT_COLUMNS = (
    "id",
    "created_at",
    "username",
    "actor_role",
    "action",
    "action_label",
    "object_type",
    "object_id",
    "detail",
    "description",
)
ANSWER_COLUMNS = (
    "section",
    "question",
    "text",
    "value",
    "is_na",
    "justification",
    "score",
    "review_state",
)


def safe_cell(value: object) -> str:
    """Text for one cell; a leading = + - @ tab CR or NUL gets a ' so it stays text."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(rows: Iterable[Mapping[str, object]], columns: Sequence[str]) -> bytes:
    """RFC 4180 CSV (CRLF line ends, every field quoted only when needed) as UTF-8 bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8")


def assessment_answers_csv(session: Session, actor: Actor, assessment_id: int) -> bytes:
    """One assessment's answers as CSV, for any actor who may read the assessment."""
    return csv_bytes(map(asdict, answer_rows(session, actor, assessment_id)), ANSWER_COLUMNS)


def audit_csv(rows: Iterable[AuditEntry]) -> bytes:
    """Audit rows (as list_audit gives them) as CSV: the stored keys and JSON detail for scripts,
    times in ISO 8601 UTC, and beside them the action and detail in the words the page shows."""

    def readable() -> Iterator[dict[str, object]]:
        for row in rows:
            shown = readable_row(row)
            yield {
                **asdict(row),
                "created_at": iso_utc(row.created_at),
                "action_label": shown.action,
                "description": shown.details,
            }

    return csv_bytes(readable(), AUDIT_COLUMNS)
