"""Who a benchmark compares with: the peer assessments of one questionnaire version, their score
counts, and the cells the anonymity rule (core.peer_stats.refusal) decides on.

The benchmark unit is a product's newest scored assessment on the version, read at its newest
snapshot (MAX(id) per assessment). The read model (core/read_model.py) keeps their value counts per
organisation (benchmark_counts), from which quantiles and percentiles are read in Python, so no
per-assessment rows leave the database. A client's peers are the other organisations' products
only: counting its own would let it move the quantiles at will.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.db import rows_of
from core.filters import Filters, Ts, org_filter
from core.models import BenchmarkCount, BenchmarkTotal, Organization, Section
from core.peer_stats import Floats, GroupStats, PeerCell, coarse_stats, exact_stats
from core.read_model_rows import OVERALL as OVERALL
from core.settings import get_setting

B = BenchmarkCount  # the read model's benchmark units per organisation, section and score
T = BenchmarkTotal  # and per section and score, over every organisation


class ScoreCount(NamedTuple):
    """How many peers have one score."""

    score: float
    peers: int


def peer_rows(
    statement: Select[*Ts], actor: Actor, filters: Filters, questionnaire_id: int
) -> Select[*Ts]:
    """Narrow a statement over the read model's benchmark_counts to the version's peers in the
    industry and tier filters: every organisation but a client's own (only aggregates of it
    ever leave core: with its own products inside, adding some that score 0 would shift every
    quantile)."""
    statement = statement.where(B.questionnaire_id == questionnaire_id)
    if actor.is_client:
        statement = statement.where(B.organization_id != actor.organization_id)
    return org_filter(
        statement, Filters(industry=filters.industry, tier=filters.tier), B.organization_id
    )


def value_counts(
    session: Session, actor: Actor, filters: Filters, questionnaire_id: int
) -> dict[str, list[ScoreCount]]:
    """How many peers have each score, per section and OVERALL: without an industry or tier
    filter from the version's totals (less a client's own organisation's counts), else summed
    over the organisations in the filters."""
    stmt: Select[str, float, int]
    if filters.industry or filters.tier:
        stmt = peer_rows(
            select(B.section_key, B.score, func.sum(B.products)).group_by(B.section_key, B.score),
            actor,
            filters,
            questionnaire_id,
        )
    else:
        stmt = select(T.section_key, T.score, T.products).where(
            T.questionnaire_id == questionnaire_id
        )
    counts: dict[str, list[ScoreCount]] = {}
    for key, score, n in rows_of(session, stmt):  # thousands of plain numbers: driver tuples
        counts.setdefault(key, []).append(ScoreCount(score, int(n)))
    if actor.is_client and not (filters.industry or filters.tier):
        own = select(B.section_key, B.score, B.products).where(
            B.questionnaire_id == questionnaire_id, B.organization_id == actor.organization_id
        )
        counts = _less(counts, session.connection().execute(own))
    return counts


def _less(counts: dict[str, list[ScoreCount]], own: Any) -> dict[str, list[ScoreCount]]:
    """The counts less one organisation's (section, score, products) rows."""
    taken: dict[tuple[str, float], int] = {(key, score): int(n) for key, score, n in own}
    out: dict[str, list[ScoreCount]] = {}
    for key, pairs in counts.items():
        kept = [ScoreCount(p.score, p.peers - taken.get((key, p.score), 0)) for p in pairs]
        if any(p.peers > 0 for p in kept):
            out[key] = [p for p in kept if p.peers > 0]
    return out


def min_peers(session: Session, actor: Actor) -> int | None:
    """How many peers a group a client sees must hold (benchmark_min_peers); None for staff,
    who read every score anyway and get exact figures."""
    return int(get_setting(session, "benchmark_min_peers")) if actor.is_client else None


def peer_cells(session: Session, actor: Actor, questionnaire_id: int) -> dict[str, list[PeerCell]]:
    """A client's peers by organisation, industry and tier, overall and per section with a
    score: what core.peer_stats.refusal decides on."""
    columns = (B.section_key, Organization.industry, Organization.tier, B.organization_id)
    stmt = (
        select(*columns, func.sum(B.products))
        .join(Organization, Organization.id == B.organization_id)
        .group_by(*columns)
    )
    cells: dict[str, list[PeerCell]] = {OVERALL: []}
    rows = session.execute(peer_rows(stmt, actor, Filters(), questionnaire_id))
    for section, industry, tier, org, n in rows:
        cells.setdefault(section, []).append(PeerCell(industry, tier, org, int(n)))
    return cells


def group_stats(pairs: list[ScoreCount], k: int | None) -> GroupStats:
    """The figures of one group of peers' scores: exact for staff (k None), coarsened for
    clients."""
    ordered = sorted(pairs)
    values = np.array([p.score for p in ordered], dtype=float)
    return sorted_stats(values, np.array([p.peers for p in ordered], dtype=float), k)


def sorted_stats(values: Floats, counts: Floats, k: int | None) -> GroupStats:
    """group_stats of scores already in ascending order (repeats allowed), each counts times."""
    return exact_stats(values, counts) if k is None else coarse_stats(values, counts, k)


def section_titles(session: Session, questionnaire_id: int) -> dict[str, str]:
    """Section key -> title of the version, in bank order."""
    return dict(session.connection().execute(_TITLES, {"qid": questionnaire_id}).all())


_TITLES = (
    select(Section.key, Section.title)
    .where(Section.questionnaire_id == bindparam("qid"))
    .order_by(Section.position)
)
