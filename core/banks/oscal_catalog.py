"""Normalise an OSCAL catalog (the JSON edition's data, whatever edition it came in) to plain text.

Groups may lack an id, controls may sit directly under the catalog, and groups, controls and
parts may nest to any depth up to MAX_DEPTH. Siblings that all carry a sort-id are put in that
order. Prose is rendered by core/banks/oscal_prose.py; core/banks/oscal.py maps the result to a
question bank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.banks.oscal_fields import (
    catalog_licence,
    dicts,
    label_of,
    mapping,
    missing_resource,
    ordered,
    required,
    text,
    unpadded,
)
from core.banks.oscal_prose import OscalProblem, Parameters, one_line, render
from core.errors import ValidationError

MAX_DEPTH = 32
_OBJECTIVES = ("assessment-objective", "objective")
_RESOURCE = re.compile(
    r"#([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)
_PROSE_LINK = re.compile(r"\]\(" + _RESOURCE.pattern + r"\)")


@dataclass(frozen=True)
class Control:
    """A control as text: statement lines, guidance paragraphs, objective lines."""

    id: str
    cls: str
    title: str
    label: str
    withdrawn: bool
    statement: str
    guidance: tuple[str, ...]
    objectives: tuple[str, ...]
    examples: tuple[str, ...]
    kinds: frozenset[str]  # names and classes of its parts
    props: frozenset[tuple[str, str]]  # (name, value) of its properties
    controls: tuple[Control, ...]


@dataclass(frozen=True)
class Group:
    """A group of controls; id is optional in OSCAL."""

    id: str | None
    label: str
    title: str
    description: str | None
    controls: tuple[Control, ...]
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Catalog:
    """A normalised catalog with the identity its metadata gives."""

    title: str
    version: str
    uuid: str
    licence: str | None
    groups: tuple[Group, ...]
    controls: tuple[Control, ...]  # directly under the catalog


def normalise_catalog(body: dict[str, Any], *, source_name: str) -> Catalog:
    """The catalog as plain text; ValidationError names the file and the element."""
    try:
        return _Reader(body).read()
    except OscalProblem as problem:
        raise ValidationError(f"{source_name}: {problem}") from None
    except RecursionError:
        raise ValidationError(f"{source_name}: the catalog is nested too deeply") from None


class _Reader:
    def __init__(self, body: dict[str, Any]):
        self.body = body
        self.params: dict[str, dict[str, Any]] = {}
        self.ids: dict[str, str] = {}
        self.resources = {
            str(r.get("uuid"))
            for r in dicts(mapping(body, "back-matter").get("resources"), "back-matter")
        }
        self.render = Parameters(self.params)

    def read(self) -> Catalog:
        metadata = mapping(self.body, "metadata")
        self._check_links(metadata, "metadata")
        self._collect_params(self.body, "catalog", 0)
        groups = dicts(self.body.get("groups"), "catalog: groups")
        controls = dicts(self.body.get("controls"), "catalog: controls")
        if not groups and not controls:
            raise OscalProblem("catalog: no groups and no controls (nothing to import)")
        title = one_line(metadata.get("title"))
        if not title:
            raise OscalProblem("metadata: missing title (a catalog is known by its title)")
        return Catalog(
            title=title,
            version=text(metadata.get("version")),
            uuid=text(self.body.get("uuid")),
            licence=catalog_licence(self.body),
            groups=tuple(self._group(g, i, 1) for i, g in ordered(groups)),
            controls=tuple(self._control(c, "catalog", i, 1) for i, c in ordered(controls)),
        )

    def _collect_params(self, node: dict[str, Any], where: str, depth: int) -> None:
        # Parameters are catalog-wide (a control may insert its parent's), so they come first.
        if depth > MAX_DEPTH:
            raise OscalProblem(f"{where}: nested more than {MAX_DEPTH} levels deep")
        for param in dicts(node.get("params"), f"{where}: params"):
            pid = required(param, "id", f"{where}: parameter")
            if pid in self.params:
                raise OscalProblem(f"{where}: parameter {pid!r} is defined twice")
            self.params[pid] = param
        for field in ("groups", "controls"):
            for child in dicts(node.get(field), f"{where}: {field}"):
                name = child.get("id") or child.get("title")
                self._collect_params(child, f"{field[:-1]} {name!r}", depth + 1)

    def _check_links(self, node: dict[str, Any], where: str) -> None:
        # A YAML file cut at a line end still parses; its controls then link to back-matter
        # resources that are missing, which tells a truncated file from a smaller catalog.
        for link in dicts(node.get("links"), f"{where}: links"):
            href = link.get("href")
            fits = isinstance(href, str) and len(href) == 37 and _RESOURCE.fullmatch(href)
            if fits and str(href)[1:] not in self.resources:
                raise OscalProblem(missing_resource(where, str(href)))

    def _check_prose(self, prose: object, where: str) -> None:
        if isinstance(prose, str) and "](#" in prose:
            for uuid in _PROSE_LINK.findall(prose):
                if uuid not in self.resources:
                    raise OscalProblem(missing_resource(where, f"#{uuid}"))

    def _group(self, raw: dict[str, Any], index: int, depth: int) -> Group:
        gid = text(raw.get("id")) or None
        title = required(raw, "title", f"group {index + 1}")
        where = f"group {gid!r}" if gid else f"group {title!r}"
        self._unique(gid, where)
        self._check_links(raw, where)
        parts = dicts(raw.get("parts"), f"{where}: parts")
        groups = dicts(raw.get("groups"), f"{where}: groups")
        controls = dicts(raw.get("controls"), f"{where}: controls")
        return Group(
            id=gid,
            label=label_of(dicts(raw.get("props"), f"{where}: props")),
            title=title,
            description="\n\n".join(t for p in parts if (t := self._prose(p, where))) or None,
            controls=tuple(self._control(c, where, i, depth + 1) for i, c in ordered(controls)),
            groups=tuple(self._group(g, i, depth + 1) for i, g in ordered(groups)),
        )

    def _control(self, raw: dict[str, Any], parent: str, index: int, depth: int) -> Control:
        if depth > MAX_DEPTH:
            raise OscalProblem(f"{parent}: controls nested more than {MAX_DEPTH} levels deep")
        cid = required(raw, "id", f"{parent} control {index + 1}")
        where = f"control {cid!r}"
        self._unique(cid, where)
        self._check_links(raw, where)
        props = dicts(raw.get("props"), f"{where}: props")
        parts = dicts(raw.get("parts"), f"{where}: parts")
        named = [(text(p.get("name")), text(p.get("class")), p) for p in parts]
        label = label_of(props) or cid
        owner = unpadded(label)
        guidance: list[str] = []
        statement = "\n".join(
            line
            for n, _, p in named
            if n == "statement"
            for line in self._item(p, where, guidance, 0, owner)
        )
        guidance[:0] = [t for n, _, p in named if n == "guidance" and (t := self._prose(p, where))]
        children = dicts(raw.get("controls"), f"{where}: controls")
        return Control(
            id=cid,
            cls=text(raw.get("class")),
            title=required(raw, "title", where),
            label=label,
            withdrawn=any(
                p.get("name") == "status" and text(p.get("value")).lower() == "withdrawn"
                for p in props
            ),
            statement=statement,
            guidance=tuple(guidance),
            objectives=tuple(
                line
                for n, _, p in named
                if n in _OBJECTIVES
                for line in self._item(p, where, None, 0, owner)
            ),
            examples=tuple(
                t for n, c, p in named if "example" in (n, c) and (t := self._prose(p, where))
            ),
            kinds=frozenset(k for n, c, _ in named for k in (n, c) if k),
            props=frozenset((text(p.get("name")), text(p.get("value"))) for p in props),
            controls=tuple(self._control(c, where, i, depth + 1) for i, c in ordered(children)),
        )

    def _item(
        self, part: dict[str, Any], where: str, guidance: list[str] | None, depth: int, owner: str
    ) -> list[str]:
        """A part and its nested parts, one labelled line each ("a. ...", "1. ...").

        Guidance nested in a statement (FedRAMP's "Additional Requirements and Guidance") goes to
        `guidance` rather than into the question. A label is not repeated: not when the prose
        starts with it, nor when it is the control's own (`owner`, as objectives write it)."""
        if depth > MAX_DEPTH:
            raise OscalProblem(f"{where}: parts nested more than {MAX_DEPTH} levels deep")
        label = label_of(dicts(part.get("props"), f"{where}: part props"))
        if unpadded(label) == owner:
            label = ""
        prose = self._prose(part, where).replace("\n\n", "\n")
        # A label without prose ("AC-01c." over its objectives) says nothing of its own.
        head = prose if not label or not prose or prose.startswith(label) else f"{label} {prose}"
        lines: list[str] = []
        for child in dicts(part.get("parts"), f"{where}: parts"):
            if guidance is not None and child.get("name") == "guidance":
                guidance.append(" ".join(self._item(child, where, None, depth + 1, owner)))
            else:
                lines += self._item(child, where, guidance, depth + 1, owner)
        title = one_line(part.get("title"), self.render)
        if title and lines:  # a heading over the lines below it, not on its own
            lines.insert(0, title)
        return [head, *lines] if head else lines

    def _prose(self, part: dict[str, Any], where: str) -> str:
        prose = part.get("prose")
        self._check_prose(prose, where)
        try:
            return render(prose, self.render)
        except OscalProblem as problem:
            raise OscalProblem(f"{where}: {problem}") from None

    def _unique(self, oid: str | None, where: str) -> None:
        if oid is None:
            return
        if oid in self.ids:
            raise OscalProblem(f"{where}: the id {oid!r} is used twice (first by {self.ids[oid]})")
        self.ids[oid] = where
