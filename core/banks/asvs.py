"""Import the OWASP Application Security Verification Standard (ASVS) CSV as a question bank.

Release 5.0 gives each requirement's level in column L; earlier releases (4.0.3) tick the levels
it belongs to in columns level1, level2 and level3, and tick none for a deleted requirement."""

from __future__ import annotations

import csv
import io
from typing import Any

from core.banks.model import KEY_PATTERN, Bank
from core.banks.oscal import normalise_key
from core.banks.schema import parse_bank
from core.errors import ValidationError

ASVS_LICENCE = "CC BY-SA 4.0"  # the standard's licence, which a derived bank keeps
LEVELS = (1, 2, 3)
REQUIRED_COLUMNS = ("chapter_id", "chapter_name", "section_name", "req_id", "req_description", "L")
Row = dict[str, Any]
LEVEL_COLUMNS = ("level1", "level2", "level3")  # ASVS 4.x
TICKS = {"✓", "✔", "x", "yes", "y", "true", "1", "●"}


def asvs_bank(
    text: str,
    *,
    level: int,
    key: str,
    version: int,
    title: str,
    source_name: str,
    source: str | None = None,
    licence: str | None = ASVS_LICENCE,
    description: str | None = None,
) -> Bank:
    """A bank of the requirements at `level` (1-3) or below, one section per chapter."""
    if type(level) is not int or level not in LEVELS:
        raise ValidationError(f"{source_name}: ASVS level must be 1, 2 or 3, got {level!r}")
    chapters = _chapters(_rows(text, source_name), level, source_name)
    if not chapters:
        raise ValidationError(f"{source_name}: no requirements at level {level} or below")
    data = {
        "key": key,
        "version": version,
        "title": title,
        "description": description,
        "source": source,
        "licence": licence,
        "sections": list(chapters.values()),
    }
    return parse_bank({k: v for k, v in data.items() if v is not None}, source_name=source_name)


def _rows(text: str, source_name: str) -> list[tuple[int, Row]]:
    """(line number, row) pairs; the line is where the row starts, for error messages."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        columns = reader.fieldnames or []
        wanted: tuple[str, ...] = REQUIRED_COLUMNS
        if "L" not in columns and all(c in columns for c in LEVEL_COLUMNS):
            wanted = REQUIRED_COLUMNS[:-1] + LEVEL_COLUMNS
        missing = [c for c in wanted if c not in columns]
        if not columns:
            raise ValidationError(
                f"{source_name}: the file is empty (expected a CSV header "
                f"with {', '.join(REQUIRED_COLUMNS)})"
            )
        if missing:
            raise ValidationError(f"{source_name}: missing CSV column(s): {', '.join(missing)}")
        rows, start = [], reader.line_num + 1
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
        return rows
    except csv.Error as exc:
        raise ValidationError(
            f"{source_name}: line {reader.line_num}: invalid CSV ({exc})"
        ) from None


def _chapters(rows: list[tuple[int, Row]], level: int, source_name: str) -> dict[str, Row]:
    chapters: dict[str, Row] = {}
    first_line: dict[str, int] = {}
    for line, row in rows:
        where = f"{source_name}: line {line}"
        key = _req_key(row, where)
        if key in first_line:
            raise ValidationError(
                f"{where}: duplicate requirement id {row['req_id']!r} "
                f"(first on line {first_line[key]})"
            )
        first_line[key] = line
        row_level = _level(row, where)
        if row_level is None or row_level > level:
            continue  # None: a deleted requirement, at no level
        chapter = _cell(row, "chapter_id", where)
        name = _cell(row, "chapter_name", where)
        section = chapters.setdefault(
            chapter, {"key": normalise_key(chapter), "title": f"{chapter} {name}", "questions": []}
        )
        section["questions"].append(
            {
                "key": key,
                "text": _cell(row, "req_description", where),
                "help": f"Section: {_cell(row, 'section_name', where)}",
                "type": "yes_no_partial",
                "allow_na": True,
            }
        )
    return chapters


def _req_key(row: Row, where: str) -> str:
    req_id = (row.get("req_id") or "").strip()
    if not req_id:
        raise ValidationError(f"{where}: missing req_id")
    if not KEY_PATTERN.match(req_id.lower()):
        raise ValidationError(
            f"{where}: req_id {req_id!r} is not a usable id (expected something like V1.2.3)"
        )
    return req_id.lower()


def _level(row: Row, where: str) -> int | None:
    if "L" not in row:  # ASVS 4.x: the lowest level ticked, None when none is
        ticked = [n for n, c in zip(LEVELS, LEVEL_COLUMNS, strict=True) if _ticked(row.get(c))]
        return ticked[0] if ticked else None
    raw = (row.get("L") or "").strip()
    if raw not in {str(n) for n in LEVELS}:
        raise ValidationError(f"{where}: level (column L) must be 1, 2 or 3, got {raw!r}")
    return int(raw)


def _ticked(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() in TICKS


def _cell(row: Row, column: str, where: str) -> str:
    value = " ".join((row.get(column) or "").split())
    if not value:
        raise ValidationError(f"{where}: empty {column}")
    return value
