"""Strict parsing of bank dicts (from YAML or the database) into the frozen model.

A question's optional `effort` is a whole number from 1 to 10 (default 1): what raising its
answer costs, which the score planner's cheapest plan weighs (core/planner.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.banks.answers import validate_answer
from core.banks.fields import Problem, check_fields, is_number, read_list, read_text
from core.banks.model import (
    KEY_PATTERN,
    KEY_RULE,
    MAX_EFFORT,
    MAX_HELP_TEXT,
    MAX_LONG_TEXT,
    MAX_QUESTION_TEXT,
    MAX_TITLE,
    Bank,
    Condition,
    Question,
    Section,
)
from core.banks.question_types import QUESTION_TYPES
from core.banks.sheet_ref import read_source_ref
from core.errors import ValidationError

_BANK_FIELDS = {"key", "version", "title", "description", "source", "licence", "sections"}
_SECTION_FIELDS = {"key", "title", "description", "weight", "questions"}
_QUESTION_FIELDS = {
    "key",
    "text",
    "help",
    "type",
    "weight",
    "required",
    "critical",
    "evidence_required",
    "allow_na",
    "options",
    "min",
    "max",
    "max_length",
    "condition",
    "source_ref",
    "effort",
}
_CONDITION_OPS = ("equals", "in", "any_of")


def parse_bank(data: Mapping[str, Any], *, source_name: str) -> Bank:
    """Validate a bank dict (from YAML or the database); errors name the source and location."""
    try:
        return _bank(data)
    except Problem as problem:
        raise ValidationError(f"{source_name}: {problem}") from None


def _fields(raw: object, where: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
    """The mapping, once check_fields found its fields allowed and complete."""
    check_fields(raw, where, allowed, required)
    assert isinstance(raw, dict)  # check_fields refuses anything else
    return raw


def _bank(raw: object) -> Bank:
    data = _fields(raw, "bank", _BANK_FIELDS, {"key", "version", "title", "sections"})
    key, title = _key(data, "bank"), read_text(data, "title", "bank", MAX_TITLE)
    version = data["version"]
    if type(version) is not int or version < 1:
        raise Problem(f"bank: 'version' must be an integer >= 1, got {version!r}")
    meta = (
        _opt_text(data, "description", "bank"),
        _opt_text(data, "source", "bank", MAX_TITLE),
        _opt_text(data, "licence", "bank", MAX_TITLE),
    )
    raw_sections = read_list(data, "sections", "bank")
    all_keys = _raw_question_keys(raw_sections)
    seen: dict[str, Question] = {}
    sections = tuple(_section(raw, i, seen, all_keys) for i, raw in enumerate(raw_sections))
    return Bank(key, version, title, *meta, sections)


def _section(
    given: object, index: int, seen: dict[str, Question], all_keys: set[object]
) -> Section:
    where = _where(f"sections[{index}]", given)
    raw = _fields(given, where, _SECTION_FIELDS, {"key", "title", "questions"})
    key, title = _key(raw, where), read_text(raw, "title", where, MAX_TITLE)
    if key in {q.section_key for q in seen.values()}:  # every earlier section has questions
        raise Problem(f"{where}: duplicate section key '{key}'")
    description, weight = _opt_text(raw, "description", where), _weight(raw, where)
    questions = []
    for i, raw_q in enumerate(read_list(raw, "questions", where)):
        question = _question(raw_q, f"sections[{index}].questions[{i}]", key, i, seen, all_keys)
        seen[question.key] = question
        questions.append(question)
    return Section(key, title, description, weight, index, tuple(questions))


def _question(
    given: object,
    loc: str,
    section_key: str,
    index: int,
    seen: dict[str, Question],
    all_keys: set[object],
) -> Question:
    where = _where(loc, given)
    raw = _fields(given, where, _QUESTION_FIELDS, {"key", "text", "type"})
    key = _key(raw, where)
    if key in seen:
        raise Problem(f"{where}: duplicate question key '{key}'")
    qtype = raw["type"]
    if not isinstance(qtype, str) or qtype not in QUESTION_TYPES:  # a YAML list is unhashable
        raise Problem(
            f"{where}: unknown question type {qtype!r} (expected one of: "
            f"{', '.join(QUESTION_TYPES)})"
        )
    text, help_text = (
        read_text(raw, "text", where, MAX_QUESTION_TEXT),
        _opt_text(raw, "help", where, MAX_HELP_TEXT),
    )
    weight = _weight(raw, where)
    flags = (
        _flag(raw, "required", where, True),
        _flag(raw, "critical", where, False),
        _flag(raw, "evidence_required", where, False),
        _flag(raw, "allow_na", where, False),
    )
    spec = QUESTION_TYPES[qtype].definition(raw, where)
    return Question(
        key,
        section_key,
        text,
        help_text,
        qtype,
        weight,
        *flags,
        spec.options,
        spec.min,
        spec.max,
        spec.max_length,
        _condition(raw.get("condition"), where, seen, all_keys),
        index,
        read_source_ref(raw.get("source_ref"), where),
        _effort(raw, where),
    )


def _condition(
    given: object, where: str, seen: Mapping[str, Question], all_keys: set[object]
) -> Condition | None:
    if given is None:
        return None
    where = f"{where}.condition"
    raw = _fields(given, where, {"question", *_CONDITION_OPS}, {"question"})
    ops = [op for op in _CONDITION_OPS if op in raw]
    if len(ops) != 1:
        raise Problem(f"{where}: give exactly one of 'equals', 'in', 'any_of'")
    ref_key = raw["question"]
    if not isinstance(ref_key, str):
        raise Problem(f"{where}: 'question' must be a question key, got {ref_key!r}")
    if ref_key not in seen:
        when = "comes later in the bank" if ref_key in all_keys else "does not exist"
        raise Problem(
            f"{where}: refers to question {ref_key!r}, which {when}; "
            "conditions may only refer to earlier questions"
        )
    ref, op = seen[ref_key], ops[0]
    values = _condition_values(raw[op], op, ref, where)
    return Condition(ref_key, op, values)


def _condition_values(raw: object, op: str, ref: Question, where: str) -> tuple[object, ...]:
    multiple = QUESTION_TYPES[ref.type].multiple
    if (op == "any_of") != multiple:
        use = "'any_of'" if multiple else "'equals' or 'in'"
        raise Problem(f"{where}: use {use} for a {ref.type} question")
    values: list[object]
    if op == "equals":
        values = [raw]
    elif not isinstance(raw, list) or not raw:
        raise Problem(f"{where}: '{op}' needs a non-empty list")
    else:
        values = raw
    keys = [o.key for o in ref.options]
    normalised = [v if op == "any_of" and v in keys else _valid_answer(ref, v) for v in values]
    for value, norm in zip(values, normalised, strict=False):
        if norm is None:
            quote = isinstance(value, (bool, int, float)) and QUESTION_TYPES[ref.type].scored
            hint = " (quote numbers and yes/no in YAML)" if quote else ""
            raise Problem(f"{where}: {value!r} is not a valid answer to question '{ref.key}'{hint}")
    return tuple(normalised)


def _valid_answer(question: Question, value: object) -> object:
    try:
        return validate_answer(question, value, False)
    except ValidationError:
        return None


def _where(loc: str, raw: object) -> str:
    key = raw.get("key") if isinstance(raw, dict) else None
    return f"{loc} (key {key!r})" if isinstance(key, str) else loc


def _key(raw: dict[str, Any], where: str) -> str:
    key = raw["key"]
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise Problem(f"{where}: key {key!r} must match {KEY_RULE}")
    return key


def _opt_text(raw: dict[str, Any], name: str, where: str, limit: int = MAX_LONG_TEXT) -> str | None:
    return None if raw.get(name) is None else read_text(raw, name, where, limit)


def _weight(raw: dict[str, Any], where: str) -> float:
    value = raw.get("weight", 1)
    if not is_number(value) or value <= 0:
        raise Problem(f"{where}: 'weight' must be a number > 0, got {value!r}")
    return float(value)


def _effort(raw: dict[str, Any], where: str) -> int:
    value = raw.get("effort", 1)
    if type(value) is not int or not 1 <= value <= MAX_EFFORT:
        raise Problem(
            f"{where}: 'effort' must be a whole number from 1 to {MAX_EFFORT}, got {value!r}"
        )
    return value


def _flag(raw: dict[str, Any], name: str, where: str, default: bool) -> bool:
    value = raw.get(name, default)
    if not isinstance(value, bool):
        raise Problem(f"{where}: '{name}' must be true or false, got {value!r}")
    return value


def _raw_question_keys(raw_sections: Iterable[object]) -> set[object]:
    # Lets a condition error say "later" rather than "does not exist".
    return {
        q.get("key")
        for s in raw_sections
        if isinstance(s, dict) and isinstance(s.get("questions"), list)
        for q in s["questions"]
        if isinstance(q, dict)
    }
