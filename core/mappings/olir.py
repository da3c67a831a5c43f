"""NIST OLIR crosswalk workbooks (.xlsx) and plain CSV crosswalks read into neutral pairs.

A workbook's sheet and header row are found by their words (case, spaces and line breaks
ignored), never by position. Two layouts are read: OLIR's "Focal Document Element" and "Reference
Document Element" columns, one pair a row, with optional "Relationship", "Comments" and "Strength
of Relationship" columns (rows without a reference element, NIST's function and category rows, are
skipped); and lists as in NIST's CSF 1.1 to SP 800-53 workbook, a "Subcategory" column ("ID.AM-1:
text") beside a "... Control" column of comma-separated ids, where prose entries ("-1 controls
from all security control families") are left out with a note.

Strength of relationship becomes the confidence. When every numeric strength is from 0 to 1 they
are kept; when some exceed 1 and none exceeds 100 the column is read as percentages and divided by
100 (a note says so). Text and numbers outside that range are left out, with a note.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import replace
from typing import Any

import openpyxl

from core.errors import ValidationError
from core.mappings.read import (
    DEFAULT_RELATIONSHIP,
    Group,
    MappingFile,
    Pair,
    check_room,
    clean_id,
    confidence_of,
    counted,
    finish,
    no_relationship_note,
    number_of,
    relationship_of,
)

_SCAN_ROWS = 30
_MAX_UNZIPPED = 256 * 1024 * 1024
_LIST_SPLIT = re.compile(r"[,;\n]+")
# a cover sheet's labels, matched against a row's first cell; the next cell is the value
_COVER = {
    "title": r"((crosswalk|mapping|document) )?title",
    "version": r"((crosswalk|mapping|document) )?version",
    "description": r"description|summary|purpose",
    "focal": r"focal document( name)?",
    "reference": r"reference document( name)?",
}
_ELEMENT = r"{} document element(?!.*description).*"
_LAYOUTS = {  # header words of the source and target columns
    "olir": (_ELEMENT.format("focal"), _ELEMENT.format("reference")),
    "lists": (r"subcategory", r".*\bcontrols?"),
}
_OPTIONAL = {"comments": r"comments?\b.*", "strength": r"strength\b.*"}
_OPTIONAL["relationship"] = r"relationship( type)?( \(.*)?"
_CSV_REQUIRED = ("source_id", "target_id", "relationship")
_CSV_OPTIONAL = ("confidence", "rationale")


def read_workbook(name: str, data: bytes, sha: str) -> MappingFile:
    """A crosswalk in an Excel .xlsx workbook."""
    _check_zip(name, data)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl lets KeyError, ValueError, zip and XML errors through
        raise ValidationError(f"{name}: not a readable .xlsx workbook.") from None
    try:
        return _read_book(name, book, sha)
    except ValidationError:
        raise
    except Exception:  # a damaged sheet fails only while its rows are read
        raise ValidationError(f"{name}: the workbook cannot be read; is it damaged?") from None
    finally:
        book.close()


def _check_zip(name: str, data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise ValidationError(
            f"{name}: the ZIP archive cannot be opened; is it cut short?"
        ) from None
    if "xl/workbook.xml" not in {e.filename for e in entries}:
        raise ValidationError(f"{name}: this ZIP archive is not an Excel .xlsx workbook.")
    if sum(e.file_size for e in entries) > _MAX_UNZIPPED:
        limit = _MAX_UNZIPPED // 1024 // 1024
        raise ValidationError(f"{name}: the workbook would unpack to more than {limit} MB.")


def _read_book(name: str, book: Any, sha: str) -> MappingFile:
    found: tuple[Any, int, dict[str, Any], list[str]] | None = None
    others = []
    for sheet in book.worksheets:
        sheet.reset_dimensions()  # some writers record a wrong sheet size; read what is there
        header = None if found else _find_header(sheet)
        if header:
            found = (sheet, *header)
        else:
            others.append(sheet)
    if found is None:
        raise ValidationError(
            f"{name}: no sheet has a crosswalk header: expected a row with 'Focal Document "
            "Element' and 'Reference Document Element' columns (NIST OLIR), or with "
            "'Subcategory' and '... Control' columns."
        )
    sheet, start, columns, above = found
    cover, used = _cover(others)
    props = book.properties
    pairs, notes = _rows(name, sheet, start, columns)
    title = cover.get("title") or (above[0] if above else "") or (props.title or "")
    unread = [s.title for s in others if s.title not in used]
    if unread:
        notes.append(f"The workbook's other sheets were not read: {', '.join(unread)}.")
    if "relationship" not in columns:
        nist = "nist" in f"{name} {title} {props.creator or ''}".lower()
        who = "NIST" if nist else "The workbook"
        notes.insert(0, f"{who} gives no relationship type: every pair is read as intersects-with.")
    return finish(
        name,
        "olir-workbook",
        sha,
        pairs=pairs,
        notes=notes,
        empty=f"no row below the header of sheet {sheet.title!r} names a reference element",
        title=title,
        version=cover.get("version") or (props.version or ""),
        description=cover.get("description") or props.description or props.subject or "",
        groups=[Group(cover.get("focal", ""), cover.get("reference", ""))],
    )


def _words(value: object) -> str:
    return " ".join(str(value).lower().split()) if value is not None else ""


def _find_header(sheet: Any) -> tuple[int, dict[str, Any], list[str]] | None:
    above: list[str] = []  # lines above the header: a title, perhaps
    for number, row in enumerate(sheet.iter_rows(max_row=_SCAN_ROWS, values_only=True), 1):
        words = [_words(c) for c in row]
        for layout, (source, target) in _LAYOUTS.items():
            columns = {"source": _find(words, source), "target": _find(words, target)}
            if None not in columns.values():
                extra = {k: i for k, p in _OPTIONAL.items() if (i := _find(words, p)) is not None}
                return number, {"layout": layout, **columns, **extra}, above
        filled = [str(c).strip() for c in row if c is not None and str(c).strip()]
        if len(filled) == 1:
            above.append(filled[0])
    return None


def _find(words: list[str], pattern: str) -> int | None:
    return next((i for i, w in enumerate(words) if re.fullmatch(pattern, w)), None)


def _cell(row: tuple[Any, ...], index: int | None) -> Any:
    return row[index] if index is not None and index < len(row) else None


def _rows(
    name: str, sheet: Any, start: int, columns: dict[str, Any]
) -> tuple[list[Pair], list[str]]:
    pairs: list[Pair] = []
    strengths: list[tuple[int, Any]] = []
    missing: list[str] = []
    prose: list[str] = []
    rows_read = 0
    for number, row in enumerate(sheet.iter_rows(min_row=start + 1, values_only=True), start + 1):
        raw_target = _cell(row, columns["target"])
        if raw_target is None or not str(raw_target).strip():
            continue
        where = f"row {number}"
        raw_source = _cell(row, columns["source"])
        targets = [raw_target]
        if columns["layout"] == "lists":
            raw_source = str(raw_source or "").split(":", 1)[0]
            tokens = [t.strip() for t in _LIST_SPLIT.split(str(raw_target)) if t.strip()]
            prose += [f"{where} {t!r}" for t in tokens if len(t.split()) > 1]
            targets = [t for t in tokens if len(t.split()) == 1]
        source = clean_id(name, raw_source, where, "source")
        ids = [clean_id(name, t, where, "target") for t in targets]
        given = _cell(row, columns.get("relationship"))
        word = relationship_of(name, given, where, nist_words=True)
        if word is None and "relationship" in columns:
            missing.append(where)
        relationship = word or DEFAULT_RELATIONSHIP
        rationale = str(_cell(row, columns.get("comments")) or "").strip()
        check_room(name, len(pairs) + len(ids), where)
        rows_read += 1
        for target in ids:
            strengths.append((len(pairs), _cell(row, columns.get("strength"))))
            pairs.append(Pair(source, target, relationship, None, rationale, where, 0))
    notes = [no_relationship_note(missing, rows_read, "row", "workbook")] if missing else []
    if prose:
        shown = "; ".join(prose[:5]) + (f"; and {len(prose) - 5} more" if len(prose) > 5 else "")
        entries = counted(len(prose), "entry that is prose", "entries that are prose")
        notes.append(f"{entries} rather than ids were left out: {shown}.")
    return pairs, notes + _apply_strengths(pairs, strengths)


def _apply_strengths(pairs: list[Pair], strengths: list[tuple[int, Any]]) -> list[str]:
    given = [(i, raw, number_of(raw)) for i, raw in strengths if str(raw or "").strip()]
    numbers = [v for _, _, v in given if v is not None and 0 <= v <= 100]
    scale = 100.0 if numbers and max(numbers) > 1 else 1.0
    notes = []
    if scale == 100:
        notes.append("Strength of relationship is read as a percentage and divided by 100.")
    left_out = []
    for index, raw, value in given:
        if value is None or not 0 <= value <= scale:
            left_out.append(f"{pairs[index].where} {raw!r}")
        else:
            pairs[index] = replace(pairs[index], confidence=value / scale)
    if left_out:
        notes.append(
            "Strength of relationship is left out where it is not a number from 0 to 1 or 0 to "
            f"100 ({counted(len(left_out), 'pair', 'pairs')}; the first: {left_out[0]})."
        )
    return notes


def _cover(sheets: list[Any]) -> tuple[dict[str, str], set[str]]:
    """Labelled cells on the other sheets ("Title" | "NIST CSF 2.0 to ..."), the first wins."""
    found: dict[str, str] = {}
    used: set[str] = set()
    for sheet in sheets:
        for row in sheet.iter_rows(max_row=_SCAN_ROWS, max_col=12, values_only=True):
            cells = [c for c in row if c is not None and str(c).strip()]
            label = _words(cells[0]).rstrip(":").strip() if len(cells) > 1 else ""
            key = next((k for k, p in _COVER.items() if re.fullmatch(p, label)), None)
            if key and key not in found:
                found[key] = str(cells[1]).strip()
                used.add(sheet.title)
    return found, used


def read_csv(name: str, text: str, sha: str) -> MappingFile:
    """A CSV with the columns source_id, target_id, relationship[, confidence][, rationale]."""
    reader = csv.reader(io.StringIO(text, newline=""))
    pairs: list[Pair] = []
    missing: list[str] = []
    number = 0
    try:
        header = next(reader, [])
        number = 1
        columns = _csv_columns(name, header)
        for number, row in enumerate(reader, 2):
            if any(cell.strip() for cell in row):
                pairs.append(_csv_pair(name, f"row {number}", row, columns, missing))
                check_room(name, len(pairs), f"row {number}")
    except csv.Error as exc:
        where = f"row {number + 1}"
        raise ValidationError(f"{name}: {where}: the CSV cannot be read ({exc}).") from None
    notes = [no_relationship_note(missing, len(pairs), "row")] if missing else []
    return finish(name, "csv", sha, pairs=pairs, notes=notes, empty="no row below the header")


def _csv_columns(name: str, header: list[str]) -> dict[str, int]:
    names = [re.sub(r"[\s-]+", "_", cell.strip().lower()) for cell in header]
    while names and not names[-1]:
        names.pop()  # a trailing comma
    given = set(names)
    unknown = given - {*_CSV_REQUIRED, *_CSV_OPTIONAL}
    if unknown or set(_CSV_REQUIRED) - given or len(given) < len(names):
        raise ValidationError(
            f"{name}: row 1: the header must name the columns {', '.join(_CSV_REQUIRED)} and "
            f"optionally {' and '.join(_CSV_OPTIONAL)}; it has {', '.join(header) or 'nothing'}."
        )
    return {n: i for i, n in enumerate(names)}


def _csv_pair(
    name: str, where: str, row: list[str], columns: dict[str, int], missing: list[str]
) -> Pair:
    if any(cell.strip() for cell in row[len(columns) :]):
        raise ValidationError(
            f"{name}: {where} has {len(row)} cells but the header names {len(columns)} columns."
        )
    cells = row + [""] * len(columns)
    value = {column: cells[index] for column, index in columns.items()}
    relationship = relationship_of(name, value["relationship"], where, nist_words=True)
    if relationship is None:
        missing.append(where)
    return Pair(
        clean_id(name, value["source_id"], where, "source"),
        clean_id(name, value["target_id"], where, "target"),
        relationship or DEFAULT_RELATIONSHIP,
        confidence_of(name, value.get("confidence"), where),
        value.get("rationale", "").strip(),
        where,
        0,
    )
