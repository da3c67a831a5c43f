"""Read an OSCAL XML edition into the JSON edition's shape, so one reader serves every format.

Prose markup becomes the Markdown the JSON edition carries (NIST's own conversion: <em> as *x*,
<a href> as [text](href), <insert> as {{ insert: param, id }}, <q> as "x"), with literal
Markdown characters escaped, so both editions of a catalog render to the same text.
"""

from __future__ import annotations

import re
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeET

from core.errors import ValidationError

OSCAL_NS = "http://csrc.nist.gov/ns/oscal/1.0"
ROOTS = ("catalog", "profile")
_LISTS = {
    "group": "groups",
    "control": "controls",
    "part": "parts",
    "prop": "props",
    "param": "params",
    "link": "links",
    "constraint": "constraints",
    "guideline": "guidelines",
    "test": "tests",
    "resource": "resources",
    "rlink": "rlinks",
    "role": "roles",
    "party": "parties",
    "responsible-party": "responsible-parties",
    "document-id": "document-ids",
    "import": "imports",
    "include-controls": "include-controls",
    "exclude-controls": "exclude-controls",
    "matching": "matching",
    "set-parameter": "set-parameters",
    "alter": "alters",
    "add": "adds",
    "remove": "removes",
    "insert-controls": "insert-controls",
}
_TEXT_LISTS = {"with-id": "with-ids", "value": "values", "party-uuid": "party-uuids"}
_MARKUP_LINE_LISTS = {"choice": "choice"}
_MARKUP_LINE = {"title", "label", "text", "citation"}
_MULTILINE = {"remarks", "usage", "description"}
_PROSE_OWNERS = {"part", "guideline"}  # their block children are their "prose"
_STRUCTURE = {"title", "prop", "link", "part"}  # children of a part that are not prose
_INLINE = {"em": "*", "i": "*", "strong": "**", "b": "**", "code": "`", "sub": "~", "sup": "^"}
_ESCAPE = re.compile(r"([\\`*\[\]{}])")
_SPACE = re.compile(r"\s+")


def document_from_xml(data: bytes, *, source_name: str) -> tuple[str, dict[str, Any]]:
    """(root name, body) of an OSCAL catalog or profile in XML; DTDs and entities are refused."""
    try:
        # OSCAL needs no DTD, so refuse any: that stops entity bombs and external entities early.
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException:
        raise ValidationError(
            f"{source_name}: XML with a DOCTYPE or entity declarations is refused (entities can "
            "expand into an 'XML bomb' or read external files)"
        ) from None
    except SafeET.ParseError as exc:
        line, column = exc.position
        raise ValidationError(
            f"{source_name}: not well-formed XML (line {line}, column {column + 1}; "
            "is the file cut short?)"
        ) from None
    name, namespace = _tag(root), _namespace(root)
    if name not in ROOTS or namespace not in ("", OSCAL_NS):
        foreign = namespace not in ("", OSCAL_NS)
        found = f"<{name}>" + (f" in namespace {namespace}" if foreign else "")
        raise ValidationError(
            f"{source_name}: not an OSCAL catalog or profile (the root element is {found}, "
            "expected <catalog> or <profile>)"
        )
    try:
        return name, _node(root)
    except RecursionError:
        raise ValidationError(f"{source_name}: the XML is nested too deeply") from None


def _node(el: Any) -> dict[str, Any]:
    node: dict[str, Any] = dict(el.attrib)
    prose: list[str] = []
    own_prose = _tag(el) in _PROSE_OWNERS
    for child in el:
        tag = _tag(child)
        if not tag:
            continue
        if own_prose and tag not in _STRUCTURE:
            prose.append(_block(child))
        elif tag in _LISTS:
            node.setdefault(_LISTS[tag], []).append(_node(child))
        elif tag in _TEXT_LISTS:
            node.setdefault(_TEXT_LISTS[tag], []).append(_text(child))
        elif tag in _MARKUP_LINE_LISTS:
            node.setdefault(_MARKUP_LINE_LISTS[tag], []).append(_inline(child).strip())
        elif tag in _MARKUP_LINE:
            node[tag] = _inline(child).strip()
        elif tag in _MULTILINE:
            node[tag] = _blocks(child)
        elif len(child) or child.attrib:
            node[tag] = _node(child)
        else:
            text = _text(child).strip()
            node[tag] = {} if not text else (text == "true" if text in ("true", "false") else text)
    if prose:
        node["prose"] = "\n\n".join(p for p in prose if p)
    return node


def _blocks(el: Any) -> str:
    """Multiline markup (paragraphs, lists, tables) as Markdown; bare text as one paragraph."""
    if not len(el):
        return _inline(el).strip()
    return "\n\n".join(b for b in (_block(c) for c in el if _tag(c)) if b)


def _block(el: Any) -> str:
    tag = _tag(el)
    if tag in ("ul", "ol"):
        items = [c for c in el if _tag(c) == "li"]
        marks = [f"{i + 1}." if tag == "ol" else "-" for i in range(len(items))]
        return "\n".join(f"{m} {_inline(li).strip()}" for m, li in zip(marks, items, strict=True))
    if re.fullmatch(r"h[1-6]", tag):
        return f"{'#' * int(tag[1])} {_inline(el).strip()}"
    if tag == "table":
        rows = [r for r in el.iter() if _tag(r) == "tr"]
        return "\n".join(
            "| " + " | ".join(_inline(c).strip() for c in r if _tag(c) in ("td", "th")) + " |"
            for r in rows
        )
    if tag == "pre":
        return f"```\n{_text(el)}\n```"
    if tag == "blockquote":
        return "> " + _blocks(el)
    return _inline(el).strip()


def _inline(el: Any) -> str:
    """Inline markup as Markdown, literal Markdown characters escaped."""
    pieces = [_escape(el.text or "")]
    for child in el:
        tag = _tag(child)
        if tag == "insert":
            ref = child.get("id-ref") or child.get("param-id") or ""  # param-id: OSCAL 1.0 betas
            pieces.append(f"{{{{ insert: {child.get('type') or 'param'}, {ref} }}}}")
        elif tag == "a":
            pieces.append(f"[{_inline(child)}]({child.get('href', '')})")
        elif tag == "q":
            pieces.append(f'"{_inline(child)}"')
        elif tag == "img":
            pieces.append(f"![{_escape(child.get('alt', ''))}]({child.get('src', '')})")
        elif tag == "br":
            pieces.append("\n")
        elif tag in _INLINE:
            mark = _INLINE[tag]
            pieces.append(f"{mark}{_inline(child)}{mark}")
        elif tag:
            pieces.append(_inline(child))
        pieces.append(_escape(child.tail or ""))
    return "".join(pieces)


def _text(el: Any) -> str:
    return "".join(el.itertext())


def _escape(text: str) -> str:
    # Line breaks and indentation inside XML markup are not the text's: one space each.
    return _ESCAPE.sub(r"\\\1", _SPACE.sub(" ", text))


def _tag(el: Any) -> str:
    # Comments and processing instructions have a function as their tag.
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def _namespace(el: Any) -> str:
    return el.tag[1:].split("}", 1)[0] if el.tag.startswith("{") else ""
