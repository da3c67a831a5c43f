"""Small readers of OSCAL data (the JSON edition's shape): text, lists, labels, properties."""

from __future__ import annotations

import re
from typing import Any

from core.banks.oscal_prose import OscalProblem, one_line

_LICENCE_NAMES = {"license", "licence", "rights", "copyright"}
_PADDING = re.compile(r"(?<=-)0+(?=\d)")


def unpadded(label: str) -> str:
    """A label as compared: "AC-01" (SP 800-53A's form) is "AC-1"."""
    return _PADDING.sub("", label).upper()


def missing_resource(where: str, href: str) -> str:
    """The message for a link to a back-matter resource the file lacks."""
    return (
        f"{where}: links to resource {href}, which the file's back-matter does not hold "
        "(is the file cut short?)"
    )


def ordered(items: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(position in the file, item) in sort-id order when every item has one, else file order."""
    keys = [prop_value(i, "sort-id") for i in items]
    numbered = list(enumerate(items))
    if items and all(keys):
        numbered.sort(key=lambda pair: keys[pair[0]])
    return numbered


def prop_value(item: dict[str, Any], name: str) -> str:
    """The value of the item's first property of this name, or ""."""
    props = item.get("props")
    for prop in props if isinstance(props, list) else ():
        if isinstance(prop, dict) and prop.get("name") == name:
            return text(prop.get("value"))
    return ""


def catalog_licence(body: dict[str, Any]) -> str | None:
    """A licence line from the metadata: a license/rights/copyright prop or a license link."""
    metadata = mapping(body, "metadata")
    for prop in dicts(metadata.get("props"), "metadata: props"):
        if text(prop.get("name")).lower() in _LICENCE_NAMES and text(prop.get("value")):
            return one_line(prop["value"])
    for link in dicts(metadata.get("links"), "metadata: links"):
        if text(link.get("rel")).lower() in ("license", "licence"):
            return one_line(link.get("text")) or text(link.get("href")) or None
    return None


def mapping(node: dict[str, Any], field: str) -> dict[str, Any]:
    """The field when it is an object, else {}."""
    value = node.get(field)
    return value if isinstance(value, dict) else {}


def text(value: object) -> str:
    """A string with its whitespace collapsed; anything else is ""."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def required(raw: dict[str, Any], field: str, where: str) -> str:
    """A field that must be present and not blank (titles rendered from Markdown)."""
    if field not in raw or raw[field] is None:
        raise OscalProblem(f"{where}: missing {field}")
    value = one_line(raw[field]) if field == "title" else text(raw[field])
    if not value:
        raise OscalProblem(f"{where}: empty {field}")
    return value


def dicts(value: object, where: str) -> list[dict[str, Any]]:
    """A list of objects (absent: empty); anything else is a problem at `where`."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise OscalProblem(f"{where} must be a list of objects")
    return value


def label_of(props: list[dict[str, Any]]) -> str:
    """The label property's value, or ""."""
    # SP 800-53 gives several labels; the one without a class is the familiar "AC-2(1)".
    labels = [p for p in props if p.get("name") == "label" and text(p.get("value"))]
    plain = [p for p in labels if not p.get("class")] or labels
    return text(plain[0]["value"]) if plain else ""
