"""Where a question came from in a spreadsheet, kept in the bank so answers can go back there.

A question imported from a workbook carries ``source_ref``: its sheet, its row, the column of its
id and the columns its answer and justification belong in (letters, as people read them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.banks.fields import Problem, check_fields, drop_none

COLUMN_PATTERN = re.compile(r"[A-Z]{1,3}\Z")
MAX_SHEET_NAME = 31  # Excel's own limit
_FIELDS = {"sheet", "row", "id", "answer", "justification"}


@dataclass(frozen=True)
class SourceRef:
    """A question's place in its source spreadsheet (sheet None for a CSV file)."""

    row: int
    sheet: str | None = None
    id: str | None = None  # column letters of the id cell, to check the workbook is the same
    answer: str | None = None
    justification: str | None = None


def read_source_ref(raw: object, where: str) -> SourceRef | None:
    """The optional 'source_ref' field of a question; raises Problem saying where it is wrong."""
    if raw is None:
        return None
    where = f"{where}.source_ref"
    check_fields(raw, where, _FIELDS, {"row"})
    assert isinstance(raw, dict)  # check_fields refused anything else
    row = raw["row"]
    if type(row) is not int or row < 1:
        raise Problem(f"{where}: 'row' must be a row number >= 1, got {row!r}")
    sheet = raw.get("sheet")
    if sheet is not None and (not isinstance(sheet, str) or not 0 < len(sheet) <= MAX_SHEET_NAME):
        raise Problem(f"{where}: 'sheet' must be a sheet name of 1-{MAX_SHEET_NAME} characters")
    columns = [raw.get(name) for name in ("id", "answer", "justification")]
    for name, value in zip(("id", "answer", "justification"), columns, strict=True):
        if value is not None and (not isinstance(value, str) or not COLUMN_PATTERN.match(value)):
            raise Problem(f"{where}: '{name}' must be a column letter such as 'E', got {value!r}")
    return SourceRef(row, sheet, *columns)


def source_ref_data(ref: SourceRef | None) -> dict[str, object] | None:
    """The field in the file format, or None when the question has no source reference."""
    if ref is None:
        return None
    return drop_none(
        {
            "sheet": ref.sheet,
            "row": ref.row,
            "id": ref.id,
            "answer": ref.answer,
            "justification": ref.justification,
        }
    )


def column_letter(index: int) -> str:
    """Column letters for a 0-based column index: 0 -> 'A', 26 -> 'AA'."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """The 0-based index of column letters: 'A' -> 0, 'AA' -> 26."""
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1
