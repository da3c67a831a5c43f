"""Read OSCAL catalogs (JSON or XML), such as NIST CSF 2.0 and SP 800-53, into one plain structure.

Both readers normalise a catalog to this shape, which core.banks.oscal.oscal_bank turns into a bank:
    catalog = {"title": str | None, "groups": [group]}
    group   = {"id", "title", "description": str | None, "controls": [control], "groups": [group]}
    control = {"id", "class", "title", "label", "withdrawn": bool, "statement": str,
               "guidance": str, "examples": [str], "kinds": {part names and classes},
               "controls": [control]}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import defusedxml
import defusedxml.ElementTree as SafeET

from core.errors import ValidationError

MAX_PARAM_TEXT = 2000  # a parameter placeholder longer than a whole question is not a parameter
_INSERT = re.compile(r"\{\{\s*insert:\s*param,\s*([^\s}]+)\s*\}\}")
_XML_LISTS = {
    "group": "groups",
    "control": "controls",
    "part": "parts",
    "prop": "props",
    "param": "params",
}
_NOT_PROSE = {"part", "prop", "link", "title"}  # XML children of a part that are not its prose


class _Problem(Exception):
    """Internal: a problem at a location; the public functions add the file name."""


def catalog_from_json(text: str, *, source_name: str) -> dict:
    """Normalise an OSCAL catalog in JSON; ValidationError names the file and element."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{source_name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise ValidationError(f"{source_name}: the JSON is nested too deeply") from None
    catalog = data.get("catalog") if isinstance(data, dict) else None
    if not isinstance(catalog, dict):
        raise ValidationError(
            f"{source_name}: not an OSCAL catalog (no top-level 'catalog' object)"
        )
    return _read(source_name, lambda: catalog)


def catalog_from_xml(data: bytes, *, source_name: str) -> dict:
    """Normalise an OSCAL catalog in XML, refusing DTDs, entities and external references."""
    try:
        # OSCAL needs no DTD, so refuse any: that stops entity bombs and external entities early.
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException:
        raise ValidationError(
            f"{source_name}: XML with a DOCTYPE or entity declarations is "
            "refused (entities can expand into an 'XML bomb' or read external "
            "files)"
        ) from None
    except SafeET.ParseError as exc:
        line, column = exc.position
        raise ValidationError(
            f"{source_name}: not well-formed XML (line {line}, column {column + 1})"
        ) from None
    if _tag(root) != "catalog":
        raise ValidationError(
            f"{source_name}: not an OSCAL catalog (the root element is "
            f"<{_tag(root)}>, expected <catalog>)"
        )
    return _read(source_name, lambda: _xml_node(root))


def _read(source_name: str, catalog: Callable[[], dict]) -> dict:
    try:
        return _Reader(catalog()).read()
    except _Problem as problem:
        raise ValidationError(f"{source_name}: {problem}") from None
    except RecursionError:
        raise ValidationError(f"{source_name}: the catalog is nested too deeply") from None


# The XML form is first converted to the JSON form's shape, so that one reader serves both.
def _xml_node(el) -> dict:
    node = {k: v for k, v in el.attrib.items() if k in ("id", "class", "name", "value", "how-many")}
    for child in el:
        tag = _tag(child)
        if tag in _XML_LISTS:
            node.setdefault(_XML_LISTS[tag], []).append(_xml_node(child))
        elif tag in ("title", "label"):
            node[tag] = _xml_text(child)
        elif tag in ("value", "choice"):  # of a param, and of its select
            node.setdefault("values" if tag == "value" else "choice", []).append(_xml_text(child))
        elif tag in ("metadata", "select"):
            node[tag] = _xml_node(child)
    if _tag(el) == "part":
        node["prose"] = " ".join(_xml_text(c) for c in el if _tag(c) not in _NOT_PROSE)
    return node


def _xml_text(el) -> str:
    """Mixed content as text, with <insert> written as the JSON form's insert markup."""
    pieces = [el.text or ""]
    for child in el:
        is_insert = _tag(child) == "insert"
        pieces += [
            f"{{{{ insert: param, {child.get('id-ref')} }}}}" if is_insert else _xml_text(child),
            child.tail or "",
        ]
    return "".join(pieces)


def _tag(el) -> str:
    # Comments and processing instructions have a function as their tag.
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


class _Reader:
    """Normalises a catalog in the JSON form's shape; parameters are catalog-wide, so first."""

    def __init__(self, catalog: dict):
        self.catalog = catalog
        self.params: dict[str, dict] = {}
        self.rendered: dict[str, str] = {}

    def read(self) -> dict:
        """The normalised catalog."""
        self._collect_params(self.catalog)
        metadata = self.catalog.get("metadata")
        title = _clean(metadata.get("title")) if isinstance(metadata, dict) else ""
        if self.catalog.get("controls"):
            raise _Problem("catalog: controls outside a group are not supported")
        groups = _dicts(self.catalog.get("groups"), "catalog: groups")
        if not groups:
            raise _Problem("catalog: no groups (nothing to import)")
        return {
            "title": title or None,
            "groups": [self._group(g, f"group {i + 1}") for i, g in enumerate(groups)],
        }

    def _collect_params(self, node: object) -> None:
        if isinstance(node, dict):
            for param in node.get("params") if isinstance(node.get("params"), list) else ():
                if isinstance(param, dict) and isinstance(param.get("id"), str):
                    self.params[param["id"]] = param
            for value in node.values():
                self._collect_params(value)
        elif isinstance(node, list):
            for value in node:
                self._collect_params(value)

    def _group(self, raw: dict, where: str) -> dict:
        gid = _required(raw, "id", where)
        where = f"group {gid!r}"
        subgroups = _dicts(raw.get("groups"), f"{where}: groups")
        return {
            "id": gid,
            "title": _required(raw, "title", where),
            "description": "\n".join(
                self._prose(p) for p in _dicts(raw.get("parts"), f"{where}: parts")
            )
            or None,
            "controls": self._controls(raw, where),
            "groups": [self._group(g, f"{where} group {i + 1}") for i, g in enumerate(subgroups)],
        }

    def _controls(self, raw: dict, where: str) -> list[dict]:
        items = _dicts(raw.get("controls"), f"{where}: controls")
        return [self._control(c, where, i) for i, c in enumerate(items)]

    def _control(self, raw: dict, parent: str, index: int) -> dict:
        cid = _required(raw, "id", f"{parent} control {index + 1}")
        where = f"{parent} control {cid!r}"
        props = _dicts(raw.get("props"), f"{where}: props")
        parts = [
            (_str(p.get("name")), _str(p.get("class")), p)
            for p in _dicts(raw.get("parts"), f"{where}: parts")
        ]
        return {
            "id": cid,
            "class": _str(raw.get("class")),
            "title": _required(raw, "title", where),
            "label": _label(props) or cid,
            "withdrawn": any(
                p.get("name") == "status" and _str(p.get("value")).lower() == "withdrawn"
                for p in props
            ),
            "statement": "\n".join(self._item(p) for n, _, p in parts if n == "statement"),
            "guidance": " ".join(self._prose(p) for n, _, p in parts if n == "guidance"),
            "examples": [self._prose(p) for n, c, p in parts if "example" in (n, c)],
            "kinds": {kind for n, c, _ in parts for kind in (n, c) if kind},
            "controls": self._controls(raw, where),
        }

    def _item(self, part: dict) -> str:
        """A statement part and its nested items, one labelled line each ("a. ...", "1. ...")."""
        head = " ".join(
            s for s in (_label(_dicts(part.get("props"), "part props")), self._prose(part)) if s
        )
        items = [self._item(child) for child in _dicts(part.get("parts"), "part parts")]
        return "\n".join(line for line in (head, *items) if line)

    def _prose(self, part: dict) -> str:
        return self._render(part.get("prose"))

    def _render(self, text: object) -> str:
        rendered = _clean(_INSERT.sub(lambda m: self._param(m.group(1)), _str(text)))
        return re.sub(r"\] ([;,.:])", r"]\1", rendered)  # sources often space before the ";"

    def _param(self, pid: str) -> str:
        # Parameters may insert parameters: rendering each once, with a length cap, keeps a
        # nest of them from expanding exponentially (the JSON twin of an XML entity bomb).
        if pid not in self.rendered:
            param = self.params.get(pid)
            self.rendered[pid] = f"[{pid}]"  # a placeholder, should the parameter insert itself
            text = self._param_text(param) if param else f"[{pid}]"
            if len(text) > MAX_PARAM_TEXT:
                raise _Problem(
                    f"parameter {pid!r} expands to more than {MAX_PARAM_TEXT} characters"
                )
            self.rendered[pid] = text
        return self.rendered[pid]

    def _param_text(self, param: dict) -> str:
        """SP 800-53 style placeholder: [Assignment: organization-defined ...] or [Selection]."""
        values, select = param.get("values"), param.get("select")
        if isinstance(values, list) and values:
            return "; ".join(self._render(v) for v in values)
        if isinstance(select, dict) and isinstance(select.get("choice"), list):
            how = " (one or more)" if select.get("how-many") == "one-or-more" else ""
            return f"[Selection{how}: {'; '.join(self._render(c) for c in select['choice'])}]"
        label = self._render(param.get("label")) or param["id"]
        prefix = "" if label.startswith("organization-defined") else "organization-defined "
        return f"[Assignment: {prefix}{label}]"


def _clean(text: object) -> str:
    return " ".join(_str(text).split())


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _required(raw: dict, field: str, where: str) -> str:
    value = _clean(raw.get(field))
    if not value:
        raise _Problem(f"{where}: missing {field}")
    return value


def _dicts(value: object, where: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _Problem(f"{where} must be a list of objects")
    return value


def _label(props: list[dict]) -> str:
    # SP 800-53 gives several labels; the one without a class is the familiar "AC-2(1)".
    labels = [p for p in props if p.get("name") == "label" and _clean(p.get("value"))]
    plain = [p for p in labels if not p.get("class")] or labels
    return _clean(plain[0]["value"]) if plain else ""
