"""Bad questionnaire spreadsheets: each is refused by import-bank with one line naming the file
and the row or cell, and nothing is written."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from core import db
from core.models import Question, Questionnaire
from tests.clirun import run
from tests.sheet_files import caiq_bytes, caiq_workbook, questionnaire_rows, xlsx_bytes


def _rows_with(change) -> bytes:
    rows = questionnaire_rows()
    change(rows)
    return caiq_bytes(rows)


def _duplicate(rows):
    rows[5][0] = rows[4][0]  # row 6 repeats row 5's id


def _empty_text(rows):
    rows[5][1] = None


def _formula(rows):
    rows[4][1] = '=CONCAT("Are audit policies ", "documented?")'


def _too_long(rows):
    rows[6][1] = "Is it documented? " * 120


def _with_effort(value):
    def edit(rows):
        rows[2] = [*rows[2], "Effort"]  # a new list: the header row is the shared HEADERS
        for row in rows[4:7]:
            row.append(2)
        rows[5][5] = value

    return edit


def _merged() -> bytes:
    book = caiq_workbook()
    book["CAIQv4"].merge_cells("B5:B6")
    return xlsx_bytes(book)


def _no_header() -> bytes:
    book = Workbook()
    for qid, text, _ in [("A-1", "Is there a policy?", ""), ("A-2", "Is it reviewed?", "")]:
        book.active.append([qid, text])
    return xlsx_bytes(book)


def _too_many_rows() -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Huge")
    sheet.append(["ID", "Question"])
    for i in range(100_000):
        sheet.append([f"H-{i}", "Is it in place?"])
    return xlsx_bytes(book)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _members() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(caiq_bytes())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip_bomb() -> bytes:
    # 30 MB of one repeated byte: about 1000:1, where a real sheet compresses about 10:1
    return _zip({**_members(), "xl/worksheets/sheet2.xml": b" " * (30 * 1024 * 1024)})


def _vba_inside() -> bytes:
    return _zip({**_members(), "xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro code"})


def _word_document() -> bytes:
    return _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


CASES = [
    # (what, file name, a maker of its contents, words the one line must hold)
    ("truncated", "q.xlsx", lambda: caiq_bytes()[:3000], ["q.xlsx", "damaged or truncated"]),
    ("no header row", "q.xlsx", _no_header, ["q.xlsx", "sheet 'Sheet'", "no header row"]),
    (
        "duplicate ids",
        "q.xlsx",
        lambda: _rows_with(_duplicate),
        ["cell A6", "duplicate id", "row 5"],
    ),
    (
        "empty text",
        "q.xlsx",
        lambda: _rows_with(_empty_text),
        ["cell B6", "'A&A-01.2' has no text"],
    ),
    ("formula as text", "q.xlsx", lambda: _rows_with(_formula), ["cell B5", "is a formula"]),
    ("text too long", "q.xlsx", lambda: _rows_with(_too_long), ["cell B7", "at most 2,000"]),
    (
        "effort out of range",
        "q.xlsx",
        lambda: _rows_with(_with_effort(11)),
        ["cell F6", "the effort is '11'", "from 1 to 10"],
    ),
    (
        "effort in words",
        "q.xlsx",
        lambda: _rows_with(_with_effort("high")),
        ["cell F6", "the effort is 'high'", "leave it blank"],
    ),
    ("merged cells", "q.xlsx", _merged, ["row 5", "cells B5:B6 are merged"]),
    ("100,000 rows", "q.xlsx", _too_many_rows, ["sheet 'Huge'", "100,001 rows", "50,000"]),
    ("zip bomb", "q.xlsx", _zip_bomb, ["q.xlsx", "xl/worksheets/sheet2.xml", "zip bomb"]),
    ("macro workbook", "q.xlsm", lambda: caiq_bytes(), ["q.xlsm", "macro-enabled", ".xlsm"]),
    ("vbaProject.bin", "q.xlsx", _vba_inside, ["q.xlsx", "contains macros"]),
    ("PDF named .xlsx", "q.xlsx", lambda: b"%PDF-1.7\n1 0 obj", ["q.xlsx", "it is a PDF document"]),
    ("XLSX named .csv", "q.csv", lambda: caiq_bytes(), ["q.csv", "not CSV text", "zip archive"]),
    ("Word file named .xlsx", "q.xlsx", _word_document, ["q.xlsx", "not an Excel workbook"]),
    ("old .xls", "q.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ["q.xls", "save as .xlsx"]),
    ("empty CSV", "q.csv", lambda: b"", ["q.csv", "empty"]),
]


@pytest.mark.parametrize(("what", "name", "make", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_spreadsheet_is_refused_with_one_line_and_nothing_written(
    capsys, cli_db, tmp_path, what, name, make, words
):
    assert run(capsys, "init")[0] == 0
    with db.reading(cli_db) as s:
        before = (
            s.scalar(select(func.count()).select_from(Questionnaire)),
            s.scalar(select(func.count()).select_from(Question)),
        )
    path = tmp_path / name
    path.write_bytes(make())
    code, out, err = run(capsys, "import-bank", str(path), "--format", "sheet")
    assert code == 1, f"{what}: {out}"
    assert len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err, f"{what}: {word!r} not in {err!r}"
    with db.reading(cli_db) as s:
        after = (
            s.scalar(select(func.count()).select_from(Questionnaire)),
            s.scalar(select(func.count()).select_from(Question)),
        )
    assert after == before
