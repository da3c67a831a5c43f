"""Questionnaire spreadsheets as question banks: detection, flags, skipped rows, CSV dialects, and
the row each question came from kept through the database."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from core import db
from core.access import SYSTEM
from core.banks.sheet_detect import SheetOptions
from core.banks.sheet_import import sheet_bank
from core.banks.sheet_ref import SourceRef
from core.banks.store import import_bank, load_bank
from core.banks.yaml_io import dump_bank, load_bank_text
from core.models import Questionnaire
from tests.clirun import run
from tests.sheet_files import HEADERS, QUESTIONS, caiq_bytes, questionnaire_rows, xlsx_bytes

CAIQ_KEY = "consensus-assessments-initiative-questionnaire-v4-example"


@pytest.fixture
def caiq(tmp_path):
    path = tmp_path / "caiq.xlsx"
    path.write_bytes(caiq_bytes())
    return path


def bank_count(url: str) -> int:
    with db.reading(url) as s:
        return s.scalar(select(func.count()).select_from(Questionnaire))


def test_detection_finds_sheet_header_row_and_columns_and_skips_titles():
    result = sheet_bank("caiq.xlsx", caiq_bytes())
    assert result.notes == (
        "sheet 'CAIQv4' (its header row names a question column)",
        "header row 3 (detected)",
        "id column A 'Question ID' (detected)",
        "question column B 'Question' (detected)",
        "answer column C 'CSP CAIQ Answer' (detected)",
        "justification column D 'CSP Implementation Description' (detected)",
        "section column E 'Domain' (detected)",
    )
    bank = result.bank
    assert [q.text for q in bank.questions] == [text for _, text, _ in QUESTIONS]
    assert [(s.title, len(s.questions)) for s in bank.sections] == [
        ("Audit & Assurance", 3),
        ("Application & Interface Security", 3),
    ]
    # two domain titles, "End of Standard" and the copyright line
    assert [r + 1 for r in result.skipped] == [4, 8, 13, 14]
    assert bank.questions[0].source_ref == SourceRef(5, "CAIQv4", "A", "C", "D")
    assert bank.title.startswith("Consensus Assessments Initiative Questionnaire")


def test_section_from_id_groups_a_and_a_01_1_under_a_and_a():
    result = sheet_bank("caiq.xlsx", caiq_bytes(), SheetOptions(section_from_id=True))
    assert [(s.title, len(s.questions)) for s in result.bank.sections] == [("A&A", 3), ("AIS", 3)]


def test_columns_by_letter_or_header_text_give_the_same_bank_as_detection():
    detected = sheet_bank("caiq.xlsx", caiq_bytes()).bank
    by_letter = SheetOptions(
        sheet="CAIQv4",
        header_row=3,
        id_column="A",
        text_column="b",
        answer_column="C",
        justification_column="D",
        section_column="E",
    )
    by_text = SheetOptions(
        id_column="question id", text_column="Question", answer_column="CSP CAIQ Answer"
    )
    assert sheet_bank("caiq.xlsx", caiq_bytes(), by_letter).bank == detected
    assert sheet_bank("caiq.xlsx", caiq_bytes(), by_text).bank == detected


def test_no_id_column_makes_row_keys_and_still_skips_closing_lines():
    result = sheet_bank("caiq.xlsx", caiq_bytes(), SheetOptions(id_column="none"))
    keys = [q.key for q in result.bank.questions]
    assert keys[:2] == ["row-5", "row-6"] and len(keys) == 6


def test_question_type_flag_sets_every_question():
    result = sheet_bank("caiq.xlsx", caiq_bytes(), SheetOptions(question_type="yes_no"))
    assert {q.type for q in result.bank.questions} == {"yes_no"}


def test_source_rows_survive_the_database_and_the_yaml_export(sqlite_url):
    bank = sheet_bank("caiq.xlsx", caiq_bytes()).bank
    with db.transaction(sqlite_url) as s:
        questionnaire, _ = import_bank(s, SYSTEM, bank)
        qid = questionnaire.id
    with db.reading(sqlite_url) as s:
        stored = load_bank(s, qid)
    assert stored == bank
    assert [q.source_ref.row for q in stored.questions] == [5, 6, 7, 9, 10, 11]
    assert load_bank_text(dump_bank(stored), source_name="x") == bank


def _with_efforts(efforts: list[object], header: str = "Effort (1-10)") -> bytes:
    rows = questionnaire_rows()
    rows[2] = [*rows[2], header]
    questions = [r for r in rows[4:] if len(r) == len(HEADERS)]
    for row, effort in zip(questions, efforts, strict=True):
        row.append(effort)
    return caiq_bytes(rows)


def test_an_effort_column_is_detected_and_a_blank_cell_costs_one():
    result = sheet_bank("caiq.xlsx", _with_efforts([3, None, 10, 1, "2", " "]))
    assert "effort column F 'Effort (1-10)' (detected)" in result.notes
    assert [q.effort for q in result.bank.questions] == [3, 1, 10, 1, 2, 1]
    by_letter = sheet_bank(
        "caiq.xlsx", _with_efforts([3] * 6, "Cost"), SheetOptions(effort_column="F")
    )
    assert {q.effort for q in by_letter.bank.questions} == {3}
    ignored = sheet_bank("caiq.xlsx", _with_efforts([3] * 6), SheetOptions(effort_column="none"))
    assert {q.effort for q in ignored.bank.questions} == {1}


def test_import_bank_dry_run_says_what_it_chose_and_writes_nothing(capsys, cli_db, caiq):
    assert run(capsys, "init")[0] == 0
    before = bank_count(cli_db)
    code, out, err = run(capsys, "import-bank", str(caiq), "--dry-run")
    assert code == 0, err
    assert "chose header row 3 (detected)" in out
    assert "chose question column B 'Question' (detected)" in out
    assert "6 questions in 2 sections" in out and "skipped 4 rows without a question" in out
    assert "row 13: End of Standard" in out and "dry run: nothing written" in out
    assert bank_count(cli_db) == before


def test_import_bank_with_flags_stores_the_bank_once(capsys, cli_db, caiq):
    assert run(capsys, "init")[0] == 0
    args = ("import-bank", str(caiq), "--format", "sheet", "--section-from-id", "--type", "yes_no")
    code, out, err = run(capsys, *args)
    assert code == 0 and out.endswith("imported\n"), err
    assert run(capsys, *args)[1].endswith("already present, unchanged\n")
    with db.reading(cli_db) as s:
        qid = s.scalar(select(Questionnaire.id).where(Questionnaire.key == CAIQ_KEY))
        assert [sec.title for sec in load_bank(s, qid).sections] == ["A&A", "AIS"]


def _csv_rows() -> list[list[str]]:
    return [
        ["Ref", "Frage", "Antwort", "Kommentar"],
        ["DS-1", "Gibt es eine Richtlinie für Datensicherung?", "", ""],
        ["DS-2", "Werden Sicherungen verschlüsselt und geprüft, täglich?", "", ""],
        ["", "© Beispiel GmbH", "", ""],
    ]


def _csv(delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(_csv_rows())
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("what", "data"),
    [
        ("UTF-8 with a BOM", b"\xef\xbb\xbf" + _csv(",").encode()),
        ("semicolons", _csv(";").encode()),
        ("Latin-1", _csv(";").encode("latin-1")),
        ("Windows-1252 tabs", _csv("\t").encode("cp1252")),
    ],
)
def test_csv_with_bom_semicolons_or_latin_1_imports_correctly(what, data):
    options = SheetOptions(text_column="Frage")  # German headers: "Frage" is the question
    result = sheet_bank("fragen.csv", data, options)
    assert [q.text for q in result.bank.questions] == [r[1] for r in _csv_rows()[1:3]], what
    assert [q.key for q in result.bank.questions] == ["ds-1", "ds-2"]
    assert result.bank.questions[1].source_ref == SourceRef(3, None, "A")
    assert len(result.skipped) == 1


def test_a_sheet_within_the_row_limit_imports_whole():
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Big")
    sheet.append(HEADERS[:2])
    for i in range(10_000):
        sheet.append([f"BIG-{i:05d}", f"Is control {i} in place?"])
    result = sheet_bank("big.xlsx", xlsx_bytes(book))
    assert len(result.bank.questions) == 10_000
    assert result.bank.questions[-1].source_ref == SourceRef(10_001, "Big", "A")
