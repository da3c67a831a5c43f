"""Recognising what a spreadsheet column holds from its header text ("Question ID", "Answer")."""

from __future__ import annotations

import re

ROLES = ("id", "text", "answer", "justification", "section", "guidance", "effort")
ROLE_NAMES = {
    "id": "id",
    "text": "question",
    "answer": "answer",
    "justification": "justification",
    "section": "section",
    "guidance": "guidance",
    "effort": "effort",
}
# Header texts per role, most telling first (an earlier word wins a tie).
_WORDS: dict[str, tuple[str, ...]] = {
    "id": (
        "question id",
        "requirement id",
        "req id",
        "control id",
        "id",
        "ref",
        "reference",
        "ref no",
        "identifier",
        "number",
        "no",
        "#",
    ),
    "text": (
        "question",
        "question text",
        "control question",
        "requirement",
        "req description",
        "requirement description",
        "control specification",
        "statement",
        "description",
        "text",
    ),
    "answer": ("answer", "response", "your answer", "csp caiq answer", "yes no", "compliance"),
    "justification": (
        "justification",
        "comments",
        "comment",
        "explanation",
        "implementation description",
        "notes",
        "remarks",
        "evidence",
        "details",
    ),
    "section": (
        "section",
        "domain",
        "control domain",
        "category",
        "chapter",
        "chapter name",
        "family",
        "area",
        "topic",
    ),
    "guidance": ("guidance", "implementation guidance", "help", "hint", "help text", "guideline"),
    "effort": ("effort", "level of effort", "effort 1 10", "difficulty"),
}


def header_key(text: str) -> str:
    """A header as compared: lower case, punctuation (but '#') as spaces, single spaces."""
    return " ".join(re.sub(r"[^\w#]+", " ", text.lower().replace("_", " ")).split())


def match(header: str, role: str) -> tuple[int, int]:
    """(strength, -rank): 3 same text, 2 starts with the word, 1 holds it; (0, 0) none."""
    key = header_key(header)
    best = (0, 0)
    if not key or len(key) > 80:
        return best
    for rank, word in enumerate(_WORDS[role]):
        if key == word:
            strength = 3
        elif key.startswith(word + " "):
            strength = 2
        elif f" {word} " in f" {key} ":
            strength = 1
        else:
            continue
        best = max(best, (strength, -rank))
    return best


def assign_roles(headers: tuple[str, ...]) -> dict[str, int]:
    """Each role's best-matching column, one role per column, strongest matches first."""
    candidates = sorted(
        (
            (match(h, role), -ROLES.index(role), -col, role, col)
            for role in ROLES
            for col, h in enumerate(headers)
        ),
        reverse=True,
    )
    roles: dict[str, int] = {}
    for score, _, _, role, col in candidates:
        if score[0] and role not in roles and col not in roles.values():
            roles[role] = col
    return roles


def header_score(headers: tuple[str, ...]) -> int:
    roles = assign_roles(headers)
    if "text" not in roles:
        return 0
    return sum(match(headers[col], role)[0] for role, col in roles.items())
