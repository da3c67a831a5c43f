"""An OSCAL file in any edition (JSON, minified JSON, XML, YAML) as the JSON edition's data.

The edition is told by content, not by file name: XML starts with "<", JSON with "{", anything
else is read as YAML. The root must be a catalog or a profile; other OSCAL models and other JSON
or YAML are refused with a line saying what the file is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from core.banks.oscal_xml import ROOTS, document_from_xml
from core.banks.oscal_yaml import load_oscal_yaml
from core.errors import ValidationError

OTHER_MODELS = (
    "component-definition",
    "system-security-plan",
    "assessment-plan",
    "assessment-results",
    "plan-of-action-and-milestones",
    "mapping-collection",
)
_YAML_ROOT = re.compile(r"^(catalog|profile)\s*:", re.MULTILINE)


@dataclass(frozen=True)
class Document:
    """One OSCAL file: its root ("catalog" or "profile"), body and edition."""

    name: str
    root: str
    body: dict[str, Any]
    edition: str  # "json", "xml" or "yaml"


def looks_like_oscal_yaml(text: str) -> bool:
    """Whether YAML text is an OSCAL catalog or profile rather than one of our bank files."""
    return bool(_YAML_ROOT.search(text[:4096]))


def read_document(name: str, data: bytes, text: str) -> Document:
    """The OSCAL catalog or profile in a file; ValidationError names the file and problem."""
    start = text.lstrip()[:1]
    if start == "<":
        root, body = document_from_xml(data, source_name=name)
        return Document(name, root, body, "xml")
    if start in ("{", "["):
        return _document(name, _json(name, text), "json")
    return _document(name, load_oscal_yaml(text, source_name=name), "yaml")


def _json(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        cut = " (is the file cut short?)" if exc.pos >= len(text.rstrip()) else ""
        raise ValidationError(
            f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}){cut}"
        ) from None
    except RecursionError:
        raise ValidationError(f"{name}: the JSON is nested too deeply") from None


def _document(name: str, data: Any, edition: str) -> Document:
    roots = [k for k in ROOTS if isinstance(data, dict) and k in data]
    if len(roots) == 1 and isinstance(data[roots[0]], dict):
        return Document(name, roots[0], data[roots[0]], edition)
    other = [k for k in OTHER_MODELS if isinstance(data, dict) and k in data]
    if other:
        raise ValidationError(f"{name}: an OSCAL {other[0]}, not a catalog or profile")
    keys = ", ".join(sorted(data)[:5]) if isinstance(data, dict) else type(data).__name__
    raise ValidationError(
        f"{name}: not an OSCAL catalog or profile (expected a top-level 'catalog' or "
        f"'profile' object; found {keys or 'nothing'})"
    )
