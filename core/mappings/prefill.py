"""Pre-fill an assessment from another assessment of the same product through a mapping: carried
answers are stored with their provenance, proposed ones wait for the client's confirmation
(core/mappings/credit.py holds the rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_org_write
from core.banks.answers import is_visible
from core.banks.model import Answer, Bank
from core.errors import AccessDenied, NotFound, ValidationError
from core.mappings.credit import Credit, credit
from core.mappings.provenance import origin_of, source_context
from core.mappings.store import load_links
from core.models import AnswerProposal, Assessment, MappingSet, Questionnaire, utcnow
from core.responses import AnswerInput, is_blank, save_with_origins
from core.workspace import Workspace, get_assessment, load_workspace


@dataclass(frozen=True)
class SourceOption:
    """An assessment a pre-fill may draw on, and the mapping that links its bank."""

    assessment_id: int
    bank_title: str
    bank_key: str
    cycle: int
    status: str
    mapping_key: str
    mapping_title: str


@dataclass(frozen=True)
class Prefill:
    """What a pre-fill gives (or gave) the target: carried and proposed answers, target questions
    already answered (left alone), uncovered ones, and the ids the mapping could not resolve."""

    target_id: int
    source_id: int
    mapping_key: str
    mapping_version: int
    carried: tuple[Credit, ...]
    proposed: tuple[Credit, ...]
    kept: tuple[str, ...]
    uncovered: tuple[str, ...]
    unresolved: tuple[str, ...]

    def counts(self) -> dict[str, Any]:
        """The figures `prefill --json` prints."""
        return {
            "target": self.target_id,
            "source": self.source_id,
            "mapping": self.mapping_key,
            "mapping_version": self.mapping_version,
            "carried": len(self.carried),
            "proposed": len(self.proposed),
            "kept": len(self.kept),
            "uncovered": len(self.uncovered),
            "unresolved": list(self.unresolved),
        }


def _readable_bank(session: Session, actor: Actor, questionnaire_id: int) -> Questionnaire:
    bank = session.get(Questionnaire, questionnaire_id)
    if bank is None or (actor.is_client and not bank.is_active):
        raise AccessDenied("You do not have access to this question bank.")
    return bank


def mapping_for(
    session: Session, source_bank: str, target_bank: str, key: str | None = None
) -> MappingSet | None:
    """The newest active mapping set from one bank key to another (the named one if key)."""
    statement = select(MappingSet).where(
        MappingSet.is_active,
        MappingSet.source_bank == source_bank,
        MappingSet.target_bank == target_bank,
    )
    if key is not None:
        statement = statement.where(MappingSet.key == key)
    return session.scalars(statement.order_by(MappingSet.id.desc()).limit(1)).first()


def prefill_sources(session: Session, actor: Actor, target_id: int) -> list[SourceOption]:
    """The same product's answered assessments on banks a mapping links to the target's bank."""
    target = get_assessment(session, actor, target_id)
    bank = _readable_bank(session, actor, target.questionnaire_id)
    rows = session.execute(
        select(Assessment, Questionnaire, MappingSet)
        .join(Questionnaire, Questionnaire.id == Assessment.questionnaire_id)
        .join(MappingSet, MappingSet.source_bank == Questionnaire.key)
        .where(
            Assessment.product_id == target.product_id,
            Assessment.id != target.id,
            Assessment.is_active,
            Assessment.status != "not_started",
            MappingSet.target_bank == bank.key,
            MappingSet.is_active,
        )
        .order_by(Assessment.id.desc(), MappingSet.id.desc())
    ).all()
    seen: set[int] = set()
    options = []
    for source, questionnaire, mapping in rows:
        if source.id in seen or (actor.is_client and not questionnaire.is_active):
            continue
        seen.add(source.id)
        options.append(
            SourceOption(
                source.id,
                questionnaire.title,
                questionnaire.key,
                source.cycle,
                source.status,
                mapping.key,
                mapping.title,
            )
        )
    return options


def _workspaces(
    session: Session, actor: Actor, target_id: int, source_id: int
) -> tuple[Workspace, Workspace]:
    target = load_workspace(session, actor, target_id)
    require_org_write(actor, target.assessment.organization_id)
    source = load_workspace(session, actor, source_id)
    if source.assessment.product_id != target.assessment.product_id:
        raise ValidationError("A pre-fill draws only on another assessment of the same product.")
    if source.assessment.status == "not_started":
        raise ValidationError("That assessment has no answers to pre-fill from.")
    for ws in (target, source):
        _readable_bank(session, actor, ws.assessment.questionnaire_id)
    return target, source


def plan_prefill(
    session: Session,
    actor: Actor,
    target_id: int,
    source_id: int,
    *,
    mapping_key: str | None = None,
) -> Prefill:
    """What pre-filling the target from the source would give; writes nothing."""
    return _prepare(session, actor, target_id, source_id, mapping_key)[3]


def _prepare(
    session: Session, actor: Actor, target_id: int, source_id: int, mapping_key: str | None
) -> tuple[Workspace, Workspace, MappingSet, Prefill]:
    target, source = _workspaces(session, actor, target_id, source_id)
    mapping = mapping_for(session, source.bank.key, target.bank.key, mapping_key)
    if mapping is None:
        raise NotFound(
            f"No mapping links {source.bank.title} to {target.bank.title}"
            + (f" under the key '{mapping_key}'." if mapping_key else ".")
        )
    links = load_links(session, mapping.id)
    credits = credit(source.bank, source.answers, target.bank, links)
    return target, source, mapping, _plan(target, source, mapping, credits)


def _plan(
    target: Workspace, source: Workspace, mapping: MappingSet, credits: dict[str, Credit]
) -> Prefill:
    bank: Bank = target.bank
    kept = [q.key for q in bank.questions if not is_blank(target.answers.get(q.key, Answer()))]
    merged = dict(target.answers)
    usable: dict[str, Credit] = {}
    for question in bank.questions:  # bank order: a condition's question comes first
        found = credits.get(question.key)
        if found is None or question.key in kept or not is_visible(question, merged, bank):
            continue
        usable[question.key] = found
        if found.kind == "carried":
            merged[question.key] = found.answer
    report = mapping.report or {}
    unresolved = [*report.get("unresolved_sources", []), *report.get("unresolved_targets", [])]
    return Prefill(
        target.assessment.id,
        source.assessment.id,
        mapping.key,
        mapping.version,
        tuple(c for c in usable.values() if c.kind == "carried"),
        tuple(c for c in usable.values() if c.kind == "proposed"),
        tuple(kept),
        tuple(q.key for q in bank.questions if q.key not in usable and q.key not in kept),
        tuple(unresolved),
    )


def apply_prefill(
    session: Session,
    actor: Actor,
    target_id: int,
    source_id: int,
    *,
    mapping_key: str | None = None,
    now: datetime | None = None,
) -> Prefill:
    """Store the carried answers (with provenance) and the proposals; answers already given are
    left as they are. The whole pre-fill is one transaction."""
    now = now or utcnow()
    target, source, mapping, plan = _prepare(session, actor, target_id, source_id, mapping_key)
    context = source_context(session, source)
    origins = {c.target_key: origin_of(context, mapping, c, "carried", now) for c in plan.carried}
    if plan.carried:
        answers = {c.target_key: AnswerInput(c.answer.value, c.answer.is_na) for c in plan.carried}
        save_with_origins(session, actor, target_id, answers, origins, now=now)
    if plan.proposed:
        ids = target.question_ids
        session.execute(
            delete(AnswerProposal).where(
                AnswerProposal.assessment_id == target_id,
                AnswerProposal.question_id.in_([ids[c.target_key] for c in plan.proposed]),
            )
        )
        session.execute(  # one statement for all of them, as answers are inserted
            insert(AnswerProposal),
            [
                {
                    "assessment_id": target_id,
                    "question_id": ids[c.target_key],
                    "value": c.answer.value,
                    "is_na": c.answer.is_na,
                    "origin": origin_of(context, mapping, c, "proposed", now),
                    "created_at": now,
                    "updated_at": now,
                }
                for c in plan.proposed
            ],
        )
    audit.record(
        session,
        actor,
        "answers_prefilled",
        object_type="assessment",
        object_id=target_id,
        detail={k: v for k, v in plan.counts().items() if k != "unresolved"},
        now=now,
    )
    session.flush()
    return plan
