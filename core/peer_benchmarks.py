"""Benchmarks: the latest section scores of one questionnaire version, against peers.

Versions are never mixed: their sections and questions differ. The peers are chosen in
core/peers.py; the heatmap of the actor's own products is in core/section_heatmap.py and the
table of peer groups in core/peer_groups.py.

Staff read exact figures. For a client every group it sees (each filter choice, each section, each
row of the peer groups) holds at least `benchmark_min_peers` peers from at least
MIN_PEER_ORGANIZATIONS other organisations, and its figures are coarsened by core.peer_stats.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.orm import Session

from core.access import ROLES, Actor, require_role
from core.filters import Filters, org_scoped, scope, scope_rollup, visibility
from core.models import Assessment, Questionnaire, ScoreHistory, StatusRollup
from core.peer_stats import (
    MIN_PEER_ORGANIZATIONS,
    QUANTILES,
    PeerCell,
    percentile,
    quarter,
    refusal,
)
from core.peers import (
    OVERALL,
    ScoreCount,
    group_stats,
    min_peers,
    peer_cells,
    section_titles,
    value_counts,
)
from core.products import get_product

DIST_COLUMNS = ["section", "title", "assessments", "mean", *QUANTILES]


@dataclass(frozen=True)
class Version:
    """A questionnaire version that can be benchmarked, and how many scored assessments use it."""

    id: int
    title: str
    version: int
    assessments: int


@dataclass(frozen=True)
class PeerDistribution:
    """The peers' figures on one version: DIST_COLUMNS per section (overall first, then bank
    order); the value counts per section (staff only, else empty); how many peers, as text (a
    count for staff, a band for clients); whether the figures are exact (staff); and why they
    are withheld (everything else then empty), or None."""

    sections: pd.DataFrame
    counts: dict[str, list[ScoreCount]]
    size: str
    exact: bool
    withheld: str | None


def versions(session: Session, actor: Actor) -> list[Version]:
    """Questionnaire versions with scored assessments in the actor's scope, most used first."""
    require_role(actor, *ROLES)
    seen = visibility(session, actor)
    listed = (Questionnaire.id, Questionnaire.title, Questionnaire.version)
    if org_scoped(actor, seen):
        scored: ColumnElement[int] = func.sum(StatusRollup.scored)
        stmt = scope_rollup(
            select(*listed, scored).join(
                StatusRollup, StatusRollup.questionnaire_id == Questionnaire.id
            ),
            actor,
            Filters(),
            StatusRollup,
        ).having(scored > 0)
    else:
        scored = func.count()
        stmt = scope(
            select(*listed, scored)
            .join(Assessment, Assessment.questionnaire_id == Questionnaire.id)
            .where(Assessment.latest_score.is_not(None)),
            actor,
            Filters(),
            seen,
        )
    rows = session.execute(stmt.group_by(*listed).order_by(scored.desc(), Questionnaire.id)).all()
    return [Version(*r) for r in rows]


WITHHELD = {
    "small": "The peer group is too small to compare anonymously (it needs at least {k} scored "
    "products from {orgs} other organisations). Widen the industry or tier filter.",
    "near": "This peer group differs from a wider one by too few products to stay anonymous. "
    "Widen or change the industry or tier filter.",
}


def _refused(
    cells: dict[str, list[PeerCell]], key: str, filters: Filters, k: int | None
) -> str | None:
    """Why a client may not see one section (or the overall) of the filtered peers, or None."""
    if k is None:
        return None
    return refusal(cells.get(key, []), filters.industry or None, filters.tier or None, k)


def peer_distribution(
    session: Session, actor: Actor, filters: Filters, questionnaire_id: int
) -> PeerDistribution:
    """The peers' figures on the version within the industry and tier filters; for a client,
    coarsened, and withheld where the group could be solved for."""
    require_role(actor, *ROLES)
    k = min_peers(session, actor)
    cells = peer_cells(session, actor, questionnaire_id) if k is not None else {}
    reason = _refused(cells, OVERALL, filters, k)
    if reason:
        return PeerDistribution(
            sections=pd.DataFrame(columns=DIST_COLUMNS),
            counts={},
            size="",
            exact=False,
            withheld=WITHHELD[reason].format(k=k, orgs=MIN_PEER_ORGANIZATIONS),
        )
    counts = value_counts(session, actor, filters, questionnaire_id)
    titles = {OVERALL: "Overall", **section_titles(session, questionnaire_id)}
    rows = [
        {"section": key, "title": titles[key], **asdict(group_stats(counts[key], k))}
        for key in titles
        if counts.get(key) and not _refused(cells, key, filters, k)
    ]
    size = rows[0]["assessments"] if rows else ""  # overall: a count for staff, a band for clients
    # A client's value counts would be the peers' scores themselves: only staff get them.
    return PeerDistribution(
        sections=pd.DataFrame(rows, columns=DIST_COLUMNS),
        counts=counts if k is None else {},
        size=f"{size:,}" if isinstance(size, int) else str(size),
        exact=k is None,
        withheld=None,
    )


def product_scores(
    session: Session, actor: Actor, product_id: int, questionnaire_id: int
) -> pd.DataFrame:
    """A product's newest scored assessment on the version, at its newest snapshot: section,
    title, score (overall first, then bank order); empty when it has none."""
    require_role(actor, *ROLES)
    get_product(session, actor, product_id)
    row = (
        session.connection()
        .execute(_NEWEST, {"product": product_id, "version": questionnaire_id})
        .first()
    )
    if row is None:
        return pd.DataFrame(columns=["section", "title", "score"])
    scores = {OVERALL: row.overall_score, **(row.section_scores or {})}
    titles = {OVERALL: "Overall", **section_titles(session, questionnaire_id)}
    return pd.DataFrame(
        [(k, t, scores.get(k)) for k, t in titles.items()], columns=["section", "title", "score"]
    )


_NEWEST = (
    select(ScoreHistory.overall_score, ScoreHistory.section_scores)
    .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
    .where(
        Assessment.product_id == bindparam("product"),
        Assessment.is_active,
        Assessment.questionnaire_id == bindparam("version"),
        Assessment.latest_score.is_not(None),
    )
    .order_by(Assessment.id.desc(), ScoreHistory.id.desc())
    .limit(1)
)


def rank_against(scores: pd.DataFrame, peers: PeerDistribution) -> pd.DataFrame:
    """The product's scores with their standing among the peers, as text: the exact mid-rank
    percentile for staff, for clients the quarter the published quartiles put it in ("" where
    either side has no score); and the percentile itself (staff only, else None)."""
    ranks: list[float | None] = []
    standings: list[str] = []
    quartiles = peers.sections.set_index("section")
    for key, score in zip(scores["section"], scores["score"], strict=False):
        pairs = peers.counts.get(key)
        known = score is not None and not pd.isna(score)
        rank = _percentile(pairs, score) if pairs and known else None
        ranks.append(rank)
        if rank is not None:
            standings.append(f"Percentile {rank:.0f}")
        elif known and key in quartiles.index and not peers.exact:
            standings.append(quarter(score, *quartiles.loc[key, ["q1", "median", "q3"]]))
        else:
            standings.append("")
    # A list holding None is what pandas reads as missing; the stubs only allow lists of values.
    return scores.assign(percentile=ranks, standing=standings)  # type: ignore[arg-type]


def _percentile(pairs: list[ScoreCount], score: float) -> float:
    values = np.array([p.score for p in pairs], dtype=float)
    return percentile(values, np.array([p.peers for p in pairs], dtype=float), score)
