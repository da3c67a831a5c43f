"""What one run-time setting is: its default, what it does, and how a new value is checked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One tunable: default, type and bounds (or a check of its own), and what it does."""

    default: Any
    help: str
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    # For a value that is neither a bounded whole number nor one of `choices`: returns the value
    # normalised, or raises ValidationError saying what is allowed.
    check: Callable[[Any], Any] | None = None
