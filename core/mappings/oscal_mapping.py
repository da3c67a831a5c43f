"""The OSCAL 1.2 mapping-collection model (JSON, YAML and XML editions) read into neutral pairs.

Each edition becomes the JSON edition's data first. A map with N sources and M targets gives N x M
pairs, with the map's relationship, its confidence-score percentage (else its mapping's, else the
provenance's, as OSCAL scopes it) and its remarks and qualifiers as the rationale. A relationship
outside OSCAL's vocabulary is an error; odd provenance words and gap summaries become notes.
"""

from __future__ import annotations

import json
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeET

from core.banks.oscal_xml import OSCAL_NS, _blocks, _tag
from core.banks.oscal_yaml import load_oscal_yaml
from core.errors import ValidationError
from core.mappings.read import (
    DEFAULT_RELATIONSHIP,
    NOT_A_MAPPING,
    Group,
    MappingFile,
    Pair,
    check_room,
    clean_id,
    confidence_of,
    finish,
    no_relationship_note,
    number_of,
    relationship_of,
)

ROOT = "mapping-collection"
_OTHER_ROOTS: tuple[str, ...] = ("catalog", "profile", "component-definition")
_OTHER_ROOTS += ("system-security-plan", "assessment-plan", "assessment-results")
_OTHER_ROOTS += ("plan-of-action-and-milestones",)
_VOCABULARY = {
    "method": ("human", "automation", "hybrid"),
    "matching-rationale": ("syntactic", "semantic", "functional"),
    "status": ("complete", "not-complete", "draft", "deprecated", "superseded"),
}
_PROVENANCE_KEYS = {*_VOCABULARY, "confidence-score", "coverage", "mapping-description"}
_PROVENANCE_KEYS |= {"responsible-parties", "props", "links", "remarks"}
_ITEM_TYPES = ("control", "statement")
_RELATIONSHIP_NS = "http://csrc.nist.gov/ns/oscal"
# repeated XML elements and the JSON arrays that hold them
_XML_LISTS = {t: f"{t}s" for t in ("mapping", "map", "source", "target", "qualifier", "prop")}
_XML_LISTS |= {t: f"{t}s" for t in ("link", "document-id", "role", "resource")}
_XML_LISTS |= {
    "party": "parties",
    "responsible-party": "responsible-parties",
    "matching": "matching",
}
_XML_LISTS["unmapped-controls"] = "unmapped-controls"
_XML_TEXT_LISTS = {"with-id": "with-ids", "party-uuid": "party-uuids"}
_XML_MARKUP = {"remarks", "mapping-description", "description"}


def read_json(name: str, text: str, sha: str) -> MappingFile:
    """An OSCAL mapping-collection in JSON."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = " (is the file cut short?)" if exc.pos >= len(text.rstrip()) else ""
        raise ValidationError(
            f"{name}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{cut}."
        ) from None
    except RecursionError:
        raise ValidationError(f"{name}: the JSON is nested too deeply.") from None
    return read_document(name, "oscal-json", document, sha)


def read_yaml(name: str, text: str, sha: str) -> MappingFile:
    """An OSCAL mapping-collection in YAML (anchors, tags and several documents refused)."""
    return read_document(name, "oscal-yaml", load_oscal_yaml(text, source_name=name), sha)


def read_xml(name: str, data: bytes, sha: str) -> MappingFile:
    """An OSCAL mapping-collection in XML; DTDs and entities are refused."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException:
        raise ValidationError(f"{name}: XML with a DOCTYPE or entities is refused.") from None
    except SafeET.ParseError as exc:
        where = f"line {exc.position[0]}, column {exc.position[1] + 1}"
        raise ValidationError(f"{name}: not well-formed XML at {where}.") from None
    tag = _tag(root)
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    oscal = namespace in ("", OSCAL_NS)
    if not oscal or tag != ROOT:
        found = f"<{tag}>" + ("" if oscal else f" in namespace {namespace}")
        if oscal and tag in _OTHER_ROOTS:
            raise ValidationError(f"{name}: this is an OSCAL {tag}, not a {ROOT}.")
        raise ValidationError(f"{name}: not an OSCAL {ROOT} (the root element is {found}).")
    try:
        document = {ROOT: _xml_node(root)}
    except RecursionError:
        raise ValidationError(f"{name}: the XML is nested too deeply.") from None
    return read_document(name, "oscal-xml", document, sha)


def _xml_node(el: Any) -> dict[str, Any]:
    """An XML element in the JSON edition's shape: flags as keys, repeated elements as lists."""
    node: dict[str, Any] = dict(el.attrib)
    for child in el:
        tag = _tag(child)
        if not tag:
            continue
        if tag in _XML_LISTS:
            node.setdefault(_XML_LISTS[tag], []).append(_xml_node(child))
        elif tag in _XML_TEXT_LISTS:
            node.setdefault(_XML_TEXT_LISTS[tag], []).append("".join(child.itertext()).strip())
        elif tag in _XML_MARKUP:
            node[tag] = _blocks(child)
        elif len(child) or child.attrib:
            node[tag] = _xml_node(child)
        else:
            node[tag] = "".join(child.itertext()).strip()
    return node


def read_document(name: str, fmt: str, document: Any, sha: str) -> MappingFile:
    """A mapping-collection given as the JSON edition's data."""
    if not isinstance(document, dict) or ROOT not in document:
        known = [k for k in document if k in _OTHER_ROOTS] if isinstance(document, dict) else []
        if known:
            raise ValidationError(f"{name}: this is an OSCAL {known[0]}, not a {ROOT}.")
        raise ValidationError(f"{name}: not a mapping file: {NOT_A_MAPPING}.")
    collection = _object(name, document[ROOT], ROOT)
    metadata = _object(name, collection.get("metadata", {}), "metadata")
    provenance = _object(name, collection.get("provenance", {}), "provenance")
    notes = _provenance_notes(provenance)
    mappings = _many(collection.get("mappings"))
    if not mappings:
        raise ValidationError(f"{name}: the mapping-collection has no mappings.")
    base = _confidence(name, "provenance", provenance, notes)
    groups: list[Group] = []
    pairs: list[Pair] = []
    missing: list[str] = []
    maps = 0
    for i, raw in enumerate(mappings, 1):
        mapping = _object(name, raw, f"mapping {i}")
        groups.append(Group(_resource(mapping, "source"), _resource(mapping, "target")))
        found, said, absent = _read_mapping(name, i, mapping, base, len(pairs))
        pairs, notes, missing = pairs + found, notes + said, missing + absent
        maps += len(_many(mapping.get("maps")))
    if missing:
        notes.append(no_relationship_note(missing, maps, "map"))
    return finish(
        name,
        fmt,
        sha,
        title=_text(metadata.get("title")),
        version=_text(metadata.get("version")),
        description=_text(provenance.get("mapping-description")) or _text(metadata.get("remarks")),
        groups=groups,
        pairs=pairs,
        notes=notes,
        empty="no map has both sources and targets",
    )


def _read_mapping(
    name: str, number: int, mapping: dict[str, Any], base: float | None, so_far: int
) -> tuple[list[Pair], list[str], list[str]]:
    """One mapping's pairs (group number - 1), notes and maps without a relationship."""
    where = f"mapping {number}"
    pairs: list[Pair] = []
    missing: list[str] = []
    notes = _vocabulary_notes(f"{where}: ", mapping, ("method", "matching-rationale"))
    notes += _gap_notes(where, mapping)
    scoped = _confidence(name, where, mapping, notes)
    inherited = base if scoped is None else scoped
    maps = _many(mapping.get("maps"))
    if not maps:
        raise ValidationError(f"{name}: {where} has no maps.")
    for j, raw in enumerate(maps, 1):
        spot = f"{where}, map {j}"
        entry = _object(name, raw, spot)
        namespace = _text(entry.get("ns")).rstrip("/")
        if namespace and namespace != _RELATIONSHIP_NS:
            raise ValidationError(
                f"{name}: {spot}: the relationship is in the namespace {namespace}, which this "
                "reader does not know; only OSCAL's own relationships are read."
            )
        given = relationship_of(name, entry.get("relationship"), spot, nist_words=False)
        if given is None:
            missing.append(spot)
        relationship = given or DEFAULT_RELATIONSHIP
        own = _confidence(name, spot, entry, notes)
        confidence = inherited if own is None else own
        notes += _vocabulary_notes(f"{spot}: ", entry, ("matching-rationale",))
        sources = _items(name, spot, entry, "source", notes)
        targets = _items(name, spot, entry, "target", notes)
        check_room(name, so_far + len(pairs) + len(sources) * len(targets), spot)
        rationale = _rationale(entry)
        group = number - 1
        pairs += [
            Pair(s, t, relationship, confidence, rationale, spot, group)
            for s in sources
            for t in targets
        ]
    return pairs, notes, missing


def _items(name: str, spot: str, entry: dict[str, Any], side: str, notes: list[str]) -> list[str]:
    items = _many(entry.get(f"{side}s"))
    if not items:
        raise ValidationError(f"{name}: {spot} has no {side}s.")
    ids = []
    for k, raw in enumerate(items, 1):
        item = _object(name, raw, f"{spot}, {side} {k}")
        ids.append(clean_id(name, item.get("id-ref"), f"{spot}, {side} {k}", side))
        kind = _text(item.get("type"))
        if kind not in _ITEM_TYPES:
            vocabulary = ", ".join(_ITEM_TYPES)
            notes.append(f"Some {side}s have the type {kind!r}, not one of {vocabulary}.")
    return ids


def _confidence(name: str, where: str, owner: dict[str, Any], notes: list[str]) -> float | None:
    score = owner.get("confidence-score")
    if score is None:
        return None
    if not isinstance(score, dict):  # drafts of OSCAL 1.2 had a bare string-or-decimal here
        score = {"percentage": score} if number_of(score) is not None else {"category": score}
    if "percentage" in score:
        return confidence_of(name, score["percentage"], where, "confidence-score percentage")
    category = _text(score.get("category"))
    if category:
        notes.append(f"A confidence given as the category {category!r}, not a number, is left out.")
    return None


def _rationale(entry: dict[str, Any]) -> str:
    lines = [_text(entry.get("remarks"))]
    for raw in _many(entry.get("qualifiers")):
        if isinstance(raw, dict):
            head = " ".join(_text(raw.get(k)) for k in ("subject", "predicate", "category"))
            lines.append(f"Qualifier ({head.strip()}): {_text(raw.get('description'))}")
    return "\n\n".join(line for line in lines if line)


def _provenance_notes(provenance: dict[str, Any]) -> list[str]:
    if not provenance:
        return ["The file has no provenance (method, matching-rationale, status)."]
    notes = _vocabulary_notes("provenance.", provenance, tuple(_VOCABULARY))
    status = _text(provenance.get("status"))
    if status in ("not-complete", "draft", "deprecated", "superseded"):
        notes.append(f"The provenance calls this mapping {status}.")
    extra = [k for k in provenance if k not in _PROVENANCE_KEYS]
    if extra:
        notes.append(f"The provenance carries keys OSCAL does not define: {', '.join(extra)}.")
    return notes


def _vocabulary_notes(scope: str, owner: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    return [
        f"{scope}{key} {value!r} is outside OSCAL's vocabulary ({', '.join(_VOCABULARY[key])})."
        for key in keys
        if (value := _text(owner.get(key))) and value not in _VOCABULARY[key]
    ]


def _gap_notes(where: str, mapping: dict[str, Any]) -> list[str]:
    notes = []
    for side in ("source", "target"):
        gap = mapping.get(f"{side}-gap-summary")
        if not isinstance(gap, dict):
            continue
        selections = [s for s in _many(gap.get("unmapped-controls")) if isinstance(s, dict)]
        count = sum(len(_many(s.get("with-ids"))) for s in selections)
        patterns = sum(len(_many(s.get("matching"))) for s in selections)
        more = f" and {patterns} id patterns" if patterns else ""
        notes.append(f"{where}: the {side}-gap-summary lists {count} {side} ids{more} as unmapped.")
    return notes


def _resource(mapping: dict[str, Any], side: str) -> str:
    resource = mapping.get(f"{side}-resource")
    found = resource if isinstance(resource, dict) else {}
    return _text(found.get("href")) or _text(found.get("title"))


def _object(name: str, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        kind = "a list" if isinstance(value, list) else "a single value"
        raise ValidationError(f"{name}: {where} is {kind} where OSCAL has an object.")
    return value


def _many(value: Any) -> list[Any]:
    """A JSON array, or the single object OSCAL's JSON schema also allows in its place."""
    return [] if value is None else value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else "" if value is None else str(value)
