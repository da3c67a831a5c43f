"""The biggest movers: assessments whose score rose or fell most over the date range.

An assessment's move is its score at the range's end minus its score at the start (the newest
snapshot before the start, else the first within the range), read from score_history by id
(score_history is append-only, so ids grow with time).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Integer, Select, case, func, null, select
from sqlalchemy.orm import Session

from core.access import ROLES, Actor, require_role
from core.filters import Filters, scope, seen_by
from core.models import Assessment, Organization, Product, ScoreHistory
from core.settings import get_settings

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
    range); only assessments with a snapshot in the range; columns MOVER_COLUMNS."""
    require_role(actor, *ROLES)
    ends = _ends(actor, filters, seen_by(actor, get_settings(session))).subquery()
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
    rows = session.execute(
        select(
            ranked.c.aid,
            Organization.name,
            Product.name,
            Assessment.cycle,
            ranked.c.a,
            ranked.c.b,
            ranked.c.change,
            case((ranked.c.up <= limit, "up"), else_="down"),
        )
        .join(Assessment, Assessment.id == ranked.c.aid)
        .join(Organization, Organization.id == Assessment.organization_id)
        .join(Product, Product.id == Assessment.product_id)
        .where(
            ((ranked.c.up <= limit) & (ranked.c.change > 0))
            | ((ranked.c.down <= limit) & (ranked.c.change < 0))
        )
        .order_by(ranked.c.change.desc(), ranked.c.aid)
    ).all()
    return pd.DataFrame(rows, columns=MOVER_COLUMNS)


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
