"""Who a benchmark compares with: the peer assessments of one questionnaire version, their score
counts, and the cells the anonymity rule (core.peer_stats.refusal) decides on.

The benchmark unit is a product's newest scored assessment on the version, read at its newest
snapshot (MAX(id) per assessment). SQL returns value counts (GROUP BY section, score), from which
quantiles and percentiles are read in Python, so no per-assessment rows leave the database. A
client's peers are the other organisations' products only: counting its own would let it move the
quantiles at will.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import ColumnElement, Float, Select, cast, func, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TableValuedAlias

from core.access import Actor
from core.filters import Filters, org_filter
from core.models import Assessment, Organization, ScoreHistory, Section
from core.peer_stats import GroupStats, PeerCell, coarse_stats, exact_stats
from core.settings import get_settings

OVERALL = "overall"
ORG_COLUMNS = (Organization.industry, Organization.tier, Assessment.organization_id)


class ScoreCount(NamedTuple):
    """How many peers have one score."""

    score: float
    peers: int


class SectionCount(NamedTuple):
    """How many peers have one score in one section."""

    section: str
    score: float
    peers: int


def peer_assessments(actor: Actor, filters: Filters, questionnaire_id: int) -> Select[int]:
    """Ids of each product's newest scored assessment on the version, in the industry and tier
    filters, across every organisation but a client's own (only aggregates of it ever leave
    core)."""
    stmt = (
        select(func.max(Assessment.id))
        .where(
            Assessment.is_active,
            Assessment.questionnaire_id == questionnaire_id,
            Assessment.latest_score.is_not(None),
        )
        .group_by(Assessment.product_id)
    )
    if actor.is_client:  # with its own products inside, adding some that score 0 would shift
        stmt = stmt.where(Assessment.organization_id != actor.organization_id)  # every quantile
    return org_filter(
        stmt, Filters(industry=filters.industry, tier=filters.tier), Assessment.organization_id
    )


def _section_pairs(
    session: Session,
) -> tuple[TableValuedAlias, ColumnElement[Any], ColumnElement[Any]]:
    """(key, numeric value) of each entry of score_history.section_scores, as a lateral table."""
    if session.get_bind().dialect.name == "postgresql":
        pairs = func.json_each_text(ScoreHistory.section_scores).table_valued("key", "value")
        return pairs, pairs.c.key, cast(pairs.c.value, Float)
    pairs = func.json_each(ScoreHistory.section_scores).table_valued("key", "value")
    return pairs, pairs.c.key, pairs.c.value


def section_counts(session: Session, assessments: Select[int]) -> list[SectionCount]:
    """(section key, score, how many) over the newest snapshot of each assessment given."""
    latest = (
        select(func.max(ScoreHistory.id).label("id"))
        .where(ScoreHistory.assessment_id.in_(assessments))
        .group_by(ScoreHistory.assessment_id)
        .subquery()
    )
    pairs, key, value = _section_pairs(session)
    stmt = (
        select(key, value, func.count())
        .select_from(ScoreHistory)
        .join(latest, latest.c.id == ScoreHistory.id)
        .join(pairs, true())
        .where(value.is_not(None))
        .group_by(key, value)
    )
    return [SectionCount(*row) for row in session.connection().execute(stmt)]


def min_peers(session: Session, actor: Actor) -> int | None:
    """How many peers a group a client sees must hold (benchmark_min_peers); None for staff,
    who read every score anyway and get exact figures."""
    return int(get_settings(session)["benchmark_min_peers"]) if actor.is_client else None


def peer_cells(session: Session, actor: Actor, questionnaire_id: int) -> dict[str, list[PeerCell]]:
    """A client's peers by organisation, industry and tier, overall and per section with a
    score: what core.peer_stats.refusal decides on."""
    peers = peer_assessments(actor, Filters(), questionnaire_id)
    overall = session.execute(
        select(*ORG_COLUMNS, func.count())
        .join(Organization, Organization.id == Assessment.organization_id)
        .where(Assessment.id.in_(peers))
        .group_by(*ORG_COLUMNS)
    ).all()
    latest = (
        select(func.max(ScoreHistory.id).label("id"))
        .where(ScoreHistory.assessment_id.in_(peers))
        .group_by(ScoreHistory.assessment_id)
        .subquery()
    )
    pairs, key, value = _section_pairs(session)
    stmt = (
        select(key, *ORG_COLUMNS, func.count())
        .select_from(ScoreHistory)
        .join(latest, latest.c.id == ScoreHistory.id)
        .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
        .join(Organization, Organization.id == Assessment.organization_id)
        .join(pairs, true())
        .where(value.is_not(None))
        .group_by(key, *ORG_COLUMNS)
    )
    cells: dict[str, list[PeerCell]] = {OVERALL: [PeerCell(*r) for r in overall]}
    for section, *cell in session.execute(stmt):
        cells.setdefault(section, []).append(PeerCell(*cell))
    return cells


def group_stats(pairs: list[ScoreCount], k: int | None) -> GroupStats:
    """The figures of one group of peers' scores: exact for staff (k None), coarsened for
    clients."""
    ordered = sorted(pairs)
    values = np.array([p.score for p in ordered], dtype=float)
    counts = np.array([p.peers for p in ordered], dtype=float)
    return exact_stats(values, counts) if k is None else coarse_stats(values, counts, k)


def section_titles(session: Session, questionnaire_id: int) -> dict[str, str]:
    """Section key -> title of the version, in bank order."""
    rows = session.execute(
        select(Section.key, Section.title)
        .where(Section.questionnaire_id == questionnaire_id)
        .order_by(Section.position)
    ).all()
    return dict(rows)
