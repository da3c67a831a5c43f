"""Answer validation and visibility rules for one question of a bank."""

from __future__ import annotations

from collections.abc import Mapping

from core.banks.model import Answer, Bank, Question
from core.banks.question_types import QUESTION_TYPES
from core.errors import ValidationError
from core.text import clean_text


def validate_answer(question: Question, value: object, is_na: bool) -> object:
    """Check one answer against its question and return it normalised (None = unanswered)."""
    if is_na:
        if not question.allow_na:
            raise ValidationError(f"Question '{question.key}' cannot be answered N/A.")
        if value is not None:
            raise ValidationError(f"Question '{question.key}': an N/A answer cannot have a value.")
        return None
    if value is None:
        return None
    return QUESTION_TYPES[question.type].validate(question, value)


def clean_justification(question_key: str, text: object, limit: int) -> str:
    """A justification checked like any user text (multi-line; may be empty)."""
    return clean_text(
        text,
        f"The justification of question '{question_key}'",
        limit=limit,
        multiline=True,
        required=False,
    )


def is_visible(question: Question, answers: Mapping[str, Answer], bank: Bank) -> bool:
    """True when the question's condition chain is met by the answers given."""
    current = question
    while current.condition is not None:
        cond = current.condition
        answer = answers.get(cond.question)
        if answer is None or answer.is_na or answer.value is None:
            return False
        value = answer.value
        if cond.op == "any_of":
            if not isinstance(value, (list, tuple)) or not any(v in cond.values for v in value):
                return False
        elif isinstance(value, (list, dict)) or value not in cond.values:
            return False
        current = bank.question(cond.question)
    return True
