"""A question bank from a questionnaire spreadsheet: one question per row under the header, each
remembering its sheet, row and answer columns (source_ref) so answers can go back into the file."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.banks.model import MAX_EFFORT, MAX_LONG_TEXT, MAX_QUESTION_TEXT, MAX_TITLE, Bank
from core.banks.oscal import normalise_key
from core.banks.schema import parse_bank
from core.banks.sheet_detect import (
    SheetMapping,
    SheetOptions,
    detect_mapping,
    id_prefix,
    looks_like_id,
)
from core.banks.sheet_read import Grid, read_sheet_file
from core.banks.sheet_ref import column_letter
from core.errors import ValidationError

SHEET_TYPES = ("yes_no_partial", "yes_no", "maturity", "text", "number", "date")
# Rows under the header that are not questions even without an id column.
_NOT_A_QUESTION = re.compile(
    r"(end of (the )?(standard|questionnaire|document))|©|\(c\)|copyright|all rights reserved", re.I
)
Row = dict[str, Any]
_DEFAULT_SHEET = re.compile(r"(sheet|tabelle|feuil|hoja)\s*\d*\Z", re.I)


@dataclass(frozen=True)
class BankIdentity:
    """What the bank is called; None means "from the file"."""

    title: str | None = None
    key: str | None = None
    version: int = 1


@dataclass(frozen=True)
class SheetImport:
    """The bank a spreadsheet gives, with the layout used and what was left out."""

    bank: Bank
    grid: Grid
    mapping: SheetMapping
    notes: tuple[str, ...]
    skipped: tuple[int, ...]  # 0-based rows under the header with text but no question
    headers: tuple[str, ...] = field(default=())

    def skipped_lines(self, limit: int = 5) -> list[str]:
        """The first skipped rows as "row 40: End of Standard", for a preview."""
        text = self.mapping.text
        return [
            f"{self.grid.where(r)}: {_clean(self.grid.cell(r, text) or ' '.join(self.grid.rows[r]))[:80]}"
            for r in self.skipped[:limit]
        ]


def is_sheet_source(name: str, data: bytes) -> bool:
    """True for a workbook, and for a CSV file that is not the OWASP ASVS CSV."""
    ext = Path(name).suffix.lower()
    if ext in {".xlsx", ".xlsm", ".xltm", ".xlam", ".xlsb", ".xls", ".tsv"}:
        return True
    first = data[:4096].split(b"\n", 1)[0]
    return ext == ".csv" and not (b"req_id" in first and b"req_description" in first)


def sheet_bank(
    name: str,
    data: bytes,
    options: SheetOptions | None = None,
    identity: BankIdentity | None = None,
) -> SheetImport:
    """Read, detect and validate; every problem names the file and the row or cell."""
    options, identity = options or SheetOptions(), identity or BankIdentity()
    if options.question_type not in SHEET_TYPES:
        raise ValidationError(
            f"{name}: question type {options.question_type!r} is not one of {', '.join(SHEET_TYPES)}"
        )
    grid, mapping, notes = detect_mapping(read_sheet_file(name, data), options)
    headers = grid.rows[mapping.header_row] if mapping.header_row < len(grid.rows) else ()
    questions, skipped = _questions(grid, mapping)
    if not questions:
        raise ValidationError(
            f"{grid.where(mapping.header_row)}: no question rows under the header "
            f"(question column {column_letter(mapping.text)})"
        )
    title = identity.title or _title(grid, mapping.header_row, name)
    bank = {
        "key": identity.key or normalise_key(title),
        "version": identity.version,
        "title": title[:MAX_TITLE],
        "source": f"Spreadsheet {Path(name).name}"[:MAX_TITLE],
        "sections": _sections(grid, mapping, questions),
    }
    return SheetImport(
        parse_bank(bank, source_name=name), grid, mapping, tuple(notes), tuple(skipped), headers
    )


def _questions(grid: Grid, m: SheetMapping) -> tuple[list[tuple[int, Row]], list[int]]:
    questions: list[tuple[int, Row]] = []
    skipped: list[int] = []
    first: dict[str, int] = {}
    merged = _merged_in_columns(grid, m)
    for row in range(m.header_row + 1, len(grid.rows)):
        if grid.formulas:
            _refuse_formula(grid, row, m)
        qid, text = _clean(grid.cell(row, m.id)), _clean(grid.cell(row, m.text))
        if not qid and not text:
            if any(c.strip() for c in grid.rows[row]):
                skipped.append(row)
            continue
        if (m.id is not None and not qid) or (m.id is None and _NOT_A_QUESTION.search(text)):
            skipped.append(row)  # a title, a closing line, a copyright notice
            continue
        if not text and not looks_like_id(qid):
            skipped.append(row)  # a title in the id column, such as a domain's name
            continue
        if not text:
            raise ValidationError(f"{grid.where(row, m.text)}: question {qid!r} has no text")
        if merged:
            _refuse_merged(grid, row, merged)
        key = normalise_key(qid) if qid else f"row-{row + 1}"
        if key in first:
            raise ValidationError(
                f"{grid.where(row, m.id)}: duplicate id {qid!r} (first in {_row_name(grid, first[key])})"
            )
        first[key] = row
        questions.append((row, _question(grid, m, row, key, text)))
    return questions, skipped


def _question(grid: Grid, m: SheetMapping, row: int, key: str, text: str) -> Row:
    if len(text) > MAX_QUESTION_TEXT:
        raise ValidationError(
            f"{grid.where(row, m.text)}: the question is {len(text):,} characters long; "
            f"at most {MAX_QUESTION_TEXT:,} are allowed"
        )
    guidance = _clean(grid.cell(row, m.guidance), keep_lines=True)
    if len(guidance) > MAX_LONG_TEXT:
        raise ValidationError(
            f"{grid.where(row, m.guidance)}: the guidance is longer than {MAX_LONG_TEXT:,} characters"
        )
    ref = {
        "sheet": grid.sheet,
        "row": grid.lines[row] if grid.sheet is None and grid.lines else row + 1,
        "id": None if m.id is None else column_letter(m.id),
        "answer": None if m.answer is None else column_letter(m.answer),
        "justification": None if m.justification is None else column_letter(m.justification),
    }
    question = {
        "key": key,
        "text": text,
        "help": guidance or None,
        "effort": _effort(grid, m, row),
        "type": m.question_type,
        "allow_na": True,
        "source_ref": {k: v for k, v in ref.items() if v is not None},
    }
    return {k: v for k, v in question.items() if v is not None}


def _effort(grid: Grid, m: SheetMapping, row: int) -> int | None:
    """The row's effort (1 to MAX_EFFORT); None when the column is absent or the cell blank."""
    value = _clean(grid.cell(row, m.effort))
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_EFFORT:
        raise ValidationError(
            f"{grid.where(row, m.effort)}: the effort is {value!r}; "
            f"give a whole number from 1 to {MAX_EFFORT}, or leave it blank for 1"
        )
    return int(value)


def _sections(grid: Grid, m: SheetMapping, questions: list[tuple[int, Row]]) -> list[Row]:
    sections: dict[str, Row] = {}
    current = ""
    for row, question in questions:
        if m.section_from_id:
            current = id_prefix(_clean(grid.cell(row, m.id)))
        elif m.section is not None:
            current = _clean(grid.cell(row, m.section)) or current  # blank: same as above
        title = (current or grid.sheet or "Questions")[:MAX_TITLE]
        key = normalise_key(title)
        sections.setdefault(key, {"key": key, "title": title, "questions": []})
        sections[key]["questions"].append(question)
    return list(sections.values())


def _refuse_formula(grid: Grid, row: int, m: SheetMapping) -> None:
    for col, what in ((m.text, "question text"), (m.id, "id"), (m.section, "section")):
        if col is not None and (row, col) in grid.formulas:
            raise ValidationError(
                f"{grid.where(row, col)}: the {what} is a formula; "
                "replace it with its text (copy, then paste values)"
            )


def _merged_in_columns(grid: Grid, m: SheetMapping) -> list[tuple[int, int, int, int]]:
    """Merged ranges below the header that cover more than one cell of a mapped column."""
    mapped = [
        c
        for c in (m.id, m.text, m.section, m.guidance, m.answer, m.justification, m.effort)
        if c is not None
    ]
    return [
        (r0, c0, r1, c1)
        for r0, c0, r1, c1 in grid.merged
        if r1 > m.header_row and (r0, c0) != (r1, c1) and any(c0 <= c <= c1 for c in mapped)
    ]


def _refuse_merged(grid: Grid, row: int, merged: list[tuple[int, int, int, int]]) -> None:
    for r0, c0, r1, c1 in merged:
        if r0 <= row <= r1:
            span = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
            raise ValidationError(
                f"{grid.where(row)}: cells {span} are merged; unmerge them so that each "
                "question has its own row and cells"
            )


def _row_name(grid: Grid, row: int) -> str:
    return f"line {grid.lines[row]}" if grid.sheet is None and grid.lines else f"row {row + 1}"


def _title(grid: Grid, header: int, name: str) -> str:
    """The first text above the header, else a sheet name people chose, else the file name."""
    for row in grid.rows[:header]:
        for cell in row:
            text = _clean(cell)
            if len(text) >= 3 and not _NOT_A_QUESTION.search(text):
                return text
    if grid.sheet and not _DEFAULT_SHEET.match(grid.sheet):
        return grid.sheet
    return Path(name).stem


def _clean(value: str, *, keep_lines: bool = False) -> str:
    """Text without control and invisible characters; spaces (and lines) made single."""
    if not value.isprintable():  # the rare cell with a line break, a tab or a hidden character
        value = "".join(_visible(char, keep_lines) for char in value)
    if keep_lines:
        return "\n".join(" ".join(line.split()) for line in value.split("\n")).strip()
    return " ".join(value.split())


def _visible(char: str, keep_lines: bool) -> str:
    kind = unicodedata.category(char)
    if char == "\n" and keep_lines:
        return char
    if kind in {"Cc", "Zl", "Zp", "Zs"}:
        return " "
    return "" if kind in {"Cf", "Co", "Cn"} else char
