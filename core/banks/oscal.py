"""Turn a normalised OSCAL catalog into a question bank: groups (or top-level controls) become
sections, controls questions.

Reading the files is core/banks/oscal_document.py and oscal_catalog.py; the help text of each
question is composed in core/banks/oscal_help.py.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from core.banks.model import KEY_PATTERN, Bank
from core.banks.oscal_catalog import Catalog, Control, Group
from core.banks.oscal_help import question_help, question_text
from core.banks.schema import parse_bank
from core.errors import ValidationError


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


@dataclass(frozen=True)
class Rules:
    """How a catalog's controls become questions.

    containers: control classes that only group child controls (CSF categories). require_part:
    a control without a part of this name or class counts as withdrawn (the CSF 2.0 catalog
    shipped here marks withdrawn subcategories only by their missing examples). classes: when
    given, only controls of these classes become questions (--control-class). where: (name,
    value) properties a control must carry to become a question (--where); values of one name
    are alternatives, different names must all hold."""

    question_type: str = "yes_no_partial"
    scale: tuple[Mapping[str, Any], ...] = ()
    require_part: str | None = None
    containers: frozenset[str] = frozenset({"category"})
    classes: frozenset[str] = frozenset()
    where: tuple[tuple[str, str], ...] = ()


def oscal_bank(
    catalog: Catalog,
    *,
    key: str,
    version: int,
    title: str,
    source: str | None,
    licence: str | None,
    source_name: str,
    description: str | None = None,
    rules: Rules = Rules(),
) -> Bank:
    """A validated bank from a normalised catalog; ValidationError names the file."""
    check_rules(catalog, rules, source_name)
    builder = _Builder(rules, source_name)
    sections = [s for g in catalog.groups for s in builder.group_sections(g)]
    sections += [s for c in catalog.controls for s in builder.control_section(c)]
    if not sections:
        raise ValidationError(
            f"{source_name}: the catalog has no controls to import (all withdrawn"
            + (", or none matches the filters)" if rules.classes or rules.where else "?)")
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


def live_controls(catalog: Catalog) -> Iterator[Control]:
    """Every control that is not withdrawn, at any depth."""

    def walk(controls: Sequence[Control]) -> Iterator[Control]:
        for control in controls:
            if not control.withdrawn:
                yield control
                yield from walk(control.controls)

    def groups(items: Sequence[Group]) -> Iterator[Control]:
        for group in items:
            yield from walk(group.controls)
            yield from groups(group.groups)

    yield from groups(catalog.groups)
    yield from walk(catalog.controls)


def check_rules(catalog: Catalog, rules: Rules, source_name: str) -> None:
    """Refuse a --control-class or --where that names nothing in the catalog."""
    controls = list(live_controls(catalog))
    classes = {c.cls for c in controls}
    for cls in sorted(rules.classes - classes):
        seen = ", ".join(sorted(c or "(none)" for c in classes))
        raise ValidationError(f"{source_name}: no control has class {cls!r} (classes: {seen})")
    props = {p for c in controls for p in c.props}
    for name, value in rules.where:
        if (name, value) not in props:
            values = sorted(v for n, v in props if n == name)
            seen = f"values of {name!r}: {', '.join(values)}" if values else f"no {name!r} at all"
            raise ValidationError(
                f"{source_name}: no control carries {name}={value} ({seen[:300]})"
            )


class _Builder:
    def __init__(self, rules: Rules, source_name: str):
        self.rules, self.source_name = rules, source_name
        self.section_keys: set[str] = set()
        self.question_keys: dict[str, str] = {}
        names = {n for n, _ in rules.where}
        self.where = [{v for n, v in rules.where if n == name} for name in sorted(names)]
        self.where_names = sorted(names)

    def group_sections(self, group: Group) -> Iterator[dict[str, Any]]:
        questions = [q for c in group.controls for q in self.questions(c, [])]
        if questions:  # a group whose controls are all withdrawn has nothing to ask
            label = group.label or (group.id or "").upper()
            yield self._section(
                group.id or label or group.title, group.title, label, questions, group.description
            )
        for child in group.groups:  # nested groups become sections of their own
            yield from self.group_sections(child)

    def control_section(self, control: Control) -> Iterator[dict[str, Any]]:
        """A control directly under the catalog: a section of its own and its descendants."""
        questions = list(self.questions(control, []))
        if questions:
            yield self._section(control.id, control.title, control.label, questions, None)

    def _section(
        self,
        raw_key: str,
        title: str,
        label: str,
        questions: list[dict[str, Any]],
        description: str | None,
    ) -> dict[str, Any]:
        key = base = normalise_key(raw_key)
        number = 1
        while key in self.section_keys:  # groups without an id may share a title
            number += 1
            key = f"{base[:60]}-{number}"
        self.section_keys.add(key)
        title = _titled(title, label)
        section = {"key": key, "title": title, "questions": questions}
        return section | ({"description": description} if description else {})

    def questions(self, control: Control, ancestors: list[Control]) -> Iterator[dict[str, Any]]:
        if control.withdrawn:
            return
        control, classes = _merged(control)
        below = [q for c in control.controls for q in self.questions(c, [*ancestors, control])]
        if self._asks(control, classes) and (control.statement or not below):
            yield self._question(control, ancestors)
        yield from below

    def _asks(self, control: Control, classes: set[str]) -> bool:
        rules = self.rules
        return (
            (control.cls not in rules.containers or control.cls in rules.classes)
            and (rules.require_part is None or rules.require_part in control.kinds)
            and (not rules.classes or bool(classes & rules.classes))
            and all(
                any((n, v) in control.props for v in values)
                for n, values in zip(self.where_names, self.where, strict=True)
            )
        )

    def _question(self, control: Control, ancestors: list[Control]) -> dict[str, Any]:
        key = normalise_key(control.id)
        if key in self.question_keys:
            raise ValidationError(
                f"{self.source_name}: controls {self.question_keys[key]!r} and {control.id!r} "
                f"both become question key {key!r}"
            )
        self.question_keys[key] = control.id
        question = {
            "key": key,
            "text": question_text(control),
            "help": question_help(control, ancestors),
            "type": self.rules.question_type,
            "allow_na": True,  # broad frameworks get tailored: not every control applies
        }
        return question | (
            {"options": [dict(o) for o in self.rules.scale]} if self.rules.scale else {}
        )


def _titled(title: str, label: str) -> str:
    """A section title that shows the label once: "Access Control (AC)", "GOVERN (GV)"."""
    if not label or re.search(rf"(?<!\w){re.escape(label)}(?!\w)", title, re.IGNORECASE):
        return title
    if title.lower() in label.lower():  # CSF labels its functions "GOVERN (GV)"
        return label
    return f"{title} ({label})"


def _merged(control: Control) -> tuple[Control, set[str]]:
    """A requirement with no statement of its own holding one control of another class (its
    "security requirement") is one question: the requirement's title and guidance with the
    child's statement and objectives."""
    live = [c for c in control.controls if not c.withdrawn]
    if control.statement or len(live) != 1 or live[0].cls == control.cls or not live[0].statement:
        return control, {control.cls}
    child = live[0]
    merged = replace(
        control,
        statement=child.statement,
        guidance=control.guidance + child.guidance,
        objectives=control.objectives + child.objectives,
        examples=control.examples + child.examples,
        kinds=control.kinds | child.kinds,
        props=control.props | child.props,
        controls=child.controls,
    )
    return merged, {control.cls, child.cls}
