"""Answers back into the client's own workbook: each answer's label and justification in its row,
every other cell, sheet and style as it was; access checked in core; another file refused."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from core import db
from core.access import SYSTEM
from core.answer_sheet import filled_workbook
from core.assessments import start_assessment
from core.banks.sheet_import import sheet_bank
from core.banks.store import import_bank
from core.errors import AccessDenied, ValidationError
from core.responses import AnswerInput, save_answers
from tests.clirun import run
from tests.factories import baseline_id, make_actor, make_org, make_product
from tests.sheet_files import caiq_bytes, caiq_workbook, xlsx_bytes

ANSWERS = {
    "a-a-01.1": AnswerInput("yes", justification="Policy AUD-1, approved by the board in 2024."),
    "a-a-01.2": AnswerInput(None, is_na=True),
    "ais-01.1": AnswerInput("partial", justification='=HYPERLINK("http://x.test")'),
}
WRITTEN = {"C5": "Yes", "D5": ANSWERS["a-a-01.1"].justification, "C6": "N/A", "C9": "Partially"}


@pytest.fixture
def answered(sqlite_url):
    """A client's assessment of the imported CAIQ with three answers; (url, client, id)."""
    with db.transaction(sqlite_url) as s:
        questionnaire, _ = import_bank(s, SYSTEM, sheet_bank("caiq.xlsx", caiq_bytes()).bank)
        questionnaire_id = questionnaire.id
    client = make_actor(sqlite_url, "client", make_org(sqlite_url))
    product = make_product(sqlite_url, client)
    with db.transaction(sqlite_url) as s:
        aid = start_assessment(s, client, product_id=product, questionnaire_id=questionnaire_id).id
        save_answers(s, client, aid, ANSWERS)
    return sqlite_url, client, aid


def _fill(url, actor, aid, original=None, **columns):
    with db.reading(url) as s:
        return filled_workbook(s, actor, aid, original or caiq_bytes(), "caiq.xlsx", **columns)


def _cells(book):
    """Every cell's value and look, by (sheet, coordinate)."""
    return {
        (sheet.title, cell.coordinate): (
            cell.value,
            repr(cell.font),  # style proxies of two workbooks never compare equal
            repr(cell.fill),
            repr(cell.border),
            repr(cell.alignment),
            cell.number_format,
        )
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
    }


def test_each_answer_goes_into_its_row_and_every_other_cell_stays_as_it_was(answered):
    url, client, aid = answered
    filled = _fill(url, client, aid)
    assert filled.answers == 3 and filled.name == "caiq (answered).xlsx"
    before = load_workbook(io.BytesIO(caiq_bytes()))
    after = load_workbook(io.BytesIO(filled.data))
    sheet = after["CAIQv4"]
    assert {ref: sheet[ref].value for ref in WRITTEN} == WRITTEN
    # a justification that a spreadsheet would run as a formula stays text
    assert sheet["D9"].value == '\'=HYPERLINK("http://x.test")' and sheet["D9"].data_type == "s"
    old, new = _cells(before), _cells(after)
    changed = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
    assert {ref for _, ref in changed} <= set(WRITTEN) | {"D9"}
    assert after.sheetnames == before.sheetnames
    assert sheet.merged_cells.ranges == before["CAIQv4"].merged_cells.ranges
    assert [v.sqref for v in sheet.data_validations.dataValidation] == [
        v.sqref for v in before["CAIQv4"].data_validations.dataValidation
    ]
    assert sheet.column_dimensions["B"].width == 80


def test_given_columns_override_the_ones_chosen_at_import(answered):
    url, client, aid = answered
    sheet = load_workbook(io.BytesIO(_fill(url, client, aid, answer_column="F").data))["CAIQv4"]
    assert sheet["F5"].value == "Yes" and sheet["C5"].value is None


def test_staff_who_may_read_the_assessment_get_the_file(answered):
    url, _, aid = answered
    analyst = make_actor(url, "analyst")
    assert _fill(url, analyst, aid).answers == 3


def test_a_client_of_another_organisation_is_refused(answered):
    url, _, aid = answered
    stranger = make_actor(url, "client", make_org(url, "Other Ltd"), username="stranger")
    with pytest.raises(AccessDenied):
        _fill(url, stranger, aid)


def test_a_workbook_whose_rows_do_not_match_the_bank_is_refused(answered):
    url, client, aid = answered
    book = caiq_workbook()
    book["CAIQv4"]["A5"] = "X-99"
    with pytest.raises(ValidationError, match=r"sheet 'CAIQv4', cell A5: holds 'X-99'"):
        _fill(url, client, aid, xlsx_bytes(book))


def test_a_macro_workbook_is_refused_as_the_original(answered):
    url, client, aid = answered
    with db.reading(url) as s, pytest.raises(ValidationError, match="macro-enabled"):
        filled_workbook(s, client, aid, caiq_bytes(), "caiq.xlsm")


def test_a_bank_that_came_from_no_workbook_has_nothing_to_fill(sqlite_url):
    client = make_actor(sqlite_url, "client", make_org(sqlite_url))
    product = make_product(sqlite_url, client)
    with db.transaction(sqlite_url) as s:
        aid = start_assessment(
            s, client, product_id=product, questionnaire_id=baseline_id(sqlite_url)
        ).id
    with pytest.raises(ValidationError, match="not imported from an XLSX workbook"):
        _fill(sqlite_url, client, aid)


def test_export_answers_writes_the_filled_copy(capsys, answered, env, tmp_path):
    url, _, aid = answered
    env(url)
    original, out = tmp_path / "caiq.xlsx", tmp_path / "filled.xlsx"
    data = caiq_bytes()
    original.write_bytes(data)
    code, stdout, err = run(
        capsys, "export-answers", str(aid), "--into", str(original), "--out", str(out)
    )
    assert code == 0, err
    assert stdout == f"wrote 3 answers into {out}\n"
    assert load_workbook(out)["CAIQv4"]["C5"].value == "Yes"
    assert original.read_bytes() == data
    code, _, err = run(
        capsys, "export-answers", str(aid), "--into", str(original), "--out", str(original)
    )
    assert code == 1 and "--out must be a new file" in err
