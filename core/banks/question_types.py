"""The question types: each one registered object with every part the app needs of a type.

Adding a type means one entry in QUESTION_TYPES here and one input in ui/questionnaire.py INPUTS;
tests/test_question_types.py fails while either lacks a part.
"""

from __future__ import annotations

import datetime as _dt
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.banks import options as opt
from core.banks.fields import Problem, is_number
from core.banks.model import Option, Question
from core.banks.options import YES_NO_OPTIONS, YES_NO_PARTIAL_OPTIONS
from core.errors import ValidationError
from core.text import refuse_hidden

DEFAULT_TEXT_MAX_LENGTH = 5000
_DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


@dataclass(frozen=True)
class Definition:
    """The type-specific part of a question definition: its options and limits."""

    options: tuple[Option, ...] = ()
    min: float | None = None
    max: float | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class QuestionType:
    """One question type. Every callable part is required; the tests check each type has all."""

    key: str
    label: str  # as people read it: "Multiple choice"
    scored: bool  # answers score in [0, 1]; unscored types never count in a score
    multiple: bool  # answers are lists of option keys (conditions on it use 'any_of')
    # raw question dict and its location -> its options and limits; raises Problem
    definition: Callable[[dict[str, Any], str], Definition]
    # a given value (not None, not N/A) -> the value normalised; raises ValidationError
    validate: Callable[[Question, object], object]
    # a validated value -> score in [0, 1], or None for an unscored type
    score: Callable[[Question, object], float | None]
    # the type-specific fields of the question in the file format, None for a default
    dump: Callable[[Question], dict[str, Any]]
    # a stored value -> the label people read beside it in extracts, or None
    describe: Callable[[Question, object], str | None]
    # (question, quality 0-1, rng) -> a plausible valid answer for demo data
    demo: Callable[[Question, float, random.Random], object]


# ----------------------------------------------------------------- definition


def _definition(
    qtype: str,
    options: Callable[[dict[str, Any], str, str], tuple[Option, ...]],
    *,
    bounds: bool = False,
    text: bool = False,
) -> Callable[[dict[str, Any], str], Definition]:
    def parse(raw: dict[str, Any], where: str) -> Definition:
        low, high = _bounds(raw, where, bounds)
        return Definition(options(raw, where, qtype), low, high, _max_length(raw, where, text))

    return parse


def _bounds(raw: dict[str, Any], where: str, allowed: bool) -> tuple[float | None, float | None]:
    values = []
    for name in ("min", "max"):
        value = raw.get(name)
        if value is not None and not allowed:
            raise Problem(f"{where}: '{name}' is only allowed on number questions")
        if value is not None and not is_number(value):
            raise Problem(f"{where}: '{name}' must be a number, got {value!r}")
        values.append(value)
    low, high = values
    if low is not None and high is not None and low > high:
        raise Problem(f"{where}: min ({low}) is greater than max ({high})")
    return low, high


def _max_length(raw: dict[str, Any], where: str, allowed: bool) -> int | None:
    if "max_length" in raw and not allowed:
        raise Problem(f"{where}: 'max_length' is only allowed on text questions")
    if not allowed:
        return None
    value = raw.get("max_length", DEFAULT_TEXT_MAX_LENGTH)
    if type(value) is not int or value < 1:
        raise Problem(f"{where}: 'max_length' must be an integer >= 1, got {value!r}")
    return value


# ----------------------------------------------------------------- answers


def _number(question: Question, value: object) -> object:
    if not is_number(value):
        raise ValidationError(f"Question '{question.key}' needs a number, got {value!r}.")
    if question.min is not None and value < question.min:
        raise ValidationError(
            f"Question '{question.key}': {value} is below the minimum {question.min}."
        )
    if question.max is not None and value > question.max:
        raise ValidationError(
            f"Question '{question.key}': {value} is above the maximum {question.max}."
        )
    return value


def _text(question: Question, value: object) -> object:
    if not isinstance(value, str):
        raise ValidationError(f"Question '{question.key}' needs text, got {type(value).__name__}.")
    limit = question.max_length or DEFAULT_TEXT_MAX_LENGTH
    if len(value) > limit:
        raise ValidationError(
            f"Question '{question.key}': the answer is longer than {limit} characters."
        )
    # Refused, not normalised: bank conditions compare text answers exactly as written.
    refuse_hidden(value, f"The answer to question '{question.key}'", multiline=True)
    return value if value.strip() else None  # blank text is no answer


def _date(question: Question, value: object) -> object:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value.isoformat()
    try:
        if isinstance(value, str) and _DATE_PATTERN.match(value):
            return _dt.date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise ValidationError(f"Question '{question.key}' needs a date as YYYY-MM-DD, got {value!r}.")


# ----------------------------------------------------------------- scores


def _unscored(question: Question, value: object) -> None:
    return None


# ----------------------------------------------------------------- file format


def _implied(question: Question) -> dict[str, Any]:
    return {}


def _bounds_data(question: Question) -> dict[str, Any]:
    return {"min": question.min, "max": question.max}


def _length_data(question: Question) -> dict[str, Any]:
    length = question.max_length
    return {"max_length": length if length != DEFAULT_TEXT_MAX_LENGTH else None}


# ----------------------------------------------------------------- labels and demo answers


def _no_label(question: Question, value: object) -> None:
    return None


def _demo_number(question: Question, quality: float, rng: random.Random) -> object:
    low, high = question.min or 0, question.max if question.max is not None else 100
    return int(low + (high - low) * quality)


def _demo_text(question: Question, quality: float, rng: random.Random) -> object:
    return "Documented in our security handbook, reviewed yearly."


def _demo_date(question: Question, quality: float, rng: random.Random) -> object:
    return (_dt.date.today() - _dt.timedelta(days=rng.randint(10, 300))).isoformat()


# ----------------------------------------------------------------- the registry


def _option_type(
    key: str,
    label: str,
    options: Callable[[dict[str, Any], str, str], tuple[Option, ...]],
    dump: Callable[[Question], dict[str, Any]],
    *,
    multiple: bool = False,
) -> QuestionType:
    return QuestionType(
        key,
        label,
        scored=True,
        multiple=multiple,
        definition=_definition(key, options),
        validate=opt.many_options if multiple else opt.one_option,
        score=opt.many_score if multiple else opt.option_score,
        dump=dump,
        describe=opt.option_labels,
        demo=opt.demo_many if multiple else opt.demo_one,
    )


def _plain_type(
    key: str,
    label: str,
    validate: Callable[[Question, object], object],
    dump: Callable[[Question], dict[str, Any]],
    demo: Callable[[Question, float, random.Random], object],
    **limits: bool,
) -> QuestionType:
    return QuestionType(
        key,
        label,
        scored=False,
        multiple=False,
        definition=_definition(key, opt.no_options, **limits),
        validate=validate,
        score=_unscored,
        dump=dump,
        describe=_no_label,
        demo=demo,
    )


QUESTION_TYPES: dict[str, QuestionType] = {
    t.key: t
    for t in (
        _option_type("yes_no", "Yes/no", opt.fixed(YES_NO_OPTIONS), _implied),
        _option_type(
            "yes_no_partial", "Yes/partially/no", opt.fixed(YES_NO_PARTIAL_OPTIONS), _implied
        ),
        _option_type("maturity", "Maturity", opt.scale, opt.scale_data),
        _option_type("single_choice", "Single choice", opt.choices, opt.options_data),
        _option_type(
            "multi_choice", "Multiple choice", opt.choices, opt.options_data, multiple=True
        ),
        _plain_type("number", "Number", _number, _bounds_data, _demo_number, bounds=True),
        _plain_type("text", "Text", _text, _length_data, _demo_text, text=True),
        _plain_type("date", "Date", _date, _implied, _demo_date),
    )
}
SCORED_TYPES = frozenset(k for k, t in QUESTION_TYPES.items() if t.scored)
