"""Question banks in the database: import (idempotent, versioned) and load back as a Bank."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_role
from core.banks.model import Bank
from core.banks.model import Question as BankQuestion
from core.banks.model import Section as BankSection
from core.banks.schema import parse_bank
from core.banks.yaml_io import bank_data, question_data
from core.errors import NotFound, ValidationError
from core.models import Question, Questionnaire, Section

COLUMNS = (
    "key",
    "text",
    "help",
    "type",
    "weight",
    "required",
    "critical",
    "evidence_required",
    "allow_na",
)
_banks: dict[str, Bank] = {}  # by content fingerprint: a stored version never changes


def _spec(q: BankQuestion) -> dict[str, Any]:
    """What a question needs beyond its columns (options, bounds, condition), in file format."""
    return {k: v for k, v in question_data(q).items() if k not in COLUMNS}


def bank_fingerprint(bank: Bank) -> str:
    """SHA-256 of the bank's content, to tell an identical re-import from an edited one."""
    return _fingerprint(bank_data(bank))


def _fingerprint(data: dict[str, Any]) -> str:
    payload = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class ImportPlan:
    """What importing a bank will do, said before anything is written.

    action: "new bank", "new version", "unchanged" or "refused"; bank: as it will be stored,
    with its version chosen; detail: one line saying so."""

    action: str
    bank: Bank
    detail: str
    fingerprint: str


def plan_import(session: Session, bank: Bank, *, version_fixed: bool = True) -> ImportPlan:
    """What import_bank will do with this bank. version_fixed: the bank's version is its own (a
    YAML bank, or --version); otherwise identical content already stored under any version of
    the key is "unchanged", and new content takes the next version."""
    stored = dict(
        session.execute(
            select(Questionnaire.version, Questionnaire.content_sha256).where(
                Questionnaire.key == bank.key
            )
        ).all()
    )
    data = bank_data(bank)
    versions = [bank.version] if version_fixed else sorted(stored, reverse=True)
    for version in versions:
        fingerprint = _fingerprint({**data, "version": version})
        if stored.get(version) == fingerprint:
            return ImportPlan(
                "unchanged",
                replace(bank, version=version),
                f"already present, unchanged (bank {bank.key!r} version {version})",
                fingerprint,
            )
    if version_fixed and bank.version in stored:
        return ImportPlan(
            "refused",
            bank,
            f"Bank {bank.key!r} version {bank.version} already exists with different content; "
            "import the edited bank as a new version.",
            "",
        )
    version = bank.version if version_fixed or not stored else max(stored) + 1
    bank = replace(bank, version=version)
    fingerprint = _fingerprint({**data, "version": version})
    if not stored:
        return ImportPlan(
            "new bank", bank, f"new bank {bank.key!r}, version {version}", fingerprint
        )
    held = ", ".join(f"v{v}" for v in sorted(stored))
    detail = f"new version {version} of bank {bank.key!r} (stored: {held})"
    return ImportPlan("new version", bank, detail, fingerprint)


def import_bank(
    session: Session, actor: Actor, bank: Bank, *, version_fixed: bool = True
) -> tuple[Questionnaire, bool]:
    """Store a bank as (key, version); returns (questionnaire, created). Identical re-imports
    change nothing; see plan_import for version_fixed."""
    return store_plan(session, actor, plan_import(session, bank, version_fixed=version_fixed))


def store_plan(session: Session, actor: Actor, plan: ImportPlan) -> tuple[Questionnaire, bool]:
    """Carry out a plan made in this transaction; a refused plan raises ValidationError."""
    require_role(actor, "admin")
    bank = plan.bank
    if plan.action == "refused":
        raise ValidationError(plan.detail)
    if plan.action == "unchanged":
        existing = session.scalar(
            select(Questionnaire).where(
                Questionnaire.key == bank.key, Questionnaire.version == bank.version
            )
        )
        assert existing is not None  # the plan found it in this transaction
        return existing, False
    fingerprint = plan.fingerprint
    questionnaire = Questionnaire(
        key=bank.key,
        version=bank.version,
        title=bank.title,
        description=bank.description or "",
        source=bank.source or "",
        licence=bank.licence or "",
        content_sha256=fingerprint,
    )
    session.add(questionnaire)
    session.flush()
    for section in bank.sections:
        _add_section(session, questionnaire.id, section)
    audit.record(
        session,
        actor,
        "bank_imported",
        object_type="questionnaire",
        object_id=questionnaire.id,
        detail={"key": bank.key, "version": bank.version, "questions": len(bank.questions)},
    )
    return questionnaire, True


def _add_section(session: Session, questionnaire_id: int, section: BankSection) -> None:
    row = Section(
        questionnaire_id=questionnaire_id,
        key=section.key,
        title=section.title,
        description=section.description or "",
        weight=section.weight,
        position=section.position,
    )
    session.add(row)
    session.flush()
    # One bulk executemany: one ORM object per question cost about 3 s per 10,000 questions.
    session.execute(
        insert(Question),
        [
            {
                "questionnaire_id": questionnaire_id,
                "section_id": row.id,
                "key": q.key,
                "position": q.position,
                "text": q.text,
                "help": q.help or "",
                "type": q.type,
                "weight": q.weight,
                "required": q.required,
                "critical": q.critical,
                "evidence_required": q.evidence_required,
                "allow_na": q.allow_na,
                "spec": _spec(q),
            }
            for q in section.questions
        ],
    )


def load_bank(session: Session, questionnaire_id: int, *, fingerprint: str | None = None) -> Bank:
    """The questionnaire as a validated Bank (cached: a stored version never changes); a caller
    that read the questionnaire's content_sha256 already passes it as ``fingerprint``."""
    fingerprint = fingerprint or session.scalar(
        select(Questionnaire.content_sha256).where(Questionnaire.id == questionnaire_id)
    )
    if fingerprint is None:
        raise NotFound("That questionnaire does not exist.")
    if fingerprint not in _banks:
        _banks[fingerprint] = parse_bank(
            _stored_dict(session, questionnaire_id), source_name=f"stored bank {fingerprint[:8]}"
        )
    return _banks[fingerprint]


def _stored_dict(session: Session, questionnaire_id: int) -> dict[str, Any]:
    qn = session.get(Questionnaire, questionnaire_id)
    if qn is None:
        raise NotFound("That questionnaire does not exist.")
    sections = session.scalars(
        select(Section).where(Section.questionnaire_id == qn.id).order_by(Section.position)
    ).all()
    questions = session.scalars(
        select(Question)
        .where(Question.questionnaire_id == qn.id)
        .order_by(Question.section_id, Question.position)
    ).all()
    by_section: dict[int, list[dict[str, Any]]] = {}
    for q in questions:
        columns = {name: getattr(q, name) for name in COLUMNS}
        by_section.setdefault(q.section_id, []).append(_no_blanks({**columns, **q.spec}))
    return _no_blanks(
        {
            "key": qn.key,
            "version": qn.version,
            "title": qn.title,
            "description": qn.description,
            "source": qn.source,
            "licence": qn.licence,
            "sections": [
                _no_blanks(
                    {
                        "key": s.key,
                        "title": s.title,
                        "description": s.description,
                        "weight": s.weight,
                        "questions": by_section.get(s.id, []),
                    }
                )
                for s in sections
            ],
        }
    )


def _no_blanks(data: dict[str, Any]) -> dict[str, Any]:
    # Optional text fields are stored as "" but a bank omits them instead.
    return {k: v for k, v in data.items() if v != ""}


def list_questionnaires(session: Session) -> list[dict[str, Any]]:
    """Every stored questionnaire version with its question count, newest version first."""
    counts = (
        select(Question.questionnaire_id, func.count().label("n"))
        .group_by(Question.questionnaire_id)
        .subquery()
    )
    rows = session.execute(
        select(Questionnaire, counts.c.n)
        .join(counts, counts.c.questionnaire_id == Questionnaire.id)
        .where(Questionnaire.is_active)
        .order_by(Questionnaire.title, Questionnaire.version.desc())
    ).all()
    return [
        {
            "id": q.id,
            "key": q.key,
            "version": q.version,
            "title": q.title,
            "source": q.source,
            "licence": q.licence,
            "questions": n,
        }
        for q, n in rows
    ]
