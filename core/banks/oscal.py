"""Import OSCAL catalogs as question banks: groups become sections, controls questions.

Reading the JSON and XML forms into one plain catalog structure is core/banks/oscal_catalog.py.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

from core.banks.model import KEY_PATTERN, MAX_QUESTION_TEXT, Bank
from core.banks.schema import parse_bank
from core.errors import ValidationError

HELP_GUIDANCE_LIMIT = 800  # longer guidance (most of SP 800-53's) would bury the question


def normalise_key(raw: str) -> str:
    """A bank key for an identifier: lowercased, made to fit KEY_PATTERN deterministically."""
    key = raw.strip().lower()
    if KEY_PATTERN.match(key):
        return key
    slug = re.sub(r"[^a-z0-9._-]+", "-", key).strip("._-")
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    if len(slug) < 2:
        return f"id-{digest}"
    # The hash suffix keeps long ids that share a prefix distinct after truncation.
    return slug if len(slug) <= 64 else f"{slug[:55].rstrip('._-')}-{digest}"


# ---------------------------------------------------------------- building the bank


class _Rules(NamedTuple):
    question_type: str
    scale: list | None
    require_part: str | None
    containers: frozenset


def oscal_bank(
    catalog: dict,
    *,
    key: str,
    version: int,
    title: str,
    question_type: str,
    scale: Sequence[Mapping] | None = None,
    source: str | None,
    licence: str | None,
    source_name: str,
    description: str | None = None,
    require_part: str | None = None,
    containers: Sequence[str] = ("category",),
) -> Bank:
    """A validated bank from a normalised catalog: groups become sections, controls questions.

    scale: options ({"key", "label"[, "score"]}) for maturity questions. containers: control
    classes that only group child controls (CSF categories), never questions themselves.
    require_part: a control without a part of this name or class counts as withdrawn (the CSF
    2.0 catalog shipped here marks withdrawn subcategories only by their missing examples).
    """
    rules = _Rules(
        question_type,
        [dict(o) for o in scale] if scale else None,
        require_part,
        frozenset(containers),
    )
    sections = [s for group in catalog["groups"] for s in _sections(group, rules)]
    if not sections:
        raise ValidationError(
            f"{source_name}: the catalog has no controls to import (all withdrawn?)"
        )
    data = {
        "key": key,
        "version": version,
        "title": title,
        "description": description,
        "source": source,
        "licence": licence,
        "sections": sections,
    }
    return parse_bank({k: v for k, v in data.items() if v is not None}, source_name=source_name)


def _sections(group: dict, rules: _Rules) -> Iterator[dict]:
    questions = [q for control in group["controls"] for q in _questions(control, [], rules)]
    if questions:  # a group whose controls are all withdrawn has nothing to ask
        gid, title = group["id"], group["title"]
        if not re.search(rf"\b{re.escape(gid)}\b", title, re.IGNORECASE):
            title = f"{title} ({gid.upper()})"
        yield {
            "key": normalise_key(gid),
            "title": title,
            "questions": questions,
            **({"description": group["description"]} if group["description"] else {}),
        }
    for child in group["groups"]:  # nested groups become sections of their own
        yield from _sections(child, rules)


def _questions(control: dict, ancestors: list[dict], rules: _Rules) -> Iterator[dict]:
    if control["withdrawn"]:
        return
    if control["class"] not in rules.containers and (
        rules.require_part is None or rules.require_part in control["kinds"]
    ):
        question = {
            "key": normalise_key(control["id"]),
            "text": _text(control),
            "help": _help(control, ancestors),
            "type": rules.question_type,
            "allow_na": True,
        }  # broad frameworks get tailored: not every control applies
        yield question | ({"options": rules.scale} if rules.scale else {})
    for child in control["controls"]:
        yield from _questions(child, [*ancestors, control], rules)


def _text(control: dict) -> str:
    text = control["statement"] or control["title"]
    if len(text) <= MAX_QUESTION_TEXT:
        return text
    # Cut at a word; _help then carries the full statement, as help has room for it.
    return text[: MAX_QUESTION_TEXT - 1].rsplit(" ", 1)[0] + "\u2026"


def _help(control: dict, ancestors: list[dict]) -> str:
    titles = [c["title"] for c in (*ancestors, control) if c["title"] != c["label"]]
    parts = [f"{control['label']}: {' | '.join(titles)}" if titles else control["label"]]
    if len(control["statement"]) > MAX_QUESTION_TEXT:
        parts.append(control["statement"])
    guidance = control["guidance"]
    # SP 800-53 writes "None." where an enhancement has no guidance of its own.
    if guidance and len(guidance) <= HELP_GUIDANCE_LIMIT and guidance.lower() != "none.":
        parts.append(guidance)
    examples = [f"- {e}" for e in control["examples"]]
    while len("\n".join(examples)) > HELP_GUIDANCE_LIMIT:  # whole examples only, as many as fit
        examples.pop()
    if examples:
        parts.append("Examples:\n" + "\n".join(examples))
    return "\n\n".join(parts)
