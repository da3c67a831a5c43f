"""A crosswalk file read into neutral pairs: OSCAL mapping-collection, NIST OLIR workbook or CSV.

The format is told by content, not by file name: a ZIP (``PK``) is an Excel workbook, text starting
with "<" is OSCAL XML, "{" OSCAL JSON, a first line of comma-separated column names a CSV, and
anything else is read as OSCAL YAML. Every problem is a ValidationError naming the file and the
place; a file either reads whole or not at all. The readers themselves live in
``core.mappings.oscal_mapping`` and ``core.mappings.olir``; the helpers they share are here.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from core.errors import ValidationError
from core.models import RELATIONSHIPS

DEFAULT_RELATIONSHIP = "intersects-with"
MAX_MAPPING_BYTES = 20 * 1024 * 1024
MAX_PAIRS = 200_000
MAX_ID_LENGTH = 200

# NIST's words for the OLIR / IR 8477 relationships, as workbooks and hand-made CSVs write them
_ALIASES = {
    "equal": "equal-to",
    "equals": "equal-to",
    "equivalent": "equivalent-to",
    "subset": "subset-of",
    "superset": "superset-of",
    "intersects": "intersects-with",
    "intersect": "intersects-with",
    "intersect-with": "intersects-with",
    "not-related": "no-relationship",
    "not-related-to": "no-relationship",
    "no-relation": "no-relationship",
    "unrelated": "no-relationship",
}
_CSV_NAMES = ("source_id", "target_id")
NOT_A_MAPPING = (
    "it is none of an OSCAL mapping-collection (JSON, XML or YAML), an OLIR crosswalk workbook "
    "(.xlsx) or a CSV with the columns source_id, target_id, relationship"
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and password-protected workbooks


@dataclass(frozen=True)
class Pair:
    """One source id related to one target id, with where the file says so."""

    source_id: str  # as written in the file, whitespace/newlines stripped
    target_id: str
    relationship: str  # one of RELATIONSHIPS (DEFAULT_RELATIONSHIP when the file gives none)
    confidence: float | None  # 0..1, None when the file gives none
    rationale: str  # remarks / comments / rationale text, "" when none
    where: str  # for messages: "row 14" (workbook/CSV), "mapping 1, map 3" (OSCAL)
    group: int  # index into MappingFile.groups (0 for single-group formats)


@dataclass(frozen=True)
class Group:
    """The two documents a group of pairs maps between, as the file names them."""

    source: str  # OSCAL source-resource href (or title), workbook: "Focal Document" text, ""
    target: str


@dataclass(frozen=True)
class MappingFile:
    """Everything a mapping file says: its pairs, groups and plain-sentence notes."""

    name: str
    format: str  # "oscal-json" | "oscal-xml" | "oscal-yaml" | "olir-workbook" | "csv"
    title: str
    version: str
    description: str
    groups: tuple[Group, ...]
    pairs: tuple[Pair, ...]
    notes: tuple[str, ...]
    content_sha256: str


def read_mapping(name: str, data: bytes) -> MappingFile:
    """The pairs in a mapping file; ValidationError (one sentence, file and place) otherwise."""
    from core.mappings import olir, oscal_mapping  # they import this module's helpers

    if not data:
        raise ValidationError(f"{name}: the file is empty.")
    if len(data) > MAX_MAPPING_BYTES:
        limit = MAX_MAPPING_BYTES // 1024 // 1024
        raise ValidationError(f"{name}: the file is larger than {limit} MB, the most allowed.")
    sha = hashlib.sha256(data).hexdigest()
    if data.startswith(b"PK"):
        return olir.read_workbook(name, data, sha)
    if data.startswith(_OLE_MAGIC):
        raise ValidationError(
            f"{name}: this is an old-style .xls or a password-protected workbook; save it as an "
            "unprotected .xlsx workbook."
        )
    text = decode_text(name, data)
    head = text.lstrip()
    if not head:
        raise ValidationError(f"{name}: the file holds only blank space.")
    if head.startswith("<"):
        return oscal_mapping.read_xml(name, head.encode(), sha)  # no BOM or blank lines first
    if head.startswith(("{", "[")):
        return oscal_mapping.read_json(name, text, sha)
    if _looks_like_csv(head.split("\n", 1)[0]):
        return olir.read_csv(name, text, sha)
    return oscal_mapping.read_yaml(name, text, sha)


def decode_text(name: str, data: bytes) -> str:
    """UTF-8 text (a byte-order mark allowed); other encodings are refused by name."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValidationError(f"{name}: the file is UTF-16 or UTF-32 text; save it as UTF-8.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{name}: the file is not UTF-8 text (byte {exc.start + 1} is not valid UTF-8); "
            "save it as UTF-8."
        ) from None
    if "\x00" in text:
        raise ValidationError(
            f"{name}: the file holds NUL characters, so it is binary or UTF-16 text without a "
            "byte-order mark; save it as UTF-8."
        )
    return text


def _looks_like_csv(first_line: str) -> bool:
    line = first_line.lower()
    return "," in line and (any(n in line for n in _CSV_NAMES) or ":" not in line)


def clean_id(name: str, raw: object, where: str, side: str) -> str:
    """An id as written, stripped of surrounding whitespace; blank or control characters refused."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # a workbook's number cell: 5 rather than 5.0
    text = "" if raw is None else str(raw).strip()
    if not text:
        raise ValidationError(f"{name}: {where}: the {side} id is blank.")
    bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        what = {"\n": "a line break", "\r": "a line break", "\t": "a tab"}.get(
            bad, f"the control character U+{ord(bad):04X}"
        )
        raise ValidationError(f"{name}: {where}: the {side} id {text!r} contains {what}.")
    if len(text) > MAX_ID_LENGTH:
        raise ValidationError(
            f"{name}: {where}: the {side} id is {len(text)} characters long; an id may have at "
            f"most {MAX_ID_LENGTH}."
        )
    return text


def normalise_relationship(raw: str) -> str:
    """Lower-cased, runs of spaces and underscores as one hyphen: "Subset Of" -> "subset-of"."""
    return re.sub(r"[\s_-]+", "-", raw.strip().lower())


def relationship_of(name: str, raw: object, where: str, *, nist_words: bool) -> str | None:
    """One of RELATIONSHIPS, None when blank; nist_words also accepts "equal", "not related to"."""
    text = "" if raw is None else str(raw)
    word = normalise_relationship(text)
    if not word:
        return None
    if nist_words:
        word = _ALIASES.get(word, word)
    if word not in RELATIONSHIPS:
        raise ValidationError(
            f"{name}: {where}: relationship {text.strip()!r} is not one of "
            f"{', '.join(RELATIONSHIPS)}."
        )
    return word


def number_of(raw: object) -> float | None:
    """A finite number from a number or numeric text; None for anything else."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        try:
            value = float(str(raw).strip())
        except ValueError:
            return None
    return value if math.isfinite(value) else None


def confidence_of(name: str, raw: object, where: str, what: str = "confidence") -> float | None:
    """A confidence from 0 to 1, None when blank; anything else is refused by place."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value = number_of(raw)
    if value is None or not 0 <= value <= 1:
        raise ValidationError(f"{name}: {where}: {what} {raw!r} is not a number from 0 to 1.")
    return value


def check_room(name: str, count: int, where: str) -> None:
    """Refuse a file before it grows past MAX_PAIRS pairs."""
    if count > MAX_PAIRS:
        raise ValidationError(
            f"{name}: {where}: the file holds more than {MAX_PAIRS:,} pairs, the most one mapping "
            "file may hold."
        )


def no_relationship_note(missing: list[str], total: int, unit: str, owner: str = "file") -> str:
    """The note for pairs read as DEFAULT_RELATIONSHIP because the file gives no type."""
    if len(missing) == total:
        return (
            f"The {owner} gives no relationship type: every pair is read as {DEFAULT_RELATIONSHIP}."
        )
    gives = "gives" if len(missing) == 1 else "give"
    return (
        f"{len(missing)} of {total} {unit}s {gives} no relationship type (the first is "
        f"{missing[0]}): their pairs are read as {DEFAULT_RELATIONSHIP}."
    )


def counted(number: int, one: str, many: str) -> str:
    """'1 pair repeats', '3 pairs repeat': the number and the words that agree with it."""
    return f"{number} {one if number == 1 else many}"


def stem(name: str) -> str:
    """The file name without folders and extension, a title of last resort."""
    return PurePath(name.replace("\\", "/")).stem or name


def finish(
    name: str,
    fmt: str,
    sha: str,
    *,
    pairs: list[Pair],
    notes: Iterable[str],
    empty: str,
    title: str = "",
    version: str = "",
    description: str = "",
    groups: Iterable[Group] = (Group("", ""),),
) -> MappingFile:
    """The MappingFile, once it holds at least one pair; repeated pairs become a note."""
    if not pairs:
        raise ValidationError(f"{name}: the file holds no mapping pairs ({empty}).")
    seen: set[tuple[str, str, int]] = set()
    repeats: list[str] = []
    for pair in pairs:
        key = (pair.source_id, pair.target_id, pair.group)
        if key in seen:
            repeats.append(pair.where)
        seen.add(key)
    found = list(notes)
    if repeats:
        repeat = counted(len(repeats), "pair repeats", "pairs repeat")
        found.append(f"{repeat} an earlier pair's source and target (the first: {repeats[0]}).")
    return MappingFile(
        name=name,
        format=fmt,
        title=title.strip() or stem(name),
        version=version.strip(),
        description=description.strip(),
        groups=tuple(groups),
        pairs=tuple(pairs),
        notes=tuple(dict.fromkeys(found)),
        content_sha256=sha,
    )
