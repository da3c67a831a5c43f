"""Which sheet, header row and columns of a questionnaire spreadsheet hold what: detected from the
header texts, or given by the person importing it (a header's text or a column letter)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.banks.sheet_headers import ROLE_NAMES, ROLES, assign_roles, header_key, header_score
from core.banks.sheet_read import Grid
from core.banks.sheet_ref import COLUMN_PATTERN, column_index, column_letter
from core.errors import ValidationError

HEADER_SEARCH_ROWS = 30
NO_COLUMN = ("", "none", "no column")
_ID_VALUE = re.compile(r"[A-Za-z&]{0,12}[-_. ]?\d+([.\-_]\d+)*[a-z]?(\(\d+\))?\Z")


@dataclass(frozen=True)
class SheetOptions:
    """What the person importing chose; None means "detect it"."""

    sheet: str | None = None
    header_row: int | None = None  # as people count rows, from 1
    id_column: str | None = None  # a header's text or column letters; "none" for no column
    text_column: str | None = None
    section_column: str | None = None
    section_from_id: bool | None = None
    guidance_column: str | None = None
    answer_column: str | None = None
    justification_column: str | None = None
    effort_column: str | None = None  # whole numbers 1-10 (the score planner's weight)
    question_type: str = "yes_no_partial"


@dataclass(frozen=True)
class SheetMapping:
    """The resolved layout: 0-based header row and column indexes."""

    sheet: str | None
    header_row: int
    text: int
    id: int | None = None
    section: int | None = None
    section_from_id: bool = False
    guidance: int | None = None
    answer: int | None = None
    justification: int | None = None
    effort: int | None = None
    question_type: str = "yes_no_partial"


def find_header(grid: Grid) -> tuple[int, int]:
    """(row, score) of the best header row in the first rows; score 0 when none names a question."""
    best = (0, 0)
    for row in range(min(HEADER_SEARCH_ROWS, len(grid.rows))):
        score = header_score(grid.rows[row])
        if score > best[1]:
            best = (row, score)
    return best


def _row_naming(grid: Grid, spec: str, found: tuple[int, int]) -> tuple[int, int]:
    """The first row holding the header the question column was given by, if any."""
    wanted = header_key(spec)
    for row in range(min(HEADER_SEARCH_ROWS, len(grid.rows))):
        if wanted and any(header_key(cell) == wanted for cell in grid.rows[row]):
            return row, max(found[1], 1)
    return found


def choose_grid(grids: tuple[Grid, ...], sheet: str | None) -> tuple[Grid, str]:
    """The sheet asked for, or the visible one whose header row names its columns best."""
    if sheet is not None:
        for grid in grids:
            if grid.sheet == sheet or (grid.sheet is None and len(grids) == 1):
                return grid, "as given"
        names = ", ".join(repr(g.sheet) for g in grids)
        raise ValidationError(f"{grids[0].file}: no sheet {sheet!r} (sheets: {names})")
    if len(grids) == 1:
        return grids[0], "the only sheet"
    scored = [(find_header(g)[1], len(g.rows), -i, g) for i, g in enumerate(grids) if g.visible]
    best = max(scored, default=None, key=lambda s: s[:3])
    if best is None or best[0] == 0:
        return grids[0], "the first sheet"
    return best[3], "its header row names a question column"


def detect_mapping(
    grids: tuple[Grid, ...], options: SheetOptions
) -> tuple[Grid, SheetMapping, list[str]]:
    """The grid and layout to import, with one line per choice saying whether it was detected."""
    grid, why = choose_grid(grids, options.sheet)
    notes = [] if grid.sheet is None else [f"sheet {grid.sheet!r} ({why})"]
    header, score = find_header(grid)
    if options.header_row is None and options.text_column:
        header, score = _row_naming(grid, options.text_column, (header, score))
    if options.header_row is not None:
        if not 1 <= options.header_row <= len(grid.rows):
            raise ValidationError(
                f"{_place(grid)}: header row {options.header_row} is outside the "
                f"{len(grid.rows)} rows"
            )
        header = options.header_row - 1
    elif score == 0:
        raise ValidationError(
            f"{_place(grid)}: no header row found in rows 1-{HEADER_SEARCH_ROWS} (no cell names "
            "the question column, such as 'Question' or 'Requirement'); give the header row "
            "and the question column"
        )
    notes.append(f"header row {header + 1} ({'as given' if options.header_row else 'detected'})")
    headers = grid.rows[header] if header < len(grid.rows) else ()
    roles = assign_roles(headers) if options.header_row is None or score else {}
    given = {
        "id": options.id_column,
        "text": options.text_column,
        "section": options.section_column,
        "guidance": options.guidance_column,
        "answer": options.answer_column,
        "justification": options.justification_column,
        "effort": options.effort_column,
    }
    columns: dict[str, int | None] = {}
    for role in ROLES:
        spec = given[role]
        if spec is not None:
            columns[role] = resolve_column(grid, headers, spec, ROLE_NAMES[role])
            source = "as given"
        else:
            columns[role] = roles.get(role)
            source = "detected"
        if columns[role] is not None:
            notes.append(
                f"{ROLE_NAMES[role]} column {_column_name(headers, columns[role])} ({source})"
            )
    text = columns["text"]
    if text is None:
        text = _longest_text_column(grid, header, set(columns.values()))
        notes.append(f"question column {_column_name(headers, text)} (longest texts)")
    id_col = columns["id"]
    if options.id_column is None and id_col is None:
        id_col = _id_like_column(grid, header, text)
        if id_col is not None:
            notes.append(f"id column {_column_name(headers, id_col)} (values look like ids)")
    from_id = options.section_from_id
    if from_id is None:
        from_id = columns["section"] is None and _ids_have_prefixes(grid, header, id_col)
    if from_id and id_col is None:
        raise ValidationError(f"{_place(grid)}: sections from ids need an id column")
    if from_id:
        how = "as given" if options.section_from_id else "detected"
        notes.append(f"sections from the id prefix ({how})")
    mapping = SheetMapping(
        grid.sheet,
        header,
        text,
        id=id_col,
        section=None if from_id else columns["section"],
        section_from_id=from_id,
        guidance=columns["guidance"],
        answer=columns["answer"],
        justification=columns["justification"],
        effort=columns["effort"],
        question_type=options.question_type,
    )
    return grid, mapping, notes


def resolve_column(grid: Grid, headers: tuple[str, ...], spec: str, what: str) -> int | None:
    """A column named by its header's text (first) or its letters; None for "none"."""
    if spec.strip().lower() in NO_COLUMN:
        return None
    wanted = header_key(spec)
    for col, header in enumerate(headers):
        if header_key(header) == wanted and wanted:
            return col
    if COLUMN_PATTERN.match(spec.strip().upper()):
        return column_index(spec.strip().upper())
    known = ", ".join(repr(h) for h in headers if h.strip())
    raise ValidationError(
        f"{_place(grid)}: no {what} column {spec!r} in the header row (headers: {known or 'none'})"
    )


def _column_name(headers: tuple[str, ...], col: int | None) -> str:
    if col is None:
        return "none"
    header = headers[col].strip() if col < len(headers) else ""
    return f"{column_letter(col)} {header!r}" if header else column_letter(col)


def _place(grid: Grid) -> str:
    return grid.file if grid.sheet is None else f"{grid.file}, sheet {grid.sheet!r}"


def _data(grid: Grid, header: int, col: int) -> list[str]:
    return [v for row in grid.rows[header + 1 :] if col < len(row) and (v := row[col].strip())]


def _longest_text_column(grid: Grid, header: int, taken: set[int | None]) -> int:
    width = max((len(r) for r in grid.rows[header + 1 :]), default=0)
    lengths = {
        col: sum(map(len, _data(grid, header, col))) for col in range(width) if col not in taken
    }
    if not lengths or max(lengths.values()) == 0:
        raise ValidationError(f"{_place(grid)}: no rows with text below header row {header + 1}")
    return max(lengths, key=lambda c: (lengths[c], -c))


def _id_like_column(grid: Grid, header: int, text: int) -> int | None:
    for col in range(text):
        values = _data(grid, header, col)
        if len(values) >= 2 and sum(map(looks_like_id, values)) >= 0.8 * len(values):
            return col
    return None


def looks_like_id(value: str) -> bool:
    """'A&A-01.1', 'V1.2.3', '12', 'AC-2(1)': letters, then numbers; not a title such as 'Audit'."""
    return bool(_ID_VALUE.match(value.strip()))


def id_prefix(question_id: str) -> str:
    """The group an id belongs to: 'A&A-01.1' -> 'A&A', 'V1.2.3' -> 'V1', 'AC12' -> 'AC'."""
    value = question_id.strip()
    for separator in ("-", "."):
        if separator in value.strip(separator):
            return value.split(separator, 1)[0] or value
    letters = re.match(r"[^\d]+", value)
    return letters[0] if letters else value


def _ids_have_prefixes(grid: Grid, header: int, col: int | None) -> bool:
    if col is None:
        return False
    ids = _data(grid, header, col)
    prefixes = [id_prefix(v) for v in ids]
    return len(set(prefixes)) >= 2 and len(set(prefixes)) <= len(ids) / 2
