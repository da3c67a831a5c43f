"""Questionnaire workbooks and CSV files shaped like the ones clients send, made with openpyxl."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

HEADERS = ["Question ID", "Question", "CSP CAIQ Answer", "CSP Implementation Description", "Domain"]
# (id, question, domain): two domains, as in the CSA CAIQ.
QUESTIONS = [
    (
        "A&A-01.1",
        "Are audit and assurance policies established, documented and approved?",
        "Audit & Assurance",
    ),
    (
        "A&A-01.2",
        "Are audit and assurance policies reviewed and updated at least annually?",
        "Audit & Assurance",
    ),
    (
        "A&A-02.1",
        "Are independent audit and assurance assessments conducted annually?",
        "Audit & Assurance",
    ),
    (
        "AIS-01.1",
        "Are application security policies established, documented and approved?",
        "Application & Interface Security",
    ),
    (
        "AIS-01.2",
        "Are application security policies reviewed at least annually?",
        "Application & Interface Security",
    ),
    (
        "AIS-02.1",
        "Are baseline requirements to secure applications established?",
        "Application & Interface Security",
    ),
]
TITLE = "Consensus Assessments Initiative Questionnaire v4 (example)"
HEADER_ROW = 3  # the header is row 3, the questions start in row 4; a domain title row between


def questionnaire_rows() -> list[list[object]]:
    """Title, blank, header, a domain title, the questions, a closing and a copyright line."""
    rows: list[list[object]] = [[TITLE], [], list(HEADERS), ["Audit & Assurance"]]
    for qid, text, domain in QUESTIONS:
        if qid == "AIS-01.1":
            rows.append(["Application & Interface Security"])
        rows.append([qid, text, None, None, domain])
    rows += [
        [],
        ["End of Standard"],
        ["© Copyright 2021, Cloud Security Alliance. All rights reserved."],
    ]
    return rows


def caiq_workbook(rows: list[list[object]] | None = None) -> Workbook:
    """A styled workbook: instructions sheet first, the questionnaire second, with an answer list."""
    book = Workbook()
    intro = book.active
    intro.title = "Introduction"
    intro["A1"] = "How to fill in this questionnaire"
    intro["A1"].font = Font(bold=True, size=14)
    intro["A3"] = "Answer each question in column C and describe the implementation in column D."
    sheet = book.create_sheet("CAIQv4")
    for row in rows or questionnaire_rows():
        sheet.append(row)
    sheet.merge_cells("A1:E1")
    sheet["A1"].font = Font(bold=True, size=16, color="FFFFFF")
    sheet["A1"].fill = PatternFill("solid", fgColor="1F4E78")
    for cell in sheet[HEADER_ROW]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
    sheet.column_dimensions["B"].width = 80
    sheet["B4"].alignment = Alignment(wrap_text=True)
    answers = DataValidation(type="list", formula1='"Yes,No,NA"', allow_blank=True)
    sheet.add_data_validation(answers)
    answers.add("C4:C20")
    return book


def xlsx_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def caiq_bytes(rows: list[list[object]] | None = None) -> bytes:
    return xlsx_bytes(caiq_workbook(rows))
