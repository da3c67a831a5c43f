"""Score trends over time: monthly latest score and completion per group.

Biggest movers are in core/movers.py, a product's own history in core/product_history.py.

A month's "latest score" of an assessment is its newest snapshot up to the end of that month,
carried forward through months without a snapshot. Each snapshot is turned into the change it
makes to its group's running totals (LAG over the assessment's snapshots), summed per month with
a running window. The read model keeps those monthly sums per organisation and version
(score_months, core/read_model.py), so the portfolio, organisation and version lines read rows
per organisation and month, not per snapshot; product lines and a lead reviewer's assigned
assessments are read from score_history.

Completion also counts the open assessments that have no snapshot yet (snapshots are taken at
submission, so they are nearly always complete): such an assessment counts from the month it was
started, at its current completion scaled by the share of its answers already given by each
month's end (answers are read only for these assessments, never the whole table).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Select,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.access import ROLES, Actor, require_role
from core.db import rows_of
from core.filters import Filters, Ts, rollups_answer, scope, scope_rollup, visibility
from core.models import (
    Assessment,
    Organization,
    Product,
    Questionnaire,
    QuestionnaireResponse,
    ScoreHistory,
    ScoreMonth,
    utcnow,
)
from core.periods import day_start, month_of, months_between

GROUPS = ("portfolio", "organization", "product", "questionnaire")
MAX_SERIES = 20  # product lines computed at most (the first by name within the filters)
TREND_COLUMNS = ["month", "group", "score", "completion", "assessments"]
Key = tuple[int, str]  # (group id, month)
GroupColumn = InstrumentedAttribute[int] | ColumnElement[int]


def _group_key(group: str) -> GroupColumn:
    if group not in GROUPS:
        raise ValueError(f"group must be one of {', '.join(GROUPS)}")
    keys: dict[str, GroupColumn] = {
        "portfolio": literal(0),
        "organization": Assessment.organization_id,
        "product": Assessment.product_id,
        "questionnaire": Assessment.questionnaire_id,
    }
    return keys[group]


def _names(conn: Connection, group: str, ids: Iterable[int]) -> dict[int, str]:
    """Display names of the groups (ids from _group_key)."""
    if group == "portfolio":
        return {0: "All assessments"}
    return {
        key: str(label) for key, label in conn.execute(_name_statement(group), {"ids": list(ids)})
    }


@lru_cache(maxsize=4)
def _name_statement(group: str) -> Select[int, Any]:
    names: dict[str, tuple[InstrumentedAttribute[int], Any]] = {
        "organization": (Organization.id, Organization.name),
        "product": (Product.id, Product.name),
        "questionnaire": (
            Questionnaire.id,
            Questionnaire.title + " v" + func.cast(Questionnaire.version, Questionnaire.title.type),
        ),
    }
    column, name = names[group]
    return select(column, name).where(column.in_(bindparam("ids", expanding=True)))


def _scored(column: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[int]:
    return case((column.is_(None), 0), else_=1)


def _deltas(actor: Actor, filters: Filters, group: str, seen: str) -> Select[*tuple[Any, ...]]:
    """Per snapshot: its group, month, and the change it makes to the group's running sums."""
    partition, order = ScoreHistory.assessment_id, (ScoreHistory.created_at, ScoreHistory.id)
    prev_score = func.lag(ScoreHistory.overall_score).over(partition_by=partition, order_by=order)
    prev_done = func.lag(ScoreHistory.completion).over(partition_by=partition, order_by=order)
    first = case((prev_done.is_(None), 1), else_=0)  # completion is never NULL
    stmt = select(
        _group_key(group).label("g"),
        month_of(ScoreHistory.created_at).label("m"),
        (func.coalesce(ScoreHistory.overall_score, 0) - func.coalesce(prev_score, 0)).label("ds"),
        (_scored(ScoreHistory.overall_score) - (1 - first) * _scored(prev_score)).label("dn"),
        (ScoreHistory.completion - func.coalesce(prev_done, 0)).label("dc"),
        first.label("dk"),
    ).join(Assessment, Assessment.id == ScoreHistory.assessment_id)
    if filters.until is not None:
        stmt = stmt.where(ScoreHistory.created_at < filters.until)
    if group == "product":
        stmt = stmt.where(Assessment.product_id.in_(_first_products(actor, filters)))
    return scope(stmt, actor, filters, seen)


def _month_deltas(
    actor: Actor, filters: Filters, group: str, split: bool
) -> Select[*tuple[Any, ...]]:
    """_deltas summed per organisation, version and month, read from the read model's
    score_months; a last month the range ends inside of (`split`, see _splits_month) is read from
    its snapshots."""
    keys: dict[str, Any] = {
        "portfolio": literal(0),
        "organization": ScoreMonth.organization_id,
        "questionnaire": ScoreMonth.questionnaire_id,
    }
    stmt = scope_rollup(
        select(
            keys[group].label("g"),
            ScoreMonth.month.label("m"),
            ScoreMonth.score_change.label("ds"),
            ScoreMonth.scored_change.label("dn"),
            ScoreMonth.completion_change.label("dc"),
            ScoreMonth.started.label("dk"),
        ),
        actor,
        filters,
        ScoreMonth,
    )
    if filters.until is None or filters.end is None:
        return stmt
    last, month_start = f"{filters.end:%Y-%m}", day_start(filters.end.replace(day=1))
    if not split:  # the month's roll-up is what the range holds
        return stmt.where(ScoreMonth.month <= last)
    in_month = select(ScoreHistory.assessment_id).where(
        ScoreHistory.created_at >= month_start, ScoreHistory.created_at < filters.until
    )
    own = _deltas(actor, filters, group, "all").where(ScoreHistory.assessment_id.in_(in_month))
    cut = own.subquery()
    return union_all(
        stmt.where(ScoreMonth.month < last),
        select(cut.c.g, cut.c.m, cut.c.ds, cut.c.dn, cut.c.dc, cut.c.dk).where(cut.c.m == last),
    )  # type: ignore[return-value]


@lru_cache(maxsize=64)
def _later_in_month(filters: Filters) -> Select[int] | None:
    """A snapshot after the range's end in the month it ends in, None without an end."""
    if filters.until is None or filters.end is None:
        return None
    month_end = day_start((filters.end.replace(day=28) + timedelta(days=4)).replace(day=1))
    return (
        select(ScoreHistory.id)
        .where(ScoreHistory.created_at >= filters.until, ScoreHistory.created_at < month_end)
        .limit(1)
    )


def _splits_month(conn: Connection, filters: Filters) -> bool:
    """Whether the range ends inside a month that has snapshots after its end (that month's
    roll-up holds more than the range)."""
    later = _later_in_month(filters)
    return later is not None and conn.execute(later).first() is not None


def _first_products(actor: Actor, filters: Filters) -> Select[int]:
    products = select(Assessment.product_id).join(Product, Product.id == Assessment.product_id)
    return (
        scope(products, actor, filters)
        .group_by(Assessment.product_id, Product.name)
        .order_by(Product.name)
        .limit(MAX_SERIES)
    )


def _unsnapshotted(
    stmt: Select[*Ts], actor: Actor, filters: Filters, group: str, seen: str
) -> Select[*Ts]:
    """Narrow a statement over Assessment to those in scope with no snapshot before the range's end."""
    first = Assessment.first_snapshot_at  # the read model's first snapshot time
    never = select(Assessment.id).where(first.is_(None))
    if filters.until is not None:
        stmt = stmt.where(Assessment.created_at < filters.until)
        later = select(Assessment.id).where(first >= filters.until)
        stmt = stmt.where(Assessment.id.in_(union_all(never, later)))  # both by index
    else:
        stmt = stmt.where(Assessment.id.in_(never))
    if group == "product":
        stmt = stmt.where(Assessment.product_id.in_(_first_products(actor, filters)))
    return scope(stmt, actor, filters, seen)


def _open_deltas(
    conn: Connection, statements: tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]
) -> dict[Key, list[float]]:
    """Per (group id, month): completion gained and assessments started, for the assessments with
    no snapshot yet (their completion now, spread over the months their answers were given)."""
    started, gained = statements
    out: dict[Key, list[float]] = {}
    for key, month, count in conn.execute(started):
        out[(key, month)] = [0.0, float(count)]
    for key, month, share in conn.execute(gained):
        out.setdefault((key, month), [0.0, 0.0])[0] += float(share or 0)
    return out


def _open_statements(
    actor: Actor, filters: Filters, group: str, seen: str
) -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]:
    """(group id, month, assessments started) and (group id, month, completion gained) of the
    assessments with no snapshot before the range's end."""
    g, started = _group_key(group).label("g"), month_of(Assessment.created_at)
    counted = _unsnapshotted(select(g, started, func.count()), actor, filters, group, seen)
    given = func.coalesce(QuestionnaireResponse.answered_at, QuestionnaireResponse.updated_at)
    share = cast(Assessment.completion, Float) / func.count().over(
        partition_by=QuestionnaireResponse.assessment_id
    )
    # The open assessments first, then their answers by index: never a probe per answer.
    ids = _unsnapshotted(select(Assessment.id), actor, filters, group, seen)
    answers = (
        select(g, given.label("at"), share.label("w"))
        .join(Assessment, Assessment.id == QuestionnaireResponse.assessment_id)
        .where(QuestionnaireResponse.assessment_id.in_(ids))
    ).subquery()
    answered = month_of(answers.c.at)
    gained = select(answers.c.g, answered, func.sum(answers.c.w)).group_by(answers.c.g, answered)
    if filters.until is not None:
        gained = gained.where(answers.c.at < filters.until)
    return counted.group_by(g, started), gained


@lru_cache(maxsize=256)
def _statements(
    actor: Actor, filters: Filters, group: str, seen: str, split: bool | None
) -> tuple[Select[*tuple[Any, ...]], tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]]:
    """The running sums per (group id, month), then _open_statements, built once per scope and
    filters (building and keying them costs more than running them); `split` is None when the
    read model's monthly rows do not answer, else _splits_month."""
    deltas = (
        _deltas(actor, filters, group, seen)
        if split is None
        else _month_deltas(actor, filters, group, split)
    ).subquery()

    def running(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.sum(func.sum(column)).over(partition_by=deltas.c.g, order_by=deltas.c.m)

    window = select(
        deltas.c.g,
        deltas.c.m,
        running(deltas.c.ds),
        running(deltas.c.dn),
        running(deltas.c.dc),
        running(deltas.c.dk),
    ).group_by(deltas.c.g, deltas.c.m)
    return window, _open_statements(actor, filters, group, seen)


def trend_frame(
    session: Session,
    actor: Actor,
    filters: Filters,
    *,
    group: str = "organization",
    today: date | None = None,
) -> pd.DataFrame:
    """Monthly latest score (mean over scored assessments) and completion (mean over assessments,
    open ones without a snapshot included) per group, for every month of the date range from the
    group's first snapshot or start on; columns TREND_COLUMNS."""
    require_role(actor, *ROLES)
    _group_key(group)  # refuses an unknown group before any cache holds it
    seen = visibility(session, actor)
    conn = session.connection()  # Core rows: no ORM result processing
    by_month = rollups_answer(actor, seen, filters) and group != "product"
    split = _splits_month(conn, filters) if by_month else None
    window, opening = _statements(actor, filters, group, seen, split)
    rows = rows_of(session, window)  # a row per group and month: driver tuples
    opened = _open_deltas(conn, opening)
    names = _names(conn, group, {r[0] for r in rows} | {g for g, _ in opened})

    def name(g: int) -> str:
        return names.get(g, str(g))

    return _monthly(
        [(name(g), m, *map(float, sums)) for g, m, *sums in rows],
        {(name(g), m): v for (g, m), v in opened.items()},
        filters,
        today or utcnow().date(),
    )


def _monthly(
    rows: list[tuple[Any, ...]],
    opened: dict[tuple[str, str], list[float]],
    filters: Filters,
    today: date,
) -> pd.DataFrame:
    """Carry each group's running sums through the months without snapshots, add the open
    assessments' running completion and count; keep the range."""
    if not rows and not opened:
        return pd.DataFrame(columns=TREND_COLUMNS)
    sums = {(g, m): rest for g, m, *rest in rows}
    months = months_between(
        date.fromisoformat(min(m for _, m in (*sums, *opened)) + "-01"), filters.end or today
    )
    first = f"{filters.start:%Y-%m}" if filters.start else months[0]
    out = []
    for group in sorted({g for g, _ in (*sums, *opened)}):
        ds = dn = dc = dk = oc = ok = 0.0
        for month in months:
            ds, dn, dc, dk = sums.get((group, month), (ds, dn, dc, dk))
            gained, started = opened.get((group, month), (0.0, 0.0))
            oc, ok = oc + gained, ok + started
            count = round(dk + ok)
            if month >= first and count > 0:
                out.append(
                    (month, group, ds / dn if round(dn) > 0 else None, (dc + oc) / count, count)
                )
    return pd.DataFrame(out, columns=TREND_COLUMNS)
