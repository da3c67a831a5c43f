"""Strict readers for the fields of a bank dict; each raises Problem saying where it failed."""

from __future__ import annotations

import math
from typing import Any, TypeGuard


class Problem(Exception):
    """A problem at a location in a bank; parse_bank adds the source name."""


def is_number(value: object) -> TypeGuard[float]:
    """True for a finite int or float (bool is not a number here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_fields(raw: object, where: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
    """Refuse a non-mapping, unknown fields and missing required fields; return the mapping."""
    if not isinstance(raw, dict):
        raise Problem(f"{where}: expected a mapping, got {type(raw).__name__}")
    for name in raw:
        if name not in allowed:
            raise Problem(
                f"{where}: unknown field {name!r} (allowed: {', '.join(sorted(allowed))})"
            )
    for name in sorted(required):
        if raw.get(name) is None:
            raise Problem(f"{where}: missing required field '{name}'")
    return raw


def read_text(raw: dict[str, Any], name: str, where: str, limit: int) -> str:
    """A required, non-blank text field of at most limit characters."""
    value = raw[name]
    if not isinstance(value, str) or not value.strip():
        raise Problem(f"{where}: '{name}' must be non-empty text (quote yes/no/numbers in YAML)")
    if len(value) > limit:
        raise Problem(f"{where}: '{name}' is longer than {limit} characters")
    return value


def read_list(raw: dict[str, Any], name: str, where: str) -> list[Any]:
    """A required, non-empty list field."""
    value = raw[name]
    if not isinstance(value, list) or not value:
        raise Problem(f"{where}: '{name}' must be a non-empty list")
    return value


def plain_number(value: float) -> float | int:
    """A number as a file writes it: 1 rather than 1.0."""
    return int(value) if float(value).is_integer() else value


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    """The dict without its None values (defaults a file leaves out)."""
    return {k: v for k, v in data.items() if v is not None}
