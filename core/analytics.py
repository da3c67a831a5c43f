"""Read-only aggregates for the home pages and the overview; SQL does the grouping.

Every aggregate is restricted by core.filters.scope() to what the actor may read and to the
filters, and returns small DataFrames ready for core.dashboard_charts. The assessments that need
attention are in core/attention.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import Row, Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from core.access import ROLES, STAFF, Actor, require_role, scope_to_org
from core.filters import Filters, org_filter, rollups_answer, scope, scope_rollup, visibility
from core.models import (
    STATUSES,
    TIERS,
    Assessment,
    AuditLog,
    Organization,
    Product,
    Questionnaire,
    StatusRollup,
    utcnow,
)
from core.scoring import BAND_NAMES
from core.settings import get_setting

WAITING = ("submitted", "under_review")
R = StatusRollup  # the read model's assessments per organisation, version, status and band


@dataclass(frozen=True)
class PortfolioTotals:
    """The portfolio home's figures: active organisations, products and assessments, the
    average latest score (0-100) and mean completion (0-1); None while there is nothing."""

    organizations: int
    products: int
    assessments: int
    average_score: float | None
    average_completion: float | None


@dataclass(frozen=True)
class OverviewTotals:
    """The overview's figures within the filters: counts, assessments per status, the average
    latest score (0-100) of the scored ones, mean completion (0-1), overdue reviews."""

    organizations: int
    products: int
    assessments: int
    by_status: dict[str, int]
    average_score: float | None
    completion_rate: float | None
    overdue: int
    scored: int


@dataclass(frozen=True)
class Overview:
    """The overview: its totals, and frames of assessments per status (status, assessments),
    per latest band (band, assessments) and through the funnel (stage, assessments)."""

    totals: OverviewTotals
    statuses: pd.DataFrame
    bands: pd.DataFrame
    funnel: pd.DataFrame


class Choice(NamedTuple):
    """One option of a filter: the value it stands for and the label shown."""

    value: int
    label: str


@dataclass(frozen=True)
class FilterOptions:
    """What the shared filters offer: organisations and questionnaire versions as choices,
    industries and tiers as their stored values."""

    organizations: list[Choice]
    questionnaires: list[Choice]
    industries: list[str]
    tiers: list[str]


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def portfolio_totals(session: Session, actor: Actor) -> PortfolioTotals:
    """Organisations, products, assessments, average latest score and mean completion."""
    require_role(actor, *STAFF)
    orgs = session.scalar(
        select(func.count()).select_from(Organization).where(Organization.is_active)
    )
    products = session.scalar(select(func.count()).select_from(Product).where(Product.is_active))
    assessments, scored, score, completion = session.execute(
        select(
            func.sum(R.assessments),
            func.sum(R.scored),
            func.sum(R.score_sum),
            func.sum(R.completion_sum),
        )
    ).one()
    return PortfolioTotals(
        organizations=int(orgs or 0),
        products=int(products or 0),
        assessments=int(assessments or 0),
        average_score=score / scored if scored else None,
        average_completion=completion / assessments if assessments else None,
    )


def status_frame(session: Session, actor: Actor) -> pd.DataFrame:
    """Assessments per status (every status listed, in workflow order), within the actor's scope."""
    stmt = select(R.status, func.sum(R.assessments)).group_by(R.status)
    counts = dict(session.execute(scope_to_org(stmt, actor, R.organization_id)).all())
    return pd.DataFrame(
        {"status": list(STATUSES), "assessments": [counts.get(s, 0) for s in STATUSES]}
    )


def band_frame(session: Session, actor: Actor) -> pd.DataFrame:
    """Assessments per latest risk band within the actor's scope (scored ones only)."""
    stmt = (
        select(R.band, func.sum(R.assessments))
        .where(R.band != "")
        .group_by(R.band)
        .order_by(R.band)
    )
    rows = session.execute(scope_to_org(stmt, actor, R.organization_id)).all()
    return pd.DataFrame(rows, columns=["band", "assessments"])


def _counts(actor: Actor, filters: Filters) -> Select[int, int]:
    """(active organisations, active products) within the actor's scope and the filters."""
    orgs = org_filter(
        scope_to_org(
            select(func.count()).select_from(Organization).where(Organization.is_active),
            actor,
            Organization.id,
        ),
        filters,
        Organization.id,
    )
    products = org_filter(
        scope_to_org(
            select(func.count()).select_from(Product).where(Product.is_active),
            actor,
            Product.organization_id,
        ),
        filters,
        Product.organization_id,
    )
    return select(orgs.scalar_subquery(), products.scalar_subquery())


@lru_cache(maxsize=256)
def _overview_statements(
    actor: Actor, filters: Filters, seen: str
) -> tuple[Select[*tuple[Any, ...]], Select[int], Select[int, int]]:
    """The overview's rows per status and band, its overdue count (the review cutoff bound as
    "cutoff") and its organisation and product counts, built once per scope and filters."""
    if rollups_answer(actor, seen, filters):  # the roll-ups per organisation and version
        stmt = select(
            R.status.label("status"),
            func.nullif(R.band, "").label("band"),
            func.sum(R.assessments).label("n"),
            func.sum(R.score_sum).label("score_sum"),
            func.sum(R.scored).label("scored"),
            func.sum(R.completion_sum).label("done"),
            func.sum(R.submitted).label("sent"),
        ).group_by(R.status, R.band)
        grouped = scope_rollup(stmt, actor, filters, R)
    else:  # the assessments: one lead reviewer's, or narrowed by the accepted share
        sent = case((Assessment.submitted_at.is_not(None), 1), else_=0)
        stmt = select(
            Assessment.status.label("status"),
            Assessment.latest_band.label("band"),
            func.count().label("n"),
            func.sum(Assessment.latest_score).label("score_sum"),
            func.count(Assessment.latest_score).label("scored"),
            func.sum(Assessment.completion).label("done"),
            func.sum(sent).label("sent"),
        ).group_by(Assessment.status, Assessment.latest_band)
        grouped = scope(stmt, actor, filters, seen)
    late = select(func.count()).where(
        Assessment.status.in_(WAITING),
        Assessment.submitted_at < bindparam("cutoff"),  # typed as the column
    )
    return grouped, scope(late, actor, filters, seen), _counts(actor, filters)


def overview(
    session: Session, actor: Actor, filters: Filters, *, now: datetime | None = None
) -> Overview:
    """Totals, assessments per status and per latest band, the funnel and the overdue count."""
    require_role(actor, *ROLES)
    cutoff = (now or utcnow()) - timedelta(days=get_setting(session, "review_sla_days"))
    grouped, late, counted = _overview_statements(actor, filters, visibility(session, actor))
    conn = session.connection()
    rows = conn.execute(grouped).all()
    overdue = conn.scalar(late, {"cutoff": cutoff}) or 0
    organizations, products = conn.execute(counted).one()
    return _summarise(rows, overdue, int(organizations), int(products))


def _summarise(
    rows: Sequence[Row[Any]], overdue: int, organizations: int, products: int
) -> Overview:
    by_status, by_band = dict.fromkeys(STATUSES, 0), dict.fromkeys(BAND_NAMES, 0)
    for row in rows:
        by_status[row.status] += row.n
        if row.band is not None:
            by_band[row.band] = by_band.get(row.band, 0) + row.n
    total = sum(by_status.values())

    def summed(column: str) -> Any:
        return sum(getattr(r, column) or 0 for r in rows)

    scored, score_sum, done = summed("scored"), summed("score_sum"), summed("done")
    totals = OverviewTotals(
        organizations=organizations,
        products=products,
        assessments=total,
        by_status=by_status,
        average_score=score_sum / scored if scored else None,
        completion_rate=done / total if total else None,
        overdue=int(overdue),
        scored=int(scored),
    )
    funnel = [
        ("Started", total),
        ("Answering", total - by_status["not_started"]),
        ("Submitted", int(summed("sent"))),
        ("Decided", by_status["approved"] + by_status["rejected"]),
        ("Approved", by_status["approved"]),
    ]
    return Overview(
        totals=totals,
        statuses=pd.DataFrame(list(by_status.items()), columns=["status", "assessments"]),
        bands=pd.DataFrame(
            [(b, n) for b, n in by_band.items() if n], columns=["band", "assessments"]
        ),
        funnel=pd.DataFrame(funnel, columns=["stage", "assessments"]),
    )


def data_version(session: Session) -> int:
    """The newest audit row id but a resumed session's: every write appends one, so it moves
    whenever the data does. A page load that resumes a session from its cookie also appends one
    and changes nothing the dashboards show (but the count of those rows on User activity), so
    it leaves the version, and the cached aggregates, as they were."""
    newest = select(func.max(AuditLog.id)).where(AuditLog.action != "session_resumed")
    return int(session.scalar(newest) or 0)


def filter_options(session: Session, actor: Actor) -> FilterOptions:
    """Choices for the shared filters: organisations the actor may read, questionnaire versions
    with assessments in scope, organisation industries and tiers."""
    orgs = scope_to_org(
        select(Organization.id, Organization.name).where(Organization.is_active),
        actor,
        Organization.id,
    )
    seen = visibility(session, actor)
    listed = select(Questionnaire.id, Questionnaire.title, Questionnaire.version)
    if rollups_answer(actor, seen, Filters()):
        questionnaires = scope_rollup(
            listed.join(R, R.questionnaire_id == Questionnaire.id), actor, Filters(), R
        ).distinct()
    else:
        questionnaires = scope(
            listed.join(Assessment, Assessment.questionnaire_id == Questionnaire.id),
            actor,
            Filters(),
            seen,
        ).distinct()
    industries = (
        select(Organization.industry)
        .where(Organization.is_active, Organization.industry != "")
        .distinct()
    )
    return FilterOptions(
        organizations=[
            Choice(i, name) for i, name in session.execute(orgs.order_by(Organization.name))
        ],
        questionnaires=[
            Choice(i, f"{t} v{v}")
            for i, t, v in session.execute(
                questionnaires.order_by(Questionnaire.title, Questionnaire.version)
            )
        ],
        industries=sorted(session.scalars(industries)),
        tiers=list(TIERS),
    )
