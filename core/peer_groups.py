"""Peer groups: per organisation industry and tier, the spread of latest overall scores.

Staff see every group with its organisations; a client sees only the groups large enough to stay
anonymous (core.peer_stats.refusal), coarsened like the benchmark, without organisation counts.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from core.access import ROLES, Actor, require_role
from core.filters import Filters
from core.models import Assessment, Organization
from core.peer_stats import refusal
from core.peers import OVERALL, ScoreCount, group_stats, min_peers, peer_assessments, peer_cells


class PeerGroup(NamedTuple):
    """One row of the table: an industry and tier, its organisations and scored products (a
    count for staff, a band for clients), and the quartiles of their latest overall scores."""

    industry: str
    tier: str
    organizations: int
    products: int | str
    q1: float
    median: float
    q3: float


def peer_groups_frame(session: Session, actor: Actor, questionnaire_id: int) -> pd.DataFrame:
    """Per organisation industry and tier: organisations, scored products and the quartiles of
    their latest overall score on the version (for clients: other organisations' products, only
    groups large enough to stay anonymous, coarsened like peer_distribution, no organisations)."""
    require_role(actor, *ROLES)
    k = min_peers(session, actor)
    peers = peer_assessments(actor, Filters(), questionnaire_id)
    base = (
        select(Organization.industry, Organization.tier)
        .join(Assessment, Assessment.organization_id == Organization.id)
        .where(Assessment.id.in_(peers))
    )
    sizes = session.execute(
        base.add_columns(func.count(), func.count(distinct(Organization.id))).group_by(
            Organization.industry, Organization.tier
        )
    ).all()
    counts: dict[tuple[str, str], list[ScoreCount]] = {}
    for industry, tier, score, n in (
        session.connection()
        .execute(
            base.add_columns(Assessment.latest_score, func.count()).group_by(
                Organization.industry, Organization.tier, Assessment.latest_score
            )
        )
        .all()
    ):
        counts.setdefault((industry, tier), []).append(ScoreCount(score, n))
    cells = peer_cells(session, actor, questionnaire_id)[OVERALL] if k is not None else []
    out = []
    for industry, tier, _n, orgs in sorted(sizes):
        if k is None or refusal(cells, industry, tier, k) is None:
            stats = group_stats(counts[(industry, tier)], k)
            out.append(
                PeerGroup(
                    industry or "(none)",
                    tier,
                    orgs,
                    stats.assessments,
                    stats.q1,
                    stats.median,
                    stats.q3,
                )
            )
    frame = pd.DataFrame(out, columns=list(PeerGroup._fields))
    return frame if k is None else frame.drop(columns=["organizations"])  # counts: see peer_stats
