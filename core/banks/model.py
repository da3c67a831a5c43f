"""Question bank model: constants and frozen dataclasses shared by the parser, scoring and storage.

What differs by question type lives in core/banks/question_types.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from core.banks.sheet_ref import SourceRef
from core.errors import NotFound

MAX_QUESTION_TEXT = 2000
MAX_TITLE = 200
MAX_LONG_TEXT = 10000
# Help holds a control's whole guidance and objectives (SP 800-53 PL-2: about 11,000 characters).
MAX_HELP_TEXT = 50000
KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}\Z")
# Option keys may be one character so that maturity levels can be "0".."5".
OPTION_KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")
KEY_RULE = "2-64 characters a-z, 0-9, '.', '_' or '-', starting with a letter or digit"
MAX_EFFORT = 10  # a question's effort (what changing its answer costs, for the planner): 1 to this


@dataclass(frozen=True)
class Option:
    """One selectable answer; score in [0, 1] or None when unscored."""

    key: str
    label: str
    score: float | None


@dataclass(frozen=True)
class Condition:
    """Show a question only when an earlier question's answer matches."""

    question: str
    op: str  # "equals" | "in" | "any_of"
    values: tuple[object, ...]


@dataclass(frozen=True)
class Question:
    """One question with its effective options and constraints."""

    key: str
    section_key: str
    text: str
    help: str | None
    type: str  # a key of core.banks.question_types.QUESTION_TYPES
    weight: float
    required: bool
    critical: bool
    evidence_required: bool
    allow_na: bool
    options: tuple[Option, ...]
    min: float | None
    max: float | None
    max_length: int | None
    condition: Condition | None
    position: int  # 0-based, within its section
    source_ref: SourceRef | None = None  # its row in a source spreadsheet, if any
    effort: int = 1  # what raising its answer costs, 1 to MAX_EFFORT (the score planner's weight)


@dataclass(frozen=True)
class Section:
    """A weighted group of questions."""

    key: str
    title: str
    description: str | None
    weight: float
    position: int
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Bank:
    """A versioned question bank."""

    key: str
    version: int
    title: str
    description: str | None
    source: str | None
    licence: str | None
    sections: tuple[Section, ...]

    @cached_property
    def questions(self) -> tuple[Question, ...]:
        """All questions, in bank order."""
        return tuple(q for s in self.sections for q in s.questions)

    @cached_property
    def _index(self) -> dict[str, Question]:
        return {q.key: q for q in self.questions}

    def question(self, key: str) -> Question:
        """The question with this key; NotFound if absent."""
        try:
            return self._index[key]
        except KeyError:
            raise NotFound(f"Question '{key}' is not in bank '{self.key}'.") from None

    def section(self, key: str) -> Section:
        """The section with this key; NotFound if absent."""
        for section in self.sections:
            if section.key == key:
                return section
        raise NotFound(f"Section '{key}' is not in bank '{self.key}'.")


@dataclass(frozen=True)
class Answer:
    """A stored answer: value None means unanswered; is_na marks "not applicable"."""

    value: object = None
    is_na: bool = False
