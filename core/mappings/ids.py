"""A crosswalk's ids matched to a bank's question and section keys, and SP 800-53's withdrawn ids.

Ids on the two sides of a real mapping rarely match a catalog's as written: NIST writes `PM-09`
and `CP-02(08)` where the OSCAL catalog has `pm-9` and `cp-2.8`, a converter lower-cases
`GV.OC-01`. Both sides are compared in a canonical form. Withdrawn controls come from the full
SP 800-53 rev 5 catalog shipped in data/frameworks, used only for that.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REFERENCE_CATALOG = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "frameworks"
    / "NIST_SP-800-53_rev5_catalog.json.gz"
)
_ENHANCEMENT = re.compile(r"\((\d+)\)")
_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")
_SUCCESSOR_RELS = ("incorporated-into", "moved-to")


def canonical(raw: str) -> str:
    """Lower-case, strip whitespace, '(n)' enhancement → '.n', and leading zeros dropped from
    every run of digits: 'AC-2(1)' == 'ac-2.1', 'PM-09' == 'pm-9', 'CP-02(08)' == 'cp-2.8',
    'GV.OC-01' == 'gv.oc-1'."""
    text = "".join(raw.lower().split())
    return _LEADING_ZEROS.sub("", _ENHANCEMENT.sub(r".\1", text))


@dataclass(frozen=True)
class Resolution:
    """Where each id of a mapping lands in a bank, or why it lands nowhere."""

    questions: dict[str, str]  # raw id -> question key of the bank
    families: dict[str, str]  # raw id -> section key (the id names a whole section/family)
    withdrawn: dict[str, str]  # raw id -> what it was incorporated into, e.g. {'RA-04': 'RA-3'}
    unresolved: tuple[str, ...]  # ids that are none of the above, in first-seen order
    ambiguous: dict[str, tuple[str, ...]]  # raw id -> the bank keys sharing its canonical form


def resolve(
    raw_ids: Iterable[str], question_keys: Iterable[str], section_keys: Iterable[str]
) -> Resolution:
    """Each distinct id as a question, a whole section, a withdrawn control or unresolved.

    An exact key wins; otherwise canonical forms are compared, questions before sections. An id
    whose canonical form several keys share is ambiguous. An id that resolves as a question is
    never reported withdrawn.
    """
    keys = list(dict.fromkeys(question_keys))
    sections = list(dict.fromkeys(section_keys))
    by_question, by_section = _by_canonical(keys), _by_canonical(sections)
    exact_questions, exact_sections = set(keys), set(sections)
    questions: dict[str, str] = {}
    families: dict[str, str] = {}
    withdrawn: dict[str, str] = {}
    unresolved: list[str] = []
    ambiguous: dict[str, tuple[str, ...]] = {}
    for raw in dict.fromkeys(raw_ids):
        form = canonical(raw)
        hits = by_question.get(form, [])
        section_hits = by_section.get(form, [])
        if raw in exact_questions:
            questions[raw] = raw
        elif len(hits) == 1:
            questions[raw] = hits[0]
        elif hits:
            ambiguous[raw] = tuple(hits)
        elif raw in exact_sections:
            families[raw] = raw
        elif len(section_hits) == 1:
            families[raw] = section_hits[0]
        elif section_hits:
            ambiguous[raw] = tuple(section_hits)
        elif form in (retired := _withdrawn()):
            withdrawn[raw] = retired[form]
        else:
            unresolved.append(raw)
    return Resolution(questions, families, withdrawn, tuple(unresolved), ambiguous)


def _by_canonical(keys: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key in keys:
        found.setdefault(canonical(key), []).append(key)
    return found


def withdrawn_controls() -> dict[str, str]:
    """Canonical id of each withdrawn SP 800-53 rev 5 control -> "RA-3" (comma-joined if several;
    "" when the catalog names no successor); read once from the reference catalog, then cached."""
    return dict(_withdrawn())


@functools.cache
def _withdrawn() -> dict[str, str]:
    with gzip.open(REFERENCE_CATALOG, "rb") as stream:
        catalog = json.load(stream)["catalog"]
    controls = list(_controls(catalog.get("groups", [])))
    labels = {c["id"]: _label(c) for c in controls}
    found: dict[str, str] = {}
    for control in controls:
        props = {p.get("name"): p.get("value") for p in control.get("props", [])}
        if props.get("status") != "withdrawn":
            continue
        successors = [
            link.get("href", "").lstrip("#").split("_", 1)[0]  # '#ac-2_smt.k': a part of ac-2
            for link in control.get("links", [])
            if link.get("rel") in _SUCCESSOR_RELS
        ]
        names = dict.fromkeys(labels.get(s, s.upper()) for s in successors if s)
        found[canonical(control["id"])] = ", ".join(names)
    return found


def _controls(groups: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for group in groups:
        yield from _controls(group.get("groups", []))
        stack = list(reversed(group.get("controls", [])))
        while stack:
            control = stack.pop()
            yield control
            stack.extend(reversed(control.get("controls", [])))


def _label(control: dict[str, Any]) -> str:
    for prop in control.get("props", []):
        if prop.get("name") == "label" and not prop.get("class"):
            return str(prop.get("value"))
    return str(control["id"]).upper()
