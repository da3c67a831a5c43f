"""OSCAL prose as people read it: Markdown rendered to plain text, parameters filled in.

The JSON and YAML editions carry Markdown; the XML edition's markup is converted to the same
Markdown (core/banks/oscal_xml.py), so both render alike: links keep their text, emphasis and
escapes go, lists stay one item a line. Parameters appear the way NIST and FedRAMP print them:
"[Assignment: organization-defined frequency]", "[Selection (one or more): a; b]", and with a
constraint "[Assignment: frequency; at least every 3 years]".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

MAX_PARAM_TEXT = 2000  # a parameter longer than a whole question is not a parameter
# Both syntaxes OSCAL has used: {{ insert: param, ac-1_prm_1 }} and the 1.0 betas' {{ ac-1_prm_1 }}
INSERT = re.compile(r"\{\{\s*(?:insert\s*:\s*param\s*,\s*)?([A-Za-z_][\w.\-]*)\s*\}\}")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_HELD = re.compile(r"\ue000(\d+)\ue001")
_LIST_ITEM = re.compile(r"(?:([-*+])|(\d+)[.)])\s+(.*)")
_INLINE = (
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # image: its alt text
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),  # link: its text, as the XML edition reads
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"\*(?=\S)(.+?)(?<=\S)\*"), r"\1"),
)
# Sources often write "[CA-3](#ca-3) ." or "] ;" or "( PE )": no space before or after those.
_TIDY = re.compile(r"[ \t]+([.,;:)\]])|([(\[])[ \t]+")
_TIDY_PAIRS = (" .", " ,", " ;", " :", " )", " ]", "( ", "[ ", "\t")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_BLOCK_MARKS = frozenset("`#>|-*+")
_MARKUP = re.compile(r"[\[`*_!]")


class OscalProblem(Exception):
    """A problem at a location in a catalog; the public readers prefix the file name."""


def render(markdown: object, param: Callable[[str], str] | None = None) -> str:
    """Markdown prose as plain text: paragraphs apart by a blank line, list items one a line."""
    if not isinstance(markdown, str) or not markdown.strip():
        return ""
    held: list[str] = []

    def hold(text: str) -> str:
        held.append(text)
        return f"\ue000{len(held) - 1}\ue001"

    text = _ESCAPED.sub(lambda m: hold(m.group(1)), markdown) if "\\" in markdown else markdown
    if "{{" in text:
        text = INSERT.sub(lambda m: hold(param(m.group(1)) if param else m.group(0)), text)
    if "\n" in text:
        text = "\n\n".join(b for b in map(_block, _PARAGRAPH.split(text)) if b)
    else:
        text = _block(text)
    while held and "\ue000" in text:  # held pieces may hold others (an escape in a link's text)
        text = _HELD.sub(lambda m: held[int(m.group(1))], text)
    if any(pair in text for pair in _TIDY_PAIRS):  # a plain scan is 5x faster than the regex
        text = _TIDY.sub(_tidy, text)
    return text


def _tidy(match: re.Match[str]) -> str:
    return match.group(1) or match.group(2)


def one_line(markdown: object, param: Callable[[str], str] | None = None) -> str:
    """Prose rendered onto one line (titles, labels, choices)."""
    return " ".join(render(markdown, param).split())


def _block(block: str) -> str:
    lines = [line.strip() for line in block.split("\n") if line.strip()]
    if not lines:
        return ""
    first = lines[0]
    if len(lines) == 1 and first[0] not in _BLOCK_MARKS and not first[0].isdigit():
        return _inline(first)
    if first.startswith("```"):
        return "\n".join(line for line in lines if not line.startswith("```"))
    if first.startswith("#"):
        lines[0] = first.lstrip("#").strip()
    if all(line.startswith(">") for line in lines):
        lines = [line.lstrip(">").strip() for line in lines]
    if all(line.startswith("|") for line in lines):
        cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
        rows = [r for r in cells if not all(set(c) <= set("-: ") for c in r)]
        return "\n".join(" | ".join(_inline(c) for c in r) for r in rows)
    if _LIST_ITEM.match(first):
        items: list[list[str]] = []
        for line in lines:
            match = _LIST_ITEM.match(line)
            if match:
                items.append([f"{match.group(2)}." if match.group(2) else "-", match.group(3)])
            else:  # a continuation of the item above
                items[-1][1] += " " + line
        return "\n".join(f"{mark} {_inline(text)}" for mark, text in items)
    return _inline(" ".join(lines))


def _inline(text: str) -> str:
    if _MARKUP.search(text):
        for pattern, replacement in _INLINE:
            text = pattern.sub(replacement, text)
    return " ".join(text.split())


class Parameters:
    """Renders parameter inserts; parameters may insert parameters, each is rendered once."""

    def __init__(self, params: Mapping[str, Mapping[str, Any]]):
        self.params = params
        self.rendered: dict[str, str] = {}

    def __call__(self, pid: str) -> str:
        # Rendering each once, with a length cap, keeps a nest of parameters from expanding
        # exponentially (the JSON twin of an XML entity bomb).
        if pid not in self.rendered:
            param = self.params.get(pid)
            if param is None:
                raise OscalProblem(f"inserts parameter {pid!r}, which the file does not define")
            self.rendered[pid] = f"[{pid}]"  # should the parameter insert itself
            text = self._text(pid, param)
            if len(text) > MAX_PARAM_TEXT:
                raise OscalProblem(
                    f"parameter {pid!r} expands to more than {MAX_PARAM_TEXT} characters"
                )
            self.rendered[pid] = text
        return self.rendered[pid]

    def _text(self, pid: str, param: Mapping[str, Any]) -> str:
        values = [one_line(v, self) for v in _list(param.get("values")) if isinstance(v, str)]
        if any(values):
            return "; ".join(v for v in values if v)
        constraint = "; ".join(
            text
            for c in _list(param.get("constraints"))
            if isinstance(c, dict) and (text := one_line(c.get("description"), self))
        )
        tail = f"; {constraint}]" if constraint else "]"
        select = param.get("select")
        if isinstance(select, dict) and _list(select.get("choice")):
            how = " (one or more)" if select.get("how-many") == "one-or-more" else ""
            choices = "; ".join(one_line(c, self) for c in _list(select["choice"]))
            return f"[Selection{how}: {choices}{tail}"
        label = one_line(param.get("label"), self) or one_line(param.get("usage"), self) or pid
        if constraint or label.startswith("organization-defined"):
            return f"[Assignment: {label}{tail}"
        return f"[Assignment: organization-defined {label}]"


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
