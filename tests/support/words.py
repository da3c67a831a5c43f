"""What a person reads on a page run by AppTest, and the words they should never meet there:
snake_case keys, None/nan/NaT, JSON, and dates or times not in the one UI format."""

from __future__ import annotations

import json
import re

from core.labels import DATE_FORMAT_MOMENT, DATETIME_FORMAT_MOMENT

# Proto fields a person reads (ids, icons, formats, defaults and URLs are not read).
READ_FIELDS = {
    "body",
    "label",
    "help",
    "options",
    "placeholder",
    "text",
    "content",
    "captions",
    "display_text",
    "caption",
}
SKIP_MESSAGES = {"PlotlyChart", "Arrow", "DataFrame", "Code"}  # charts are checked elsewhere
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_CODE_SPAN = re.compile(r"`[^`]*`")  # commands and keys quoted as code are meant as code
_ICON = re.compile(r"(?::[a-z]+\[)?:material/[a-z0-9_]+:\]?")  # an icon, maybe coloured
_EMPTY_CELL = re.compile(r"None|nan|NaN|NaT|null|\{\}|\[\]")

PROBLEMS = {
    "snake_case": re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b"),
    "None/nan": re.compile(r"\b(?:None|nan|NaN|NaT|null)\b"),
    "JSON": re.compile(r"[{\[]\s*\"|\{\s*\}|\[\s*\]"),
    "ISO date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{4}-\d{2}\b"),
    "time without UTC": re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b(?! UTC)"),
    "zero-padded day": re.compile(r"\b0\d [A-Z][a-z]{2} \d{4}\b"),
}


# Inside a cell, a whole word "None" may be bank text (an ASVS requirement about the "None"
# algorithm); only a cell that is nothing but such a word is an empty value shown raw.
CELL_PROBLEMS = {k: v for k, v in PROBLEMS.items() if k != "None/nan"}


def _strings(message):
    name = message.DESCRIPTOR.name
    if name in SKIP_MESSAGES:
        return
    for field, value in message.ListFields():
        values = value if isinstance(value, (list, tuple)) or hasattr(value, "extend") else [value]
        for item in values:
            if isinstance(item, str) and field.name in READ_FIELDS:
                yield f"{name}.{field.name}", item
            elif hasattr(item, "DESCRIPTOR"):
                yield from _strings(item)


def _nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def _protos(at):
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "DESCRIPTOR"):
            yield proto


def plain(text: str) -> str:
    """Markdown source as read: escapes undone, code spans dropped."""
    return _ICON.sub("", _CODE_SPAN.sub("", _MD_ESCAPE.sub(r"\1", text)))


def _without(text: str, user_data: list[str]) -> str:
    for value in user_data:
        text = text.replace(value, "")
    return text


def _table_problems(df, code_columns: set[str], user_data: list[str]) -> list[str]:
    """Labels, empty cells and date formats of one dataframe element."""
    found = []
    config = json.loads(df.proto.columns or "{}")
    frame = df.value
    # A table of file column names (the data dictionary) speaks of keys by their names.
    code_table = bool(
        code_columns & {(config.get(str(n), {}).get("label") or str(n)) for n in frame.columns}
    )
    for name in frame.columns:
        entry = config.get(str(name), {})
        if entry.get("hidden"):
            continue
        label = entry.get("label") or str(name)
        found += [
            f"table column name {label!r}: {kind}"
            for kind, rx in PROBLEMS.items()
            if rx.search(label)
        ]
        column = frame[name]
        if column.isna().any():
            found.append(f"table column {label!r} shows None in an empty cell")
        kind = str(column.dtype)
        fmt = (entry.get("type_config") or {}).get("format")
        if kind.startswith("datetime64") and fmt != DATETIME_FORMAT_MOMENT:
            found.append(f"table column {label!r} shows times as {fmt or 'the default'}")
        dates = kind == "object" and column.map(lambda v: hasattr(v, "isoformat")).any()
        if dates and fmt not in (DATE_FORMAT_MOMENT, DATETIME_FORMAT_MOMENT):
            found.append(f"table column {label!r} shows dates as {fmt or 'the default'}")
        if dates or label in code_columns or not (kind == "object" or kind.startswith("str")):
            continue
        for cell in column.dropna().astype(str).unique():
            cell = _without(cell, user_data)
            if _EMPTY_CELL.fullmatch(cell.strip()):
                found.append(f"table {label!r} shows a cell as {cell!r}")
            found += [
                f"table {label!r} cell {cell[:60]!r}: {k}"
                for k, rx in CELL_PROBLEMS.items()
                if rx.search(cell) and not (code_table and k == "snake_case")
            ]
    return found


def page_problems(at, *, user_data: set[str], code_columns: set[str] = frozenset()) -> list[str]:
    """Every word on the page a person should not meet, with where it is; user_data (usernames
    and the like, which may hold underscores) is taken out of the text first."""
    cleaned = sorted(user_data, key=len, reverse=True)
    found = []
    for proto in _protos(at):
        for where, text in _strings(proto):
            text = _without(plain(text), cleaned)
            found += [
                f"{where} {text[:80]!r}: {kind}" for kind, rx in PROBLEMS.items() if rx.search(text)
            ]
    for df in at.dataframe:
        found += _table_problems(df, code_columns, cleaned)
    return found
