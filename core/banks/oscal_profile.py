"""Resolve an OSCAL profile against its catalog into one catalog (the JSON edition's data).

What is resolved: the import's include-all / include-controls (with-ids, matching patterns,
with-child-controls) and exclude-controls; withdrawn controls are dropped even when selected;
modify's set-parameters (label, usage, values, select, constraints, guidelines; props and links
are added) and alters (removes by name, class, id, item name or ns; adds of parts, props, params
and links at the start or end of the control, or before, after or inside a part). The catalog's
structure is kept (merge "as-is"): a selected control whose parent is not selected moves up to
the nearest selected ancestor or group. A profile that imports another profile, or several
sources, is refused: resolve it with NIST's tools first.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterator
from typing import Any

from core.banks.oscal_document import Document
from core.errors import ValidationError

_PARAM_FIELDS = ("label", "usage", "values", "select", "constraints", "guidelines")
_REMOVE_BY = {"by-name": "name", "by-class": "class", "by-id": "id", "by-ns": "ns"}


def resolve_profile(profile: Document, catalog: Document) -> dict[str, Any]:
    """The resolved catalog; ValidationError names the profile and the element at fault."""
    name = profile.name
    if catalog.root != "catalog":
        raise ValidationError(
            f"{catalog.name}: an OSCAL profile, not a catalog; a profile of a profile must be "
            "resolved first"
        )
    imports = _dicts(profile.body.get("imports"), name, "imports")
    if not imports:
        raise ValidationError(f"{name}: the profile imports nothing")
    if len({str(i.get("href")) for i in imports}) > 1:
        raise ValidationError(
            f"{name}: the profile imports {len(imports)} sources; only a profile of one catalog "
            "can be resolved here"
        )
    index = {c["id"]: (c, parents) for c, parents in _controls(catalog.body, ())}
    params = {str(p.get("id")) for c, _ in index.values() for p in _list(c.get("params"))}
    selected: set[str] = set()
    for number, imp in enumerate(imports, 1):
        where = f"{name}: import {number}"
        includes = _dicts(imp.get("include-controls"), where, "include-controls")
        if "include-all" in imp or not includes:
            chosen = set(index)
        else:
            chosen = {cid for s in includes for cid in _select(s, index, where, catalog.name)}
        excluded = _dicts(imp.get("exclude-controls"), where, "exclude-controls")
        chosen -= {cid for s in excluded for cid in _select(s, index, where, catalog.name)}
        selected |= chosen
    selected = {cid for cid in selected if not _withdrawn(index[cid][0])}
    modify = _dict(profile.body.get("modify"))
    settings = _settings(modify, params, name)
    alters = _alters(modify, index, name)
    resolver = _Resolver(selected, settings, alters)
    resources = [
        r
        for doc in (catalog, profile)
        for r in _list(_dict(doc.body.get("back-matter")).get("resources"))
    ]
    return {
        "uuid": profile.body.get("uuid"),
        "metadata": profile.body.get("metadata"),
        "groups": [g for raw in _list(catalog.body.get("groups")) for g in resolver.group(raw)],
        "controls": [
            c for raw in _list(catalog.body.get("controls")) for c in resolver.control(raw)
        ],
        "back-matter": {"resources": resources},
    }


class _Resolver:
    def __init__(self, selected: set[str], settings: dict[str, Any], alters: dict[str, Any]):
        self.selected, self.settings, self.alters = selected, settings, alters

    def group(self, raw: dict[str, Any]) -> Iterator[dict[str, Any]]:
        groups = [g for child in _list(raw.get("groups")) for g in self.group(child)]
        controls = [c for child in _list(raw.get("controls")) for c in self.control(child)]
        if groups or controls:  # a group left without controls is dropped
            yield {**raw, "params": self._params(raw), "groups": groups, "controls": controls}

    def control(self, raw: dict[str, Any]) -> Iterator[dict[str, Any]]:
        children = [c for child in _list(raw.get("controls")) for c in self.control(child)]
        if raw.get("id") not in self.selected:
            yield from children  # its selected descendants move up a level
            return
        control = {**raw, "params": self._params(raw), "controls": children}
        alters = self.alters.get(str(raw["id"]), [])
        if alters:  # altered in a copy: the catalog's own parts stay as they were
            control["parts"] = copy.deepcopy(control.get("parts"))
        for alter in alters:
            _alter(control, alter)
        yield control

    def _params(self, raw: dict[str, Any]) -> list[Any]:
        return [self._param(p) for p in _list(raw.get("params"))]

    def _param(self, param: Any) -> Any:
        setting = self.settings.get(str(param.get("id"))) if isinstance(param, dict) else None
        if setting is None:
            return param
        changed = {**param, **{f: setting[f] for f in _PARAM_FIELDS if f in setting}}
        if "values" in setting:  # a value set by the profile replaces the choice
            changed.pop("select", None)
        for field in ("props", "links"):
            changed[field] = _list(param.get(field)) + _list(setting.get(field))
        return changed


def _controls(
    node: dict[str, Any], parents: tuple[str, ...]
) -> Iterator[tuple[dict[str, Any], tuple[str, ...]]]:
    for group in _list(node.get("groups")):
        if isinstance(group, dict):
            yield from _controls(group, parents)
    for control in _list(node.get("controls")):
        if isinstance(control, dict) and isinstance(control.get("id"), str):
            yield control, parents
            yield from _controls(control, (*parents, control["id"]))


def _select(selector: dict[str, Any], index: dict[str, Any], where: str, catalog: str) -> set[str]:
    chosen: set[str] = set()
    for cid in _list(selector.get("with-ids")):
        if cid not in index:
            raise ValidationError(f"{where}: control {cid!r} is not in {catalog}")
        chosen.add(cid)
    for matching in _list(selector.get("matching")):
        pattern = str(_dict(matching).get("pattern", ""))
        chosen |= {cid for cid in index if fnmatch.fnmatchcase(cid, pattern)}
    if selector.get("with-child-controls") == "yes":
        chosen |= {cid for cid, (_, parents) in index.items() if set(parents) & chosen}
    return chosen


def _withdrawn(control: dict[str, Any]) -> bool:
    return any(
        isinstance(p, dict)
        and p.get("name") == "status"
        and str(p.get("value")).lower() == "withdrawn"
        for p in _list(control.get("props"))
    )


def _settings(modify: dict[str, Any], params: set[str], name: str) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for setting in _dicts(modify.get("set-parameters"), name, "modify: set-parameters"):
        pid = str(setting.get("param-id"))
        if pid not in params:
            raise ValidationError(
                f"{name}: set-parameter {pid!r} names no parameter of the catalog's controls"
            )
        settings[pid] = setting
    return settings


def _alters(modify: dict[str, Any], index: dict[str, Any], name: str) -> dict[str, list[Any]]:
    alters: dict[str, list[Any]] = {}
    for alter in _dicts(modify.get("alters"), name, "modify: alters"):
        cid = str(alter.get("control-id"))
        if cid not in index:
            raise ValidationError(f"{name}: alter names control {cid!r}, which the catalog lacks")
        alters.setdefault(cid, []).append(alter)
    return alters


def _alter(control: dict[str, Any], alter: dict[str, Any]) -> None:
    for remove in _list(alter.get("removes")):
        criteria = {field: remove[key] for key, field in _REMOVE_BY.items() if key in remove}
        item_name = remove.get("by-item-name")
        for field in ("parts", "props", "links", "params"):
            if field in control:
                control[field] = _removed(control[field], criteria, item_name, field)
    for add in _list(alter.get("adds")):
        position, by_id = add.get("position", "ending"), add.get("by-id")
        for field in ("parts", "props", "links", "params"):
            items = _list(add.get(field))
            if items:
                _add(control, field, items, position, by_id)
        if "title" in add:
            control["title"] = add["title"]


def _removed(items: Any, criteria: dict[str, Any], item_name: Any, field: str) -> list[Any]:
    kept = []
    for item in _list(items):
        if not isinstance(item, dict):
            kept.append(item)
            continue
        hit = all(item.get(f) == v for f, v in criteria.items()) and (
            item_name is None or field.rstrip("s") == item_name
        )
        if not hit or not (criteria or item_name):
            kept.append(
                {**item, "parts": _removed(item.get("parts"), criteria, item_name, "parts")}
                if "parts" in item
                else item
            )
    return kept


def _add(control: dict[str, Any], field: str, items: list[Any], position: Any, by_id: Any) -> None:
    if by_id is None or by_id == control.get("id"):
        current = _list(control.get(field))
        control[field] = items + current if position == "starting" else current + items
        return
    for owner in _parts_tree(control):
        parts = _list(owner.get("parts"))
        for i, part in enumerate(parts):
            if isinstance(part, dict) and part.get("id") == by_id:
                if position in ("before", "after") and field == "parts":
                    j = i if position == "before" else i + 1
                    owner["parts"] = parts[:j] + items + parts[j:]
                else:
                    inner = _list(part.get(field))
                    new = items + inner if position == "starting" else inner + items
                    owner["parts"] = parts[:i] + [{**part, field: new}] + parts[i + 1 :]
                return


def _parts_tree(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for part in _list(node.get("parts")):
        if isinstance(part, dict):
            yield from _parts_tree(part)


def _dicts(value: object, name: str, field: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValidationError(f"{name}: {field} must be a list of objects")
    return value


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
