"""Every extract on its own sheet of one XLSX workbook, then the data dictionary.

Text cells are escaped like the CSV cells (core.exports.safe_cell) and never read as formulas,
links or numbers; a sheet past the row limit continues on "title (2)".
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict

import xlsxwriter
from sqlalchemy.orm import Session
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from core.access import Actor
from core.exports import safe_cell
from core.extract_columns import DICTIONARY_COLUMNS, EXTRACTS
from core.extracts import data_dictionary, extract_rows
from core.filters import Filters

XLSX_MAX_ROWS = 1_048_575  # data rows per sheet, under the header


def _cell(sheet: Worksheet, row: int, col: int, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, (int, float)) and math.isfinite(value):
        sheet.write_number(row, col, value)
    else:
        sheet.write_string(row, col, safe_cell(value)[:32767])


def _sheet(
    book: Workbook, title: str, columns: list[str], rows: Iterable[Mapping[str, object]]
) -> None:
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
    _sheet(book, "data_dictionary", list(DICTIONARY_COLUMNS), map(asdict, data_dictionary()))
    book.close()
    return buffer.getvalue()
