"""Mapping sets in the database: resolve a mapping file against two banks, import it (versioned
like a bank: the same content again changes nothing), list them with their coverage."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_role
from core.banks.model import KEY_PATTERN, KEY_RULE, MAX_TITLE, Bank
from core.banks.store import load_bank
from core.errors import NotFound, ValidationError
from core.mappings.credit import Link
from core.mappings.ids import Resolution, resolve
from core.mappings.read import MappingFile, Pair
from core.models import MappingLink, MappingSet, Questionnaire


@dataclass(frozen=True)
class StoredLink:
    """A link as it is stored: resolved question keys, relationship, confidence, rationale."""

    source_key: str
    target_key: str
    relationship: str
    confidence: float | None
    rationale: str


@dataclass(frozen=True)
class MappingPlan:
    """What importing a mapping file will do, said before anything is written.

    action: "new mapping", "new version" or "unchanged"; report: what did not resolve."""

    action: str
    key: str
    version: int
    title: str
    description: str
    source: str
    licence: str
    source_bank: Bank
    target_bank: Bank
    links: tuple[StoredLink, ...]
    report: dict[str, Any]
    fingerprint: str
    detail: str
    notes: tuple[str, ...] = field(default=())


def newest_banks(session: Session) -> dict[str, Bank]:
    """The newest active version of every bank, by key."""
    rows = session.execute(
        select(Questionnaire.key, func.max(Questionnaire.id))
        .where(Questionnaire.is_active)
        .group_by(Questionnaire.key)
    ).all()
    return {key: load_bank(session, qid) for key, qid in rows}


def _resolve(bank: Bank, ids: Sequence[str]) -> Resolution:
    return resolve(ids, (q.key for q in bank.questions), (s.key for s in bank.sections))


def _choose(
    banks: dict[str, Bank], mapping: MappingFile, source: str | None, target: str | None
) -> tuple[Bank, Bank]:
    for name, key in (("source", source), ("target", target)):
        if key is not None and key not in banks:
            raise NotFound(f"There is no {name} bank '{key}' (see the Question banks page).")
    sources = sorted({p.source_id for p in mapping.pairs})
    targets = sorted({p.target_id for p in mapping.pairs})
    fits = {
        (s, t): len(_resolve(banks[s], sources).questions)
        + len(_resolve(banks[t], targets).questions)
        for s in ([source] if source else banks)
        for t in ([target] if target else banks)
        if s != t
    }
    best = max(fits, key=lambda k: (fits[k], k), default=None)
    if best is None or fits[best] == 0:
        raise ValidationError(
            f"{mapping.name}: none of its ids match the questions of "
            + ("those banks" if source or target else "any stored bank")
            + "; choose the source and target banks (--source-bank and --target-bank on the "
            "command line)."
        )
    return banks[best[0]], banks[best[1]]


def plan_mapping(
    session: Session,
    mapping: MappingFile,
    *,
    source_bank: str | None = None,
    target_bank: str | None = None,
    key: str | None = None,
    licence: str = "",
) -> MappingPlan:
    """Resolve the file's ids against the two banks (found from the ids when not named) and say
    what the import will do."""
    source, target = _choose(newest_banks(session), mapping, source_bank, target_bank)
    key = key or f"{source.key}-to-{target.key}"[:64]
    if not KEY_PATTERN.match(key):
        raise ValidationError(f"The mapping key '{key}' is not valid: {KEY_RULE}.")
    from_ids = _resolve(source, [p.source_id for p in mapping.pairs])
    to_ids = _resolve(target, [p.target_id for p in mapping.pairs])
    links, duplicates = _links(mapping.pairs, from_ids, to_ids)
    title = (mapping.title or f"{source.title} to {target.title}")[:MAX_TITLE]
    report = {
        "pairs": len(mapping.pairs),
        "links": len(links),
        "duplicates": duplicates,
        "unresolved_sources": list(from_ids.unresolved),
        "unresolved_targets": list(to_ids.unresolved),
        "withdrawn_targets": dict(to_ids.withdrawn),
        "family_targets": dict(to_ids.families),
        "source_bank_version": source.version,
        "target_bank_version": target.version,
        "relationships": dict(Counter(link.relationship for link in links)),
        "notes": list(mapping.notes),
    }
    fingerprint = _fingerprint(title, source.key, target.key, links)
    stored = dict(
        session.execute(
            select(MappingSet.content_sha256, MappingSet.version).where(MappingSet.key == key)
        ).all()
    )
    if fingerprint in stored:
        action, version = "unchanged", stored[fingerprint]
        detail = f"already present, unchanged (mapping '{key}' version {version})"
    else:
        version = max(stored.values(), default=0) + 1
        action = "new version" if stored else "new mapping"
        detail = f"{action} '{key}', version {version}: {len(links)} links"
    description = mapping.description or f"{source.title} to {target.title}, from {mapping.name}."
    return MappingPlan(
        action,
        key,
        version,
        title,
        description,
        f"{mapping.name} ({mapping.format})"[:200],
        licence,
        source,
        target,
        tuple(links),
        report,
        fingerprint,
        detail,
        mapping.notes,
    )


def _links(
    pairs: Sequence[Pair], sources: Resolution, targets: Resolution
) -> tuple[list[StoredLink], int]:
    seen: dict[tuple[str, str], StoredLink] = {}
    duplicates = 0
    for pair in pairs:
        source = sources.questions.get(pair.source_id)
        target = targets.questions.get(pair.target_id)
        if source is None or target is None:
            continue
        if (source, target) in seen:
            duplicates += 1
            continue
        seen[source, target] = StoredLink(
            source, target, pair.relationship, pair.confidence, pair.rationale
        )
    return sorted(seen.values(), key=lambda x: (x.target_key, x.source_key)), duplicates


def _fingerprint(title: str, source: str, target: str, links: Sequence[StoredLink]) -> str:
    data = [title, source, target, [list(vars(link).values()) for link in links]]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def store_mapping(session: Session, actor: Actor, plan: MappingPlan) -> tuple[MappingSet, bool]:
    """Carry out a plan made in this transaction; (mapping set, created)."""
    require_role(actor, "admin")
    if plan.action == "unchanged":
        existing = session.scalar(
            select(MappingSet).where(MappingSet.key == plan.key, MappingSet.version == plan.version)
        )
        assert existing is not None  # the plan found it in this transaction
        return existing, False
    row = MappingSet(
        key=plan.key,
        version=plan.version,
        title=plan.title,
        description=plan.description,
        source=plan.source,
        licence=plan.licence,
        source_bank=plan.source_bank.key,
        target_bank=plan.target_bank.key,
        content_sha256=plan.fingerprint,
        report=plan.report,
    )
    session.add(row)
    session.flush()
    if plan.links:
        session.execute(
            insert(MappingLink), [{"mapping_set_id": row.id, **vars(link)} for link in plan.links]
        )
    audit.record(
        session,
        actor,
        "mapping_imported",
        object_type="mapping_set",
        object_id=row.id,
        detail={"key": plan.key, "version": plan.version, "links": len(plan.links)},
    )
    return row, True


def load_links(session: Session, mapping_set_id: int) -> list[Link]:
    """The links of one mapping set, as the credit rules read them."""
    rows = session.execute(
        select(MappingLink.source_key, MappingLink.target_key, MappingLink.relationship).where(
            MappingLink.mapping_set_id == mapping_set_id
        )
    ).all()
    return [Link(*row) for row in rows]


def newest_mappings(session: Session) -> list[MappingSet]:
    """The newest active version of every mapping set, by title."""
    newest = (
        select(func.max(MappingSet.id)).where(MappingSet.is_active).group_by(MappingSet.key)
    ).scalar_subquery()
    return list(
        session.scalars(
            select(MappingSet).where(MappingSet.id.in_(newest)).order_by(MappingSet.title)
        )
    )


def list_mappings(session: Session) -> list[dict[str, Any]]:
    """Each mapping set's newest version with its coverage: how many target questions it
    reaches by relationship, and of how many the target bank holds."""
    banks = newest_banks(session)
    rows = []
    for mapping in newest_mappings(session):
        reached = session.execute(
            select(MappingLink.relationship, func.count(func.distinct(MappingLink.target_key)))
            .where(MappingLink.mapping_set_id == mapping.id)
            .group_by(MappingLink.relationship)
        ).all()
        targets = session.scalar(
            select(func.count(func.distinct(MappingLink.target_key))).where(
                MappingLink.mapping_set_id == mapping.id
            )
        )
        target = banks.get(mapping.target_bank)
        rows.append(
            {
                "id": mapping.id,
                "key": mapping.key,
                "version": mapping.version,
                "title": mapping.title,
                "source_bank": mapping.source_bank,
                "target_bank": mapping.target_bank,
                "licence": mapping.licence,
                "source": mapping.source,
                "covered": targets or 0,
                "target_questions": len(target.questions) if target else 0,
                "by_relationship": dict(reached),
                "report": mapping.report,
            }
        )
    return rows
