"""Option-based question types: their option sets and how options are read, checked, scored,
written, labelled and picked for demo data."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from core.banks.fields import (
    Problem,
    check_fields,
    drop_none,
    is_number,
    plain_number,
    read_list,
    read_text,
)
from core.banks.model import MAX_TITLE, OPTION_KEY_PATTERN, Option, Question
from core.errors import ValidationError

YES_NO_OPTIONS = (Option("yes", "Yes", 1.0), Option("no", "No", 0.0))
YES_NO_PARTIAL_OPTIONS = (
    Option("yes", "Yes", 1.0),
    Option("partial", "Partially", 0.5),
    Option("no", "No", 0.0),
)
DEFAULT_MATURITY_SCALE = tuple(
    Option(str(i), label, i / 5)
    for i, label in enumerate(
        (
            "0 - Not performed",
            "1 - Initial",
            "2 - Managed",
            "3 - Defined",
            "4 - Measured",
            "5 - Optimising",
        )
    )
)


def no_options(raw: dict[str, Any], where: str, qtype: str) -> tuple[Option, ...]:
    """Definition reader of a type without options: refuses an 'options' field."""
    if "options" in raw:
        raise Problem(f"{where}: a {qtype} question takes no 'options'")
    return ()


def fixed(options: tuple[Option, ...]) -> Callable[[dict[str, Any], str, str], tuple[Option, ...]]:
    """Definition reader of a type whose options are fixed: refuses an 'options' field."""

    def read(raw: dict[str, Any], where: str, qtype: str) -> tuple[Option, ...]:
        no_options(raw, where, qtype)
        return options

    return read


def choices(raw: dict[str, Any], where: str, qtype: str) -> tuple[Option, ...]:
    """Definition reader of a choice type: options required, each with a score."""
    if "options" not in raw:
        raise Problem(f"{where}: a {qtype} question needs 'options'")
    return _option_list(raw, where, scored=True)


def scale(raw: dict[str, Any], where: str, qtype: str) -> tuple[Option, ...]:
    """Definition reader of a scale: the default scale, or given options scored evenly when unscored."""
    if "options" not in raw:
        return DEFAULT_MATURITY_SCALE
    options = _option_list(raw, where, scored=False)
    # Consumers read option.score directly, so an unscored scale gets even steps here.
    scored = [o.score is not None for o in options]
    if all(scored):
        return options
    if any(scored):
        raise Problem(f"{where}: give a score on every maturity option or on none")
    last = len(options) - 1
    return tuple(Option(o.key, o.label, i / last) for i, o in enumerate(options))


def _option_list(raw: dict[str, Any], where: str, *, scored: bool) -> tuple[Option, ...]:
    items = read_list(raw, "options", where)
    if len(items) < 2:
        raise Problem(f"{where}: 'options' needs at least 2 entries")
    options = tuple(_option(item, f"{where}.options[{i}]", scored) for i, item in enumerate(items))
    keys = [o.key for o in options]
    for dup in {k for k in keys if keys.count(k) > 1}:
        raise Problem(f"{where}: duplicate option key '{dup}'")
    return options


def _option(item: object, where: str, scored: bool) -> Option:
    item = check_fields(
        item, where, {"key", "label", "score"}, {"key", "label"} | ({"score"} if scored else set())
    )
    key = item["key"]
    if not isinstance(key, str) or not OPTION_KEY_PATTERN.match(key):
        raise Problem(
            f"{where}: option key {key!r} must be text of 1-64 characters a-z, 0-9, "
            "'.', '_' or '-' (quote numbers and yes/no in YAML)"
        )
    score = item.get("score")
    if score is not None and (not is_number(score) or not 0 <= score <= 1):
        raise Problem(f"{where}: option score must be a number between 0 and 1, got {score!r}")
    return Option(
        key, read_text(item, "label", where, MAX_TITLE), None if score is None else float(score)
    )


def one_option(question: Question, value: object) -> object:
    """One option key chosen."""
    _check_chosen(question, [value])
    return value


def many_options(question: Question, value: object) -> object:
    """A non-empty list of distinct option keys, returned in option order."""
    if not isinstance(value, (list, tuple)) or not value:
        raise ValidationError(f"Question '{question.key}' needs a non-empty list of options.")
    _check_chosen(question, value)
    return [
        o.key for o in question.options if o.key in value
    ]  # option order: equal choices compare equal


def _check_chosen(question: Question, chosen: Sequence[object]) -> None:
    keys = [o.key for o in question.options]
    if len(set(map(repr, chosen))) != len(chosen):
        raise ValidationError(f"Question '{question.key}': an option was chosen twice.")
    for item in chosen:
        if not isinstance(item, str) or item not in keys:
            raise ValidationError(
                f"Question '{question.key}': {item!r} is not one of its "
                f"options ({', '.join(keys)})."
            )


def option_score(question: Question, key: object) -> float:
    """Score of one chosen option."""
    keys = [o.key for o in question.options]
    index = keys.index(str(key))  # a validated key is already text
    score = question.options[index].score
    if score is not None:
        return score
    # Hand-built maturity scales may omit scores; space the levels evenly.
    return index / (len(keys) - 1) if len(keys) > 1 else 0.0


def many_score(question: Question, value: object) -> float:
    """Sum of the chosen options' scores, capped at 1."""
    keys: Sequence[object] = value if isinstance(value, (list, tuple)) else ()  # validated before
    return min(1.0, sum(option_score(question, key) for key in keys))


def options_data(question: Question) -> dict[str, Any]:
    """The options in the file format."""
    return {
        "options": [
            drop_none(
                {
                    "key": o.key,
                    "label": o.label,
                    "score": None if o.score is None else plain_number(o.score),
                }
            )
            for o in question.options
        ]
    }


def scale_data(question: Question) -> dict[str, Any]:
    """The options in the file format, unless they are the default scale."""
    # The default scale is implied by the type, so writing it out would be noise.
    return {} if question.options == DEFAULT_MATURITY_SCALE else options_data(question)


def option_labels(question: Question, value: object) -> str | None:
    """The label(s) of the chosen option(s); None when the question has none."""
    options = {o.key: o.label for o in question.options}
    if not options or value is None:
        return None
    if isinstance(value, list):
        return "; ".join(options.get(str(v), str(v)) for v in value)
    return options.get(str(value), str(value))


def _ranked(question: Question, quality: float, rng: random.Random) -> tuple[list[Option], int]:
    ranked = sorted(question.options, key=lambda o: o.score or 0)
    spread = quality + rng.uniform(-0.35, 0.35)
    return ranked, min(len(ranked) - 1, max(0, round(spread * (len(ranked) - 1))))


def demo_one(question: Question, quality: float, rng: random.Random) -> object:
    """The option at a level near the quality."""
    ranked, level = _ranked(question, quality, rng)
    return ranked[level].key


def demo_many(question: Question, quality: float, rng: random.Random) -> object:
    """The best of the options up to a level near the quality (at most two)."""
    ranked, level = _ranked(question, quality, rng)
    return [o.key for o in ranked[: level + 1]][-2:]
