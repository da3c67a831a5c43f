"""Peer groups: per organisation industry and tier, the spread of latest overall scores.

Staff see every group with its organisations; a client sees only the groups large enough to stay
anonymous (core.peer_stats.refusal), coarsened like the benchmark, without organisation counts.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import ROLES, Actor, require_role
from core.filters import Filters
from core.models import Organization
from core.peer_stats import refusal
from core.peers import OVERALL, B, min_peers, peer_cells, peer_rows, sorted_stats


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
    orgs = {
        org: (industry, tier)
        for org, industry, tier in session.execute(
            select(Organization.id, Organization.industry, Organization.tier)
        )
    }
    # Rows come in key order, by score; each group's scores stay sorted as they are dealt out.
    # Dealing them out here costs a third of SQL's GROUP BY industry, tier, score (its sort).
    rows = (
        session.connection()
        .execute(
            peer_rows(
                select(B.organization_id, B.score, B.products)
                .where(B.section_key == OVERALL)
                .order_by(B.score),
                actor,
                Filters(),
                questionnaire_id,
            )
        )
        .all()
    )
    groups: dict[tuple[str, str], tuple[list[float], list[int], set[int]]] = {}
    for org, score, n in rows:
        group = groups.get(orgs[org])
        if group is None:
            group = groups[orgs[org]] = ([], [], set())
        group[0].append(score)
        group[1].append(n)
        group[2].add(org)
    cells = peer_cells(session, actor, questionnaire_id)[OVERALL] if k is not None else []
    out = []
    for (industry, tier), (scores, counts, members) in sorted(groups.items()):
        if k is None or refusal(cells, industry, tier, k) is None:
            stats = sorted_stats(np.array(scores, dtype=float), np.array(counts, dtype=float), k)
            out.append(
                PeerGroup(
                    industry or "(none)",
                    tier,
                    len(members),
                    stats.assessments,
                    stats.q1,
                    stats.median,
                    stats.q3,
                )
            )
    frame = pd.DataFrame(out, columns=list(PeerGroup._fields))
    return frame if k is None else frame.drop(columns=["organizations"])  # counts: see peer_stats
