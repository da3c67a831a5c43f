"""The biggest movers: assessments whose score rose or fell most over the date range.

An assessment's move is its score at the range's end minus its score at the start (the newest
snapshot before the start, else the first within the range), by snapshot id (score_history is
append-only, so ids grow with time).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    case,
    func,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from core.access import ROLES, Actor, require_role
from core.filters import Filters, scope, visibility
from core.models import Assessment, Organization, Product, ScoreHistory

MOVER_COLUMNS = [
    "assessment_id",
    "organization",
    "product",
    "cycle",
    "start_score",
    "end_score",
    "change",
    "direction",
]


def movers_frame(
    session: Session, actor: Actor, filters: Filters, *, limit: int = 10
) -> pd.DataFrame:
    """The assessments whose latest score rose and fell most over the date range: the score at its
    end minus the score at its start (the newest snapshot before the start, else the first in the
    range); only assessments with a snapshot in the range; columns MOVER_COLUMNS.

    An assessment whose snapshots all lie in the range moved by the read model's overall_change
    (latest minus first), read in that column's index order; only the others are read from
    score_history."""
    require_role(actor, *ROLES)
    conn = session.connection()
    moves: list[tuple[Any, ...]] = []
    for statement in _statements(actor, filters, visibility(session, actor), limit):
        moves += conn.execute(statement).all()
    ups = sorted((m for m in moves if m[3] > 0), key=lambda m: (-m[3], m[0]))[:limit]
    downs = sorted((m for m in moves if m[3] < 0), key=lambda m: (m[3], m[0]))[:limit]
    chosen = {m[0]: m for m in ups + downs}
    names = {aid: rest for aid, *rest in conn.execute(_NAMES, {"ids": list(chosen)})}
    rows = [
        (aid, *names[aid], a, b, c, "up" if c > 0 else "down")
        for aid, a, b, c in sorted(chosen.values(), key=lambda m: (-m[3], m[0]))
    ]
    return pd.DataFrame(rows, columns=MOVER_COLUMNS)


_NAMES = (
    select(Assessment.id, Organization.name, Product.name, Assessment.cycle)
    .join(Organization, Organization.id == Assessment.organization_id)
    .join(Product, Product.id == Assessment.product_id)
    .where(Assessment.id.in_(bindparam("ids", expanding=True)))
)


@lru_cache(maxsize=256)
def _statements(
    actor: Actor, filters: Filters, seen: str, limit: int
) -> tuple[Select[*tuple[Any, ...]], ...]:
    """The statements of (aid, start, end, change) that hold the top rises and falls, built once
    per scope and filters (building and keying them costs more than running them)."""
    first, last = Assessment.first_snapshot_at, Assessment.last_snapshot_at
    whole: ColumnElement[bool] = first.is_not(None)
    if filters.since is not None:
        whole &= first >= filters.since
    if filters.until is not None:
        whole &= last < filters.until
    change = Assessment.overall_change
    stmt = select(Assessment.id, Assessment.latest_score - change, Assessment.latest_score, change)
    out = [
        scope(stmt.where(whole, kept), actor, filters, seen)
        .order_by(order, Assessment.id)
        .limit(limit)
        for kept, order in ((change > 0, change.desc()), (change < 0, change))
    ]
    if filters.since is not None or filters.until is not None:
        out.append(_partial_moves(actor, filters, seen, limit))
    return tuple(out)


def _partial_moves(
    actor: Actor, filters: Filters, seen: str, limit: int
) -> Select[*tuple[Any, ...]]:
    """(aid, start, end, change) of the top rises and falls among the assessments with a
    snapshot in the range and others outside it, read from score_history."""
    first, last = Assessment.first_snapshot_at, Assessment.last_snapshot_at
    edges = []  # each read by its index: a snapshot before the range, or after it (_ends keeps
    if filters.since is not None:  # only those with one in the range)
        edges.append(select(Assessment.id).where(first < filters.since))
    if filters.until is not None:
        edges.append(select(Assessment.id).where(last >= filters.until))
    some = scope(
        select(Assessment.id).where(Assessment.id.in_(union_all(*edges))), actor, filters, seen
    )
    ends = _ends(actor, filters, seen).where(ScoreHistory.assessment_id.in_(some)).subquery()
    start, end = ScoreHistory.__table__.alias("s0"), ScoreHistory.__table__.alias("s1")
    change = (end.c.overall_score - start.c.overall_score).label("change")
    ranked = (
        select(
            ends.c.aid,
            start.c.overall_score.label("a"),
            end.c.overall_score.label("b"),
            change,
            func.row_number().over(order_by=(change.desc(), ends.c.aid)).label("up"),
            func.row_number().over(order_by=(change, ends.c.aid)).label("down"),
        )
        .join(start, start.c.id == func.coalesce(ends.c.before, ends.c.first))
        .join(end, end.c.id == ends.c.last)
        .where(start.c.overall_score.is_not(None), end.c.overall_score.is_not(None))
    ).subquery()
    return select(ranked.c.aid, ranked.c.a, ranked.c.b, ranked.c.change).where(
        (ranked.c.up <= limit) | (ranked.c.down <= limit)
    )


def _ends(actor: Actor, filters: Filters, seen: str) -> Select[*tuple[Any, ...]]:
    """Per assessment: the newest snapshot id before the range, the first and the last within it
    (snapshot ids grow with time: score_history is append-only)."""
    before: ColumnElement[Any]
    first: ColumnElement[Any]
    if filters.since is None:
        before, first = null().cast(Integer), func.min(ScoreHistory.id)
    else:
        before = func.max(case((ScoreHistory.created_at < filters.since, ScoreHistory.id)))
        first = func.min(case((ScoreHistory.created_at >= filters.since, ScoreHistory.id)))
    stmt = (
        select(
            ScoreHistory.assessment_id.label("aid"),
            before.label("before"),
            first.label("first"),
            func.max(ScoreHistory.id).label("last"),
        )
        .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
        .group_by(ScoreHistory.assessment_id)
        .having(first.is_not(None))
    )
    if filters.until is not None:
        stmt = stmt.where(ScoreHistory.created_at < filters.until)
    return scope(stmt, actor, filters, seen)
