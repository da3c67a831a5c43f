"""CSV extracts: RFC 4180 quoting, UTF-8, and no cell a spreadsheet would run as a formula."""
from __future__ import annotations

import csv
import io
import json
from typing import Iterable, Sequence

from sqlalchemy.orm import Session

from core.access import Actor
from core.assessments import answer_rows

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
ANSWER_COLUMNS = ("section", "question", "text", "value", "is_na", "justification", "score",
                  "review_state")


def safe_cell(value: object) -> str:
    """Text for one cell; a leading = + - @ tab CR or NUL gets a ' so it stays text."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(rows: Iterable[dict], columns: Sequence[str]) -> bytes:
    """RFC 4180 CSV (CRLF line ends, every field quoted only when needed) as UTF-8 bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8")


def assessment_answers_csv(session: Session, actor: Actor, assessment_id: int) -> bytes:
    """One assessment's answers as CSV, for any actor who may read the assessment."""
    return csv_bytes(answer_rows(session, actor, assessment_id), ANSWER_COLUMNS)
