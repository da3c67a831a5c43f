"""Plain text: the one check for what users type, and escaping for the renderers that would
otherwise interpret it.

Streamlit renders Markdown (images from any host, live links, `:color-badge[...]` directives,
raw HTML, `$math$`) in st.markdown, captions, alerts, toasts, titles, widget labels, help texts
and radio or pill options; Plotly renders a subset of HTML (`<a href>`, `<b>`, `<br>`) in titles,
tick labels, legends and hover text. Anything a user typed must reach them escaped.
"""

from __future__ import annotations

import html
import re
import unicodedata

from core.errors import ValidationError

# Every ASCII punctuation character: CommonMark lets each be backslash-escaped, so escaping all of
# them leaves no syntax (emphasis, links, images, directives, math, HTML, tables, headings) behind.
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"\r\n?")
_SPACES = re.compile(r"\s+")

# Bidirectional controls reorder what is shown (an "exe.pdf" that is really "fdp.exe").
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Characters that take no room: two names that differ only by one of them look the same.
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_KINDS = {
    "Cc": "a control character",
    "Cf": "an invisible character",
    "Cs": "an invalid character",
    "Co": "a private-use character",
    "Cn": "an unassigned character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
_CONTROL_NAMES = {
    "\x00": "null",
    "\t": "tab",
    "\n": "line feed",
    "\r": "carriage return",
    "\x1b": "escape",
    "\x7f": "delete",
}


def md_escape(text: object, *, multiline: bool = False) -> str:
    """Text that Streamlit Markdown shows literally; with multiline, line breaks stay breaks."""
    escaped = _MD_SPECIAL.sub(r"\\\1", "" if text is None else str(text))
    if multiline:
        # Two trailing spaces make a hard break; a lone newline would join the lines.
        return _LINE_BREAKS.sub("\n", escaped).replace("\n", "  \n")
    return _SPACES.sub(" ", escaped)  # a newline in a label could start a block element


def plotly_escape(text: object) -> str:
    """Text that Plotly shows literally in titles, labels, legends and hover text."""
    return html.escape("" if text is None else str(text), quote=False)


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "") or _CONTROL_NAMES.get(ch, "")
    return f"U+{ord(ch):04X} {name.lower()}".strip()


def _kind(ch: str) -> str | None:
    if ch in BIDI:
        return "a bidirectional control character"
    if ch in INVISIBLE:
        return "an invisible character"
    return _KINDS.get(unicodedata.category(ch))


def hidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first control, bidi or invisible character in value, if any; tabs and newlines pass
    where the field is multi-line."""
    return next((ch for ch in value if not (multiline and ch in "\t\n") and _kind(ch)), None)


def refuse_hidden(value: str, what: str, *, multiline: bool = False) -> None:
    """ValidationError naming the first hidden character in value (see hidden_character)."""
    ch = hidden_character(value, multiline=multiline)
    if ch is not None:
        raise ValidationError(f"{what} contains {_kind(ch)} ({_describe(ch)}); remove it.")


def clean_text(
    value: object, what: str, *, limit: int, multiline: bool = False, required: bool = True
) -> str:
    """The one check for user-entered names and text: refuses hidden characters, returns the text
    in NFC without surrounding whitespace (single-line: inner runs of spaces become one)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text.")
    if multiline:
        value = _LINE_BREAKS.sub("\n", value)  # browsers send CR LF; it is still one line break
    refuse_hidden(value, what, multiline=multiline)
    value = unicodedata.normalize("NFC", value).strip()
    if not multiline:
        value = _SPACES.sub(" ", value)
    if required and not value:
        raise ValidationError(f"{what} is required.")
    if len(value) > limit:
        raise ValidationError(f"{what} must be at most {limit:,} characters.")
    return value


def name_key(name: str) -> str:
    """What two names must differ in to coexist: compatibility forms (fullwidth letters,
    ligatures) folded, case folded, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", name or "").casefold()
    return _SPACES.sub(" ", folded).strip()
