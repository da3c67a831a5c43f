"""Read an OSCAL YAML edition as the JSON edition's data: mappings, lists and strings, nothing more.

YAML features OSCAL never uses are refused rather than interpreted: anchors and aliases (they can
expand into a "YAML bomb"), tags, several documents in one file and repeated keys. Plain scalars
stay strings except true, false and null, so `with-child-controls: yes` keeps the token "yes" and
`version: 1.10` stays "1.10", as in the JSON edition. The document is built from libyaml's event
stream directly, several times faster than PyYAML's constructors on a 2.7 MB catalog.
"""

from __future__ import annotations

from typing import Any

import yaml

from core.errors import ValidationError

_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it
_PLAIN: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("null", "Null", "NULL", "~", ""), None),
}
_STR_TAGS = (None, "!", "tag:yaml.org,2002:str")


def load_oscal_yaml(text: str, *, source_name: str) -> Any:
    """The document as plain data; ValidationError names the file, line and column."""
    try:
        return _build(yaml.parse(text, Loader=_PARSER), source_name)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ValidationError(
            f"{source_name}: {where}invalid YAML: {exc.problem or exc.context}"
        ) from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"{source_name}: invalid YAML ({exc})") from None


def _where(source_name: str, event: yaml.Event) -> str:
    mark = event.start_mark
    return f"{source_name}: line {mark.line + 1}, column {mark.column + 1}"


def _build(events: Any, source_name: str) -> Any:
    # stack of [container, pending mapping key or None]; a mapping's key arrives as a scalar first
    stack: list[list[Any]] = []
    keys: list[set[str]] = []
    document: Any = None
    documents = 0
    for event in events:
        kind = type(event)
        if kind is yaml.AliasEvent or getattr(event, "anchor", None):
            raise ValidationError(
                f"{_where(source_name, event)}: YAML anchors and aliases are refused (OSCAL "
                "needs none, and they can expand into a 'YAML bomb')"
            )
        if kind is yaml.ScalarEvent:
            if event.tag not in _STR_TAGS:
                raise ValidationError(
                    f"{_where(source_name, event)}: YAML tag {event.tag!r} is refused"
                )
            plain = event.implicit[0]  # unquoted and untagged
            value = _PLAIN.get(event.value, event.value) if plain else event.value
            node: Any = value
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.tag not in _STR_TAGS[:2] and event.tag not in (
                "tag:yaml.org,2002:map",
                "tag:yaml.org,2002:seq",
            ):
                raise ValidationError(
                    f"{_where(source_name, event)}: YAML tag {event.tag!r} is refused"
                )
            node = {} if kind is yaml.MappingStartEvent else []
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            stack.pop()
            if kind is yaml.MappingEndEvent:
                keys.pop()
            continue
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise ValidationError(
                    f"{_where(source_name, event)}: several YAML documents in one file"
                )
            continue
        else:  # stream start and end, document end
            continue
        if not stack:
            document = node
        else:
            top = stack[-1]
            container = top[0]
            if isinstance(container, list):
                container.append(node)
            elif top[1] is None:  # this node is a key
                if kind is not yaml.ScalarEvent:
                    raise ValidationError(
                        f"{_where(source_name, event)}: a mapping key must be a plain string"
                    )
                key = event.value  # a key stays text, even "true" or "null"
                if key in keys[-1]:
                    raise ValidationError(f"{_where(source_name, event)}: duplicate key {key!r}")
                keys[-1].add(key)
                top[1] = key
                continue
            else:
                container[top[1]] = node
                top[1] = None
        if isinstance(node, (dict, list)):
            stack.append([node, None])
            if isinstance(node, dict):
                keys.append(set())
    return document
