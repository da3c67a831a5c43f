"""Answer validation and visibility rules for one question of a bank."""
from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping

from core.banks.model import DEFAULT_TEXT_MAX_LENGTH, Answer, Bank, Question
from core.errors import ValidationError
from core.text import clean_text, refuse_hidden

_DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


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
    if question.options:
        return _check_options(question, value)
    return _CHECKERS[question.type](question, value)


def _check_options(question: Question, value: object) -> object:
    keys = [o.key for o in question.options]
    chosen = value if question.type == "multi_choice" else [value]
    if question.type == "multi_choice" and (not isinstance(value, (list, tuple)) or not value):
        raise ValidationError(f"Question '{question.key}' needs a non-empty list of options.")
    if len(set(map(repr, chosen))) != len(chosen):
        raise ValidationError(f"Question '{question.key}': an option was chosen twice.")
    for item in chosen:
        if not isinstance(item, str) or item not in keys:
            raise ValidationError(f"Question '{question.key}': {item!r} is not one of its "
                                  f"options ({', '.join(keys)}).")
    if question.type == "multi_choice":
        return [k for k in keys if k in chosen]  # option order, so equal choices compare equal
    return value


def _check_number(question: Question, value: object) -> object:
    if not is_number(value):
        raise ValidationError(f"Question '{question.key}' needs a number, got {value!r}.")
    if question.min is not None and value < question.min:
        raise ValidationError(f"Question '{question.key}': {value} is below the minimum "
                              f"{question.min}.")
    if question.max is not None and value > question.max:
        raise ValidationError(f"Question '{question.key}': {value} is above the maximum "
                              f"{question.max}.")
    return value


def _check_text(question: Question, value: object) -> object:
    if not isinstance(value, str):
        raise ValidationError(f"Question '{question.key}' needs text, got {type(value).__name__}.")
    limit = question.max_length or DEFAULT_TEXT_MAX_LENGTH
    if len(value) > limit:
        raise ValidationError(f"Question '{question.key}': the answer is longer than "
                              f"{limit} characters.")
    # Refused, not normalised: bank conditions compare text answers exactly as written.
    refuse_hidden(value, f"The answer to question '{question.key}'", multiline=True)
    return value if value.strip() else None  # blank text is no answer


def clean_justification(question_key: str, text: object, limit: int) -> str:
    """A justification checked like any user text (multi-line; may be empty)."""
    return clean_text(text, f"The justification of question '{question_key}'", limit=limit,
                      multiline=True, required=False)


def _check_date(question: Question, value: object) -> object:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value.isoformat()
    try:
        if isinstance(value, str) and _DATE_PATTERN.match(value):
            return _dt.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise ValidationError(f"Question '{question.key}' needs a date as YYYY-MM-DD, got {value!r}.")


_CHECKERS = {"number": _check_number, "text": _check_text, "date": _check_date}


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


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
