"""What a control asks and the help that goes with it, as people read them.

The question is the control's statement (its title when it has none). The help starts with the
label and titles ("AC-2(1): Account Management | Automated System Account Management"), then
the whole guidance, the assessment objectives and the examples, none of them cut: long help
folds away in the questionnaire.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.banks.model import MAX_QUESTION_TEXT
from core.banks.oscal_catalog import Control

_SEPARATORS = (" ", ":", ".", "-", "\u2013", "\u2014")
_NO_GUIDANCE = {"none", "none."}  # SP 800-53 writes "None." where an enhancement has none


def question_text(control: Control) -> str:
    """The statement, or the title; cut at a word when too long (the help then has it whole)."""
    text = control.statement or control.title
    if len(text) <= MAX_QUESTION_TEXT:
        return text
    return text[: MAX_QUESTION_TEXT - 1].rsplit(" ", 1)[0] + "\u2026"


def question_help(control: Control, ancestors: Sequence[Control]) -> str:
    """Label and titles, then the full statement if the question was cut, guidance, objectives
    and examples, each once."""
    parts = [_heading(control, ancestors)]
    if len(control.statement) > MAX_QUESTION_TEXT:
        parts.append(control.statement)
    parts += [g for g in control.guidance if g.strip().lower() not in _NO_GUIDANCE]
    if control.objectives:
        parts.append("Objectives:\n" + "\n".join(f"- {o}" for o in control.objectives))
    if control.examples:
        parts.append("Examples:\n" + "\n".join(f"- {e}" for e in control.examples))
    return "\n\n".join(_unique(parts))


def _heading(control: Control, ancestors: Sequence[Control]) -> str:
    titles = [_title(c) for c in (*ancestors, control)]
    titles = [t for t in titles if t]
    return f"{control.label}: {' | '.join(titles)}" if titles else control.label


def _title(control: Control) -> str:
    """The title without the label it may repeat ("AC-2 Account Management")."""
    title, label = control.title, control.label
    if title == label:
        return ""
    if (
        title.lower().startswith(label.lower())
        and title[len(label) : len(label) + 1] in _SEPARATORS
    ):
        return title[len(label) :].lstrip("".join(_SEPARATORS)) or title
    return title


def _unique(parts: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for part in parts:
        if part and part not in seen:
            seen.add(part)
            kept.append(part)
    return kept
