"""Reading and writing question banks as YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from core.banks.fields import drop_none, plain_number
from core.banks.model import Bank, Question, Section
from core.banks.question_types import QUESTION_TYPES
from core.banks.schema import parse_bank
from core.banks.sheet_ref import source_ref_data
from core.errors import ValidationError

MAX_BANK_BYTES = 2 * 1024 * 1024
_MERGE_TAG = "tag:yaml.org,2002:merge"
BANKS_DIR = Path(__file__).resolve().parents[2] / "data" / "question_banks"


class _StrictLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    """SafeLoader that refuses duplicate mapping keys instead of silently keeping the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, failing on a repeated key."""
        seen: set[str] = set()
        for key_node, _ in node.value:
            # Merge keys ("<<") may legitimately be overridden, so only plain scalars count.
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                )
            seen.add(key_node.value)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    """SafeDumper that double-quotes strings whose line breaks YAML would otherwise rewrite."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # NEL, LS, PS and CR are line breaks to YAML: in plain or block style they load back as "\n".
    style = '"' if any(c in value for c in "\x85\u2028\u2029\r") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def load_bank_file(path: str | Path) -> Bank:
    """Load and validate a bank file (at most 2 MB); errors name the file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BANK_BYTES:
            raise ValidationError(f"{path.name}: file is larger than 2 MB")
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{path.name}: cannot read file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(f"{path.name}: file is not UTF-8 text") from None
    return load_bank_text(text, source_name=path.name)


def load_bank_text(text: str, *, source_name: str) -> Bank:
    """Parse YAML text and validate it as a bank; malformed YAML reports line and column."""
    if len(text.encode("utf-8")) > MAX_BANK_BYTES:
        raise ValidationError(f"{source_name}: bank is larger than 2 MB")
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        raise ValidationError(f"{source_name}: {_describe(exc)}") from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"{source_name}: invalid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ValidationError(
            f"{source_name}: the top level must be a mapping with key, version, title and sections"
        )
    return parse_bank(data, source_name=source_name)


def _describe(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return f"{where}invalid YAML: {problem}"


def bank_data(bank: Bank) -> dict[str, Any]:
    """The bank as plain data in the file format, omitting defaults (parse_bank reads it back)."""
    return drop_none(
        {
            "key": bank.key,
            "version": bank.version,
            "title": bank.title,
            "description": bank.description,
            "source": bank.source,
            "licence": bank.licence,
            "sections": [_section_data(s) for s in bank.sections],
        }
    )


def question_data(q: Question) -> dict[str, Any]:
    """One question as plain data in the file format, omitting defaults."""
    return _question_data(q)


def dump_bank(bank: Bank) -> str:
    """YAML text for a bank, omitting defaults, that loads back to an equal Bank."""
    text: str = yaml.dump(
        bank_data(bank), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    return text


def _section_data(section: Section) -> dict[str, Any]:
    return drop_none(
        {
            "key": section.key,
            "title": section.title,
            "description": section.description,
            "weight": plain_number(section.weight) if section.weight != 1 else None,
            "questions": [_question_data(q) for q in section.questions],
        }
    )


def _question_data(q: Question) -> dict[str, Any]:
    data = {
        "key": q.key,
        "text": q.text,
        "help": q.help,
        "type": q.type,
        "weight": plain_number(q.weight) if q.weight != 1 else None,
        "required": None if q.required else False,
        "critical": q.critical or None,
        "evidence_required": q.evidence_required or None,
        "allow_na": q.allow_na or None,
        "effort": q.effort if q.effort != 1 else None,
        **QUESTION_TYPES[q.type].dump(q),
    }
    if q.condition:
        values = list(q.condition.values)
        data["condition"] = {
            "question": q.condition.question,
            q.condition.op: values[0] if q.condition.op == "equals" else values,
        }
    data["source_ref"] = source_ref_data(q.source_ref)
    return drop_none(data)


def shipped_bank_paths() -> list[Path]:
    """The bank files shipped with the app, sorted by name."""
    return sorted(BANKS_DIR.glob("*.yaml"))
