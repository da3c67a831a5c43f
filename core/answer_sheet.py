"""Answers written back into the questionnaire workbook a bank was imported from: each answer's
label (and justification) into its question's row, every other cell, sheet and style left as is,
so a client can return their customer's own file."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy.orm import Session

from core.access import Actor
from core.banks.model import Bank, Question
from core.banks.oscal import normalise_key
from core.banks.question_types import QUESTION_TYPES
from core.banks.sheet_read import read_sheet_file
from core.banks.sheet_ref import COLUMN_PATTERN, SourceRef
from core.errors import ValidationError
from core.exports import safe_cell
from core.models import QuestionnaireResponse
from core.workspace import load_workspace

NOT_APPLICABLE = "N/A"


@dataclass(frozen=True)
class FilledWorkbook:
    """The filled copy, a name to save it under and how many answers went in."""

    data: bytes
    name: str
    answers: int


def has_source_sheet(bank: Bank) -> bool:
    """True when the bank came from an XLSX workbook, so its answers can be written back."""
    return any(q.source_ref is not None and q.source_ref.sheet for q in bank.questions)


def filled_workbook(
    session: Session,
    actor: Actor,
    assessment_id: int,
    original: bytes,
    name: str,
    *,
    answer_column: str | None = None,
    justification_column: str | None = None,
) -> FilledWorkbook:
    """The original workbook with the assessment's answers in their rows (columns as imported,
    unless given); refused unless the actor may read the assessment and the file is that workbook."""
    workspace = load_workspace(session, actor, assessment_id)  # checks the actor may read it
    if not has_source_sheet(workspace.bank):
        raise ValidationError(
            "This questionnaire was not imported from an XLSX workbook, so there is no "
            "workbook to fill in."
        )
    overrides = _column(answer_column, "answer"), _column(justification_column, "justification")
    read_sheet_file(name, original)  # the import's checks: extension, zip bomb, macros, damage
    book = openpyxl.load_workbook(io.BytesIO(original), rich_text=True)
    written = 0
    for question in workspace.bank.questions:
        ref = question.source_ref
        if ref is None or ref.sheet is None:
            continue
        _check_row(book, name, question, ref)
        response = workspace.responses.get(question.key)
        written += _write(book[ref.sheet], question, ref, response, overrides, name)
    buffer = io.BytesIO()
    book.save(buffer)
    return FilledWorkbook(buffer.getvalue(), f"{Path(name).stem} (answered).xlsx", written)


def answer_label(question: Question, response: QuestionnaireResponse | None) -> str | None:
    """What a person reads for a stored answer: the option's label, the text, or N/A."""
    if response is None:
        return None
    if response.is_na:
        return NOT_APPLICABLE
    if response.value is None:
        return None
    label = QUESTION_TYPES[question.type].describe(question, response.value)
    return str(response.value) if label is None else label


def _write(
    sheet: Any,
    question: Question,
    ref: SourceRef,
    response: QuestionnaireResponse | None,
    overrides: tuple[str | None, str | None],
    name: str,
) -> int:
    answer_col = overrides[0] or ref.answer
    if answer_col is None:
        raise ValidationError(
            f"{name}: the questionnaire was imported without an answer column; name the "
            "column the answers go in"
        )
    label = answer_label(question, response)
    if label is None:
        return 0
    sheet[f"{answer_col}{ref.row}"].value = safe_cell(label)
    justification_col = overrides[1] or ref.justification
    if justification_col and response is not None and response.justification:
        sheet[f"{justification_col}{ref.row}"].value = safe_cell(response.justification)
    return 1


def _check_row(book: Any, name: str, question: Question, ref: SourceRef) -> None:
    """The question's row must still hold its id: otherwise this is another file or version."""
    if ref.sheet not in book.sheetnames:
        raise ValidationError(
            f"{name}: no sheet {ref.sheet!r}; choose the workbook this questionnaire was "
            "imported from"
        )
    if ref.id is None:
        return
    value = book[ref.sheet][f"{ref.id}{ref.row}"].value
    if value is None or normalise_key(" ".join(str(value).split())) != question.key:
        raise ValidationError(
            f"{name}, sheet {ref.sheet!r}, cell {ref.id}{ref.row}: holds {value!r} where "
            f"question {question.key!r} was imported from; choose the workbook this "
            "questionnaire was imported from"
        )


def _column(letters: str | None, what: str) -> str | None:
    if letters is None:
        return None
    if not COLUMN_PATTERN.match(letters.strip().upper()):
        raise ValidationError(f"The {what} column must be given by its letters, such as 'E'.")
    return letters.strip().upper()
