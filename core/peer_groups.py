"""Peer groups: per organisation industry and tier, the spread of latest overall scores.

Staff see every group with its organisations; a client sees only the groups large enough to stay
anonymous (core.peer_stats.refusal), coarsened like the benchmark, without organisation counts.
"""

from __future__ import annotations

from itertools import chain, pairwise
from typing import NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import ROLES, Actor, require_role
from core.db import rows_of
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
    orgs = rows_of(session, select(Organization.id, Organization.industry, Organization.tier))
    # (organisation, score, products): one row per organisation and score, so as many as there
    # are products: read as plain tuples and sorted into the groups by numpy (a third of the
    # time of SQL's GROUP BY industry, tier, score; a tenth of ORM rows).
    found = rows_of(
        session,
        peer_rows(
            select(B.organization_id, B.score, B.products).where(B.section_key == OVERALL),
            actor,
            Filters(),
            questionnaire_id,
        ),
    )
    data = np.fromiter(chain.from_iterable(found), dtype=float, count=3 * len(found))
    org, score, n = data.reshape(-1, 3).T
    names = sorted({(industry, tier) for _, industry, tier in orgs})
    place = {key: i for i, key in enumerate(names)}
    cell_of = np.zeros(max((o for o, _, _ in orgs), default=0) + 1, dtype=int)
    for org_id, industry, tier in orgs:
        cell_of[org_id] = place[(industry, tier)]
    cell = cell_of[org.astype(int)]
    order = np.lexsort((score, cell))  # by group, then score
    edges = np.searchsorted(cell[order], np.arange(len(names) + 1))
    org, score, n = org[order], score[order], n[order]
    groups = {
        names[i]: (score[lo:hi], n[lo:hi], len(np.unique(org[lo:hi])))
        for i, (lo, hi) in enumerate(pairwise(edges))
        if hi > lo
    }
    cells = peer_cells(session, actor, questionnaire_id)[OVERALL] if k is not None else []
    out = []
    for (industry, tier), (scores, counts, members) in groups.items():
        if k is None or refusal(cells, industry, tier, k) is None:
            stats = sorted_stats(scores, counts, k)
            out.append(
                PeerGroup(
                    industry or "(none)",
                    tier,
                    members,
                    stats.assessments,
                    stats.q1,
                    stats.median,
                    stats.q3,
                )
            )
    frame = pd.DataFrame(out, columns=list(PeerGroup._fields))
    return frame if k is None else frame.drop(columns=["organizations"])  # counts: see peer_stats
