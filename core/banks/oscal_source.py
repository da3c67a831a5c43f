"""An uploaded OSCAL catalog or profile as a bank, known by what the catalog says about itself.

Identity: the bank's key comes from the metadata title with the release number taken out (so
"Revision 5.1.1 LOW IMPACT BASELINE" and "Revision 5.2.0 LOW IMPACT BASELINE" are one bank), or
from the shipped framework the title names; never from the file name. The release and uuid are
recorded in the description. NIST gives every release a new uuid, so the uuid cannot tell two
releases of one catalog apart; the title can. core/banks/store.py then decides whether the
content is stored already, a new version, or new.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from core.banks.model import MAX_TITLE, Bank
from core.banks.oscal import Rules, live_controls, normalise_key, oscal_bank
from core.banks.oscal_catalog import Catalog, normalise_catalog
from core.banks.oscal_document import Document
from core.banks.oscal_fields import catalog_licence
from core.banks.oscal_profile import resolve_profile
from core.errors import ValidationError

_UNLISTED_PROPS = {"label", "sort-id", "status", "alt-identifier", "response-point"}
MAX_LISTED_VALUES = 12  # a property with more distinct values is text, not a baseline selector


class Shipped(Protocol):
    """What a shipped framework gives an upload of its catalog (core.banks.frameworks)."""

    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def licence(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def catalog_title(self) -> str | None: ...
    def rules(self) -> Rules: ...


@dataclass(frozen=True)
class Options:
    """The import-bank choices: overrides of the identity and filters of the controls."""

    key: str | None = None
    title: str | None = None
    version: int | None = None
    control_classes: tuple[str, ...] = ()
    where: tuple[str, ...] = ()  # "NAME=VALUE"


@dataclass(frozen=True)
class OscalImport:
    """The bank, whether its version is fixed (by --version), and what the dry run lists."""

    bank: Bank
    version_fixed: bool
    notes: tuple[str, ...]


def identity_title(title: str, version: str) -> str:
    """The title without the release number it may contain."""
    for release in sorted({version, version.split("+")[0]} - {""}, key=len, reverse=True):
        title = re.sub(rf"(?<![\w.]){re.escape(release)}(?![\w.])", " ", title)
    return " ".join(title.split())


def oscal_import(
    document: Document,
    catalog_document: Document | None,
    options: Options,
    shipped: Sequence[Shipped],
) -> OscalImport:
    """The bank an OSCAL catalog, or a profile resolved against its catalog, gives."""
    name = document.name
    where = _where(options.where, name)
    if document.root == "profile":
        if catalog_document is None:
            raise ValidationError(
                f"{name}: an OSCAL profile; give the catalog it imports with --catalog"
            )
        body = resolve_profile(document, catalog_document)
    elif catalog_document is not None:
        raise ValidationError(f"{name}: a catalog, not a profile; --catalog applies to profiles")
    else:
        body = document.body
    catalog = normalise_catalog(body, source_name=name)
    framework = next((f for f in shipped if _recognises(f, catalog)), None)
    rules = framework.rules() if framework else Rules()
    rules = Rules(
        rules.question_type,
        rules.scale,
        rules.require_part,
        rules.containers,
        frozenset(options.control_classes),
        where,
    )
    base_key, bank_title, description, source, licence = _identity(
        catalog_document, catalog, framework
    )
    if where:
        chosen = ", ".join(f"{n}={v}" for n, v in where)
        base_key = normalise_key(f"{base_key}-{'-'.join(f'{n}-{v}' for n, v in where)}")
        bank_title = _cut(f"{bank_title} ({chosen})", MAX_TITLE)
        description += f" Only the controls with {chosen}."
    bank = oscal_bank(
        catalog,
        key=options.key or base_key,
        version=options.version or (framework.version if framework else 1),
        title=options.title or bank_title,
        description=description,
        source=source,
        licence=licence,
        source_name=name,
        rules=rules,
    )
    notes = summary(catalog)
    if framework:
        notes.insert(0, f"recognised as the shipped framework {framework.key!r}")
    return OscalImport(bank, options.version is not None, tuple(notes))


def summary(catalog: Catalog) -> list[str]:
    """Control classes with counts, and the properties a --where could select on."""
    controls = list(live_controls(catalog))
    classes = Counter(c.cls or "(none)" for c in controls)
    lines = ["control classes: " + ", ".join(f"{k} ({n})" for k, n in sorted(classes.items()))]
    values: dict[str, Counter[str]] = {}
    for control in controls:
        for prop, value in control.props:
            if prop not in _UNLISTED_PROPS and value:
                values.setdefault(prop, Counter())[value] += 1
    listed = [
        f"{prop} = " + ", ".join(f"{v} ({n})" for v, n in sorted(counts.items()))
        for prop, counts in sorted(values.items())
        if len(counts) <= MAX_LISTED_VALUES
    ]
    if listed:
        lines.append("properties for --where: " + "; ".join(listed))
    return lines


def _recognises(framework: Shipped, catalog: Catalog) -> bool:
    if not framework.catalog_title:
        return False
    return identity_title(framework.catalog_title, catalog.version) == identity_title(
        catalog.title, catalog.version
    )


def _identity(
    catalog_document: Document | None, catalog: Catalog, framework: Shipped | None
) -> tuple[str, str, str, str, str | None]:
    """(key, title, description, source, licence) from the metadata or the shipped framework."""
    release = f"version {catalog.version}" if catalog.version else "no version"
    if catalog_document is not None:
        source_meta = catalog_document.body.get("metadata")
        meta = source_meta if isinstance(source_meta, dict) else {}
        source_title = " ".join(str(meta.get("title") or catalog_document.name).split())
        source_release = str(meta.get("version") or "no version")
        described = (
            f"{catalog.title} ({release}): the OSCAL profile resolved against the catalog "
            f"{source_title} (version {source_release})."
        )
        source = f"OSCAL profile {release}, resolved against catalog version {source_release}"
        licence = catalog.licence or catalog_licence(catalog_document.body)
    else:
        described = f"{catalog.title} ({release}), imported from its OSCAL catalog."
        source, licence = f"OSCAL catalog {release}", catalog.licence
    if catalog.uuid:
        described += f" Document uuid {catalog.uuid}."
    if framework is not None:
        return (
            framework.key,
            framework.title,
            framework.description,
            framework.source,
            framework.licence,
        )
    key = normalise_key(identity_title(catalog.title, catalog.version))
    return key, _cut(catalog.title, MAX_TITLE), described, _cut(source, MAX_TITLE), licence


def _where(raw: Sequence[str], name: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in raw:
        prop, sep, value = item.partition("=")
        if not sep or not prop.strip() or not value.strip():
            raise ValidationError(f"{name}: --where expects NAME=VALUE, got {item!r}")
        pairs.append((prop.strip(), value.strip()))
    return tuple(sorted(set(pairs)))


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "\u2026"
