"""What an assessment on one bank gives on another through a mapping: the share of the other
bank's questions carried, proposed and uncovered, per section, and the questions still to answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.banks.model import Bank
from core.errors import NotFound
from core.mappings.credit import credit
from core.mappings.store import load_links, newest_banks
from core.models import MappingSet
from core.workspace import load_workspace


@dataclass(frozen=True)
class SectionCoverage:
    """One section of the other bank: how many of its questions get what."""

    key: str
    title: str
    carried: int
    proposed: int
    uncovered: int

    @property
    def total(self) -> int:
        return self.carried + self.proposed + self.uncovered


@dataclass(frozen=True)
class Coverage:
    """An assessment's answers as credit on another bank."""

    bank: Bank
    mapping_title: str
    sections: tuple[SectionCoverage, ...]
    to_answer: tuple[tuple[str, str, str], ...]  # (section title, question key, question text)

    def share(self, kind: str) -> float:
        """The share of the bank's questions that are carried, proposed or uncovered."""
        total = sum(s.total for s in self.sections)
        return sum(getattr(s, kind) for s in self.sections) / total if total else 0.0


def coverage_targets(session: Session, actor: Actor, assessment_id: int) -> list[MappingSet]:
    """The newest active mapping from the assessment's bank to each other bank."""
    ws = load_workspace(session, actor, assessment_id)
    rows = session.scalars(
        select(MappingSet)
        .where(MappingSet.is_active, MappingSet.source_bank == ws.bank.key)
        .order_by(MappingSet.id.desc())
    ).all()
    newest: dict[str, MappingSet] = {}
    for row in rows:
        newest.setdefault(row.target_bank, row)
    return list(newest.values())


def coverage(session: Session, actor: Actor, assessment_id: int, mapping_id: int) -> Coverage:
    """What the assessment's stored answers give on the mapping's target bank."""
    ws = load_workspace(session, actor, assessment_id)
    mapping = session.get(MappingSet, mapping_id)
    if mapping is None or not mapping.is_active or mapping.source_bank != ws.bank.key:
        raise NotFound("That mapping does not start from this assessment's questionnaire.")
    target = newest_banks(session).get(mapping.target_bank)
    if target is None:
        raise NotFound(f"The bank '{mapping.target_bank}' is not stored.")
    credits = credit(ws.bank, ws.answers, target, load_links(session, mapping.id))
    sections = []
    to_answer = []
    for section in target.sections:
        kinds = [credits[q.key].kind if q.key in credits else "" for q in section.questions]
        sections.append(
            SectionCoverage(
                section.key,
                section.title,
                kinds.count("carried"),
                kinds.count("proposed"),
                kinds.count(""),
            )
        )
        to_answer += [
            (section.title, q.key, q.text) for q in section.questions if q.key not in credits
        ]
    return Coverage(target, mapping.title, tuple(sections), tuple(to_answer))
