"""Strict parsing of bank dicts (from YAML or the database) into the frozen model."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.banks.answers import is_number, validate_answer
from core.banks.model import (CHOICE_TYPES, DEFAULT_MATURITY_SCALE, DEFAULT_TEXT_MAX_LENGTH,
                              KEY_PATTERN, KEY_RULE, MAX_LONG_TEXT, MAX_QUESTION_TEXT, MAX_TITLE,
                              OPTION_KEY_PATTERN, QUESTION_TYPES, SCORED_TYPES, _FIXED_OPTIONS,
                              Bank, Condition, Option, Question, Section)
from core.errors import ValidationError

_BANK_FIELDS = {"key", "version", "title", "description", "source", "licence", "sections"}
_SECTION_FIELDS = {"key", "title", "description", "weight", "questions"}
_QUESTION_FIELDS = {"key", "text", "help", "type", "weight", "required", "critical",
                    "evidence_required", "allow_na", "options", "min", "max", "max_length",
                    "condition"}
_CONDITION_OPS = ("equals", "in", "any_of")


class _Problem(Exception):
    """Internal: a problem at a location; parse_bank adds the source name."""


def parse_bank(data: dict, *, source_name: str) -> Bank:
    """Validate a bank dict (from YAML or the database); errors name the source and location."""
    try:
        return _bank(data)
    except _Problem as problem:
        raise ValidationError(f"{source_name}: {problem}") from None


def _bank(data: object) -> Bank:
    _fields(data, "bank", _BANK_FIELDS, {"key", "version", "title", "sections"})
    key, title = _key(data, "bank"), _text(data, "title", "bank", MAX_TITLE)
    version = data["version"]
    if type(version) is not int or version < 1:
        raise _Problem(f"bank: 'version' must be an integer >= 1, got {version!r}")
    meta = (_opt_text(data, "description", "bank"), _opt_text(data, "source", "bank", MAX_TITLE),
            _opt_text(data, "licence", "bank", MAX_TITLE))
    raw_sections = _list(data, "sections", "bank")
    all_keys = _raw_question_keys(raw_sections)
    seen: dict[str, Question] = {}
    sections = tuple(_section(raw, i, seen, all_keys) for i, raw in enumerate(raw_sections))
    return Bank(key, version, title, *meta, sections)


def _section(raw: object, index: int, seen: dict[str, Question], all_keys: set) -> Section:
    where = _where(f"sections[{index}]", raw)
    _fields(raw, where, _SECTION_FIELDS, {"key", "title", "questions"})
    key, title = _key(raw, where), _text(raw, "title", where, MAX_TITLE)
    if key in {q.section_key for q in seen.values()}:  # every earlier section has questions
        raise _Problem(f"{where}: duplicate section key '{key}'")
    description, weight = _opt_text(raw, "description", where), _weight(raw, where)
    questions = []
    for i, raw_q in enumerate(_list(raw, "questions", where)):
        question = _question(raw_q, f"sections[{index}].questions[{i}]", key, i, seen, all_keys)
        seen[question.key] = question
        questions.append(question)
    return Section(key, title, description, weight, index, tuple(questions))


def _question(raw: object, loc: str, section_key: str, index: int,
              seen: dict[str, Question], all_keys: set) -> Question:
    where = _where(loc, raw)
    _fields(raw, where, _QUESTION_FIELDS, {"key", "text", "type"})
    key = _key(raw, where)
    if key in seen:
        raise _Problem(f"{where}: duplicate question key '{key}'")
    qtype = raw["type"]
    if qtype not in QUESTION_TYPES:
        raise _Problem(f"{where}: unknown question type {qtype!r} (expected one of: "
                       f"{', '.join(QUESTION_TYPES)})")
    low, high = _bounds(raw, where, qtype)
    return Question(
        key, section_key, _text(raw, "text", where, MAX_QUESTION_TEXT),
        _opt_text(raw, "help", where), qtype, _weight(raw, where),
        _flag(raw, "required", where, True), _flag(raw, "critical", where, False),
        _flag(raw, "evidence_required", where, False), _flag(raw, "allow_na", where, False),
        _options(raw, where, qtype), low, high, _max_length(raw, where, qtype),
        _condition(raw.get("condition"), where, seen, all_keys), index)


def _options(raw: dict, where: str, qtype: str) -> tuple[Option, ...]:
    if "options" not in raw:
        if qtype in CHOICE_TYPES:
            raise _Problem(f"{where}: a {qtype} question needs 'options'")
        return _FIXED_OPTIONS.get(qtype) or (DEFAULT_MATURITY_SCALE if qtype == "maturity" else ())
    if qtype not in CHOICE_TYPES and qtype != "maturity":
        raise _Problem(f"{where}: a {qtype} question takes no 'options'")
    items = _list(raw, "options", where)
    if len(items) < 2:
        raise _Problem(f"{where}: 'options' needs at least 2 entries")
    options = tuple(_option(item, f"{where}.options[{i}]", qtype) for i, item in enumerate(items))
    keys = [o.key for o in options]
    for dup in {k for k in keys if keys.count(k) > 1}:
        raise _Problem(f"{where}: duplicate option key '{dup}'")
    return _fill_maturity_scores(options, where) if qtype == "maturity" else options


def _option(item: object, where: str, qtype: str) -> Option:
    required = {"key", "label"} | ({"score"} if qtype in CHOICE_TYPES else set())
    _fields(item, where, {"key", "label", "score"}, required)
    key = item["key"]
    if not isinstance(key, str) or not OPTION_KEY_PATTERN.match(key):
        raise _Problem(f"{where}: option key {key!r} must be text of 1-64 characters a-z, 0-9, "
                       "'.', '_' or '-' (quote numbers and yes/no in YAML)")
    score = item.get("score")
    if score is not None and (not is_number(score) or not 0 <= score <= 1):
        raise _Problem(f"{where}: option score must be a number between 0 and 1, got {score!r}")
    return Option(key, _text(item, "label", where, MAX_TITLE),
                  None if score is None else float(score))


def _fill_maturity_scores(options: tuple[Option, ...], where: str) -> tuple[Option, ...]:
    # Consumers read option.score directly, so an unscored scale gets even steps here.
    scored = [o.score is not None for o in options]
    if all(scored):
        return options
    if any(scored):
        raise _Problem(f"{where}: give a score on every maturity option or on none")
    last = len(options) - 1
    return tuple(Option(o.key, o.label, i / last) for i, o in enumerate(options))


def _bounds(raw: dict, where: str, qtype: str) -> tuple[float | None, float | None]:
    values = []
    for name in ("min", "max"):
        value = raw.get(name)
        if value is not None and qtype != "number":
            raise _Problem(f"{where}: '{name}' is only allowed on number questions")
        if value is not None and not is_number(value):
            raise _Problem(f"{where}: '{name}' must be a number, got {value!r}")
        values.append(value)
    low, high = values
    if low is not None and high is not None and low > high:
        raise _Problem(f"{where}: min ({low}) is greater than max ({high})")
    return low, high


def _max_length(raw: dict, where: str, qtype: str) -> int | None:
    if "max_length" in raw and qtype != "text":
        raise _Problem(f"{where}: 'max_length' is only allowed on text questions")
    if qtype != "text":
        return None
    value = raw.get("max_length", DEFAULT_TEXT_MAX_LENGTH)
    if type(value) is not int or value < 1:
        raise _Problem(f"{where}: 'max_length' must be an integer >= 1, got {value!r}")
    return value


def _condition(raw: object, where: str, seen: Mapping[str, Question],
               all_keys: set) -> Condition | None:
    if raw is None:
        return None
    where = f"{where}.condition"
    _fields(raw, where, {"question", *_CONDITION_OPS}, {"question"})
    ops = [op for op in _CONDITION_OPS if op in raw]
    if len(ops) != 1:
        raise _Problem(f"{where}: give exactly one of 'equals', 'in', 'any_of'")
    ref_key = raw["question"]
    if not isinstance(ref_key, str):
        raise _Problem(f"{where}: 'question' must be a question key, got {ref_key!r}")
    if ref_key not in seen:
        when = "comes later in the bank" if ref_key in all_keys else "does not exist"
        raise _Problem(f"{where}: refers to question {ref_key!r}, which {when}; "
                       "conditions may only refer to earlier questions")
    ref, op = seen[ref_key], ops[0]
    values = _condition_values(raw[op], op, ref, where)
    return Condition(ref_key, op, values)


def _condition_values(raw: object, op: str, ref: Question, where: str) -> tuple:
    if (op == "any_of") != (ref.type == "multi_choice"):
        use = "'any_of'" if ref.type == "multi_choice" else "'equals' or 'in'"
        raise _Problem(f"{where}: use {use} for a {ref.type} question")
    if op == "equals":
        values = [raw]
    elif not isinstance(raw, list) or not raw:
        raise _Problem(f"{where}: '{op}' needs a non-empty list")
    else:
        values = raw
    keys = [o.key for o in ref.options]
    normalised = [v if op == "any_of" and v in keys else _valid_answer(ref, v) for v in values]
    for value, norm in zip(values, normalised):
        if norm is None:
            quote = isinstance(value, (bool, int, float)) and ref.type in SCORED_TYPES
            hint = " (quote numbers and yes/no in YAML)" if quote else ""
            raise _Problem(f"{where}: {value!r} is not a valid answer to question "
                           f"'{ref.key}'{hint}")
    return tuple(normalised)


def _valid_answer(question: Question, value: object) -> object:
    try:
        return validate_answer(question, value, False)
    except ValidationError:
        return None


def _where(loc: str, raw: object) -> str:
    key = raw.get("key") if isinstance(raw, dict) else None
    return f"{loc} (key {key!r})" if isinstance(key, str) else loc


def _fields(raw: object, where: str, allowed: set, required: set) -> None:
    if not isinstance(raw, dict):
        raise _Problem(f"{where}: expected a mapping, got {type(raw).__name__}")
    for name in raw:
        if name not in allowed:
            raise _Problem(f"{where}: unknown field {name!r} "
                           f"(allowed: {', '.join(sorted(allowed))})")
    for name in sorted(required):
        if raw.get(name) is None:
            raise _Problem(f"{where}: missing required field '{name}'")


def _key(raw: dict, where: str) -> str:
    key = raw["key"]
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise _Problem(f"{where}: key {key!r} must match {KEY_RULE}")
    return key


def _text(raw: dict, name: str, where: str, limit: int) -> str:
    value = raw[name]
    if not isinstance(value, str) or not value.strip():
        raise _Problem(f"{where}: '{name}' must be non-empty text (quote yes/no/numbers in YAML)")
    if len(value) > limit:
        raise _Problem(f"{where}: '{name}' is longer than {limit} characters")
    return value


def _opt_text(raw: dict, name: str, where: str, limit: int = MAX_LONG_TEXT) -> str | None:
    return None if raw.get(name) is None else _text(raw, name, where, limit)


def _weight(raw: dict, where: str) -> float:
    value = raw.get("weight", 1)
    if not is_number(value) or value <= 0:
        raise _Problem(f"{where}: 'weight' must be a number > 0, got {value!r}")
    return float(value)


def _flag(raw: dict, name: str, where: str, default: bool) -> bool:
    value = raw.get(name, default)
    if not isinstance(value, bool):
        raise _Problem(f"{where}: '{name}' must be true or false, got {value!r}")
    return value


def _list(raw: dict, name: str, where: str) -> list:
    value = raw[name]
    if not isinstance(value, list) or not value:
        raise _Problem(f"{where}: '{name}' must be a non-empty list")
    return value


def _raw_question_keys(raw_sections: Iterable) -> set:
    # Lets a condition error say "later" rather than "does not exist".
    return {q.get("key") for s in raw_sections
            if isinstance(s, dict) and isinstance(s.get("questions"), list)
            for q in s["questions"] if isinstance(q, dict)}
