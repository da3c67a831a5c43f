"""Benchmarks: the latest section scores of one questionnaire version, against peers.

Versions are never mixed: their sections and questions differ. The peers are chosen in
core/peers.py; the heatmap of the actor's own products is in core/section_heatmap.py and the
table of peer groups in core/peer_groups.py.

Staff read exact figures. For a client every group it sees (each filter choice, each section, each
row of the peer groups) holds at least `benchmark_min_peers` peers from at least
MIN_PEER_ORGANIZATIONS other organisations, and its figures are coarsened by core.peer_stats.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.access import ROLES, Actor, require_role
from core.filters import Filters, scope, seen_by
from core.models import Assessment, Questionnaire, ScoreHistory
from core.peer_stats import MIN_PEER_ORGANIZATIONS, QUANTILES, percentile, quarter, refusal
from core.peers import (
    OVERALL,
    group_stats,
    min_peers,
    peer_assessments,
    peer_cells,
    section_counts,
    section_titles,
)
from core.products import get_product
from core.settings import get_settings

DIST_COLUMNS = ["section", "title", "assessments", "mean", *QUANTILES]


def versions(session: Session, actor: Actor) -> list[dict]:
    """Questionnaire versions with scored assessments in the actor's scope, most used first."""
    require_role(actor, *ROLES)
    stmt = scope(
        select(
            Questionnaire.id,
            Questionnaire.title,
            Questionnaire.version,
            func.count().label("assessments"),
        )
        .join(Assessment, Assessment.questionnaire_id == Questionnaire.id)
        .where(Assessment.latest_score.is_not(None)),
        actor,
        Filters(),
        seen_by(actor, get_settings(session)),
    )
    rows = session.execute(
        stmt.group_by(Questionnaire.id, Questionnaire.title, Questionnaire.version).order_by(
            func.count().desc(), Questionnaire.id
        )
    ).all()
    return [dict(r._mapping) for r in rows]


WITHHELD = {
    "small": "The peer group is too small to compare anonymously (it needs at least {k} scored "
    "products from {orgs} other organisations). Widen the industry or tier filter.",
    "near": "This peer group differs from a wider one by too few products to stay anonymous. "
    "Widen or change the industry or tier filter.",
}


def _refused(cells: dict, key: str, filters: Filters, k: int | None) -> str | None:
    """Why a client may not see one section (or the overall) of the filtered peers, or None."""
    if k is None:
        return None
    return refusal(cells.get(key, []), filters.industry or None, filters.tier or None, k)


def _value_counts(session: Session, peers: Select) -> dict[str, list]:
    """{section or OVERALL: [(score, how many)]} over the peers."""
    counts: dict[str, list] = {
        OVERALL: session.connection()
        .execute(
            select(Assessment.latest_score, func.count())
            .where(Assessment.id.in_(peers))
            .group_by(Assessment.latest_score)
        )
        .all()
    }
    for key, value, n in section_counts(session, peers):
        counts.setdefault(key, []).append((value, n))
    return counts


def peer_distribution(
    session: Session, actor: Actor, filters: Filters, questionnaire_id: int
) -> dict:
    """{"sections": DIST_COLUMNS per section (overall first, then bank order), "counts":
    {section: [(score, how many)]} (staff only), "size": how many peers, as text, "exact": True
    for staff, "withheld": reason or None}; empty while withheld."""
    require_role(actor, *ROLES)
    k = min_peers(session, actor)
    cells = peer_cells(session, actor, questionnaire_id) if k is not None else {}
    reason = _refused(cells, OVERALL, filters, k)
    if reason:
        return {
            "sections": pd.DataFrame(columns=DIST_COLUMNS),
            "counts": {},
            "size": "",
            "exact": False,
            "withheld": WITHHELD[reason].format(k=k, orgs=MIN_PEER_ORGANIZATIONS),
        }
    counts = _value_counts(session, peer_assessments(actor, filters, questionnaire_id))
    titles = {OVERALL: "Overall", **section_titles(session, questionnaire_id)}
    rows = [
        group_stats(key, titles[key], counts[key], k)
        for key in titles
        if counts.get(key) and not _refused(cells, key, filters, k)
    ]
    size = rows[0]["assessments"] if rows else ""  # overall: a count for staff, a band for clients
    # A client's value counts would be the peers' scores themselves: only staff get them.
    return {
        "sections": pd.DataFrame(rows, columns=DIST_COLUMNS),
        "counts": {key: [tuple(p) for p in v] for key, v in counts.items()} if k is None else {},
        "size": f"{size:,}" if isinstance(size, int) else size,
        "exact": k is None,
        "withheld": None,
    }


def product_scores(
    session: Session, actor: Actor, product_id: int, questionnaire_id: int
) -> pd.DataFrame:
    """A product's newest scored assessment on the version, at its newest snapshot: section,
    title, score (overall first, then bank order); empty when it has none."""
    require_role(actor, *ROLES)
    get_product(session, actor, product_id)
    row = session.execute(
        select(ScoreHistory.overall_score, ScoreHistory.section_scores)
        .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
        .where(
            Assessment.product_id == product_id,
            Assessment.is_active,
            Assessment.questionnaire_id == questionnaire_id,
            Assessment.latest_score.is_not(None),
        )
        .order_by(Assessment.id.desc(), ScoreHistory.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return pd.DataFrame(columns=["section", "title", "score"])
    scores = {OVERALL: row.overall_score, **(row.section_scores or {})}
    titles = {OVERALL: "Overall", **section_titles(session, questionnaire_id)}
    return pd.DataFrame(
        [(k, t, scores.get(k)) for k, t in titles.items()], columns=["section", "title", "score"]
    )


def rank_against(scores: pd.DataFrame, peers: dict) -> pd.DataFrame:
    """The product's scores with their standing among the peers, as text: the exact mid-rank
    percentile for staff, for clients the quarter the published quartiles put it in ("" where
    either side has no score); and the percentile itself (staff only, else None)."""
    ranks, standings = [], []
    quartiles = peers["sections"].set_index("section")
    for key, score in zip(scores["section"], scores["score"], strict=False):
        pairs = peers["counts"].get(key)
        known = score is not None and not pd.isna(score)
        rank = (
            percentile(*(np.array(v, dtype=float) for v in zip(*pairs, strict=False)), score)
            if pairs and known
            else None
        )
        ranks.append(rank)
        if rank is not None:
            standings.append(f"Percentile {rank:.0f}")
        elif known and key in quartiles.index and not peers["exact"]:
            standings.append(quarter(score, *quartiles.loc[key, ["q1", "median", "q3"]]))
        else:
            standings.append("")
    return scores.assign(percentile=ranks, standing=standings)
