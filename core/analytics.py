"""Read-only aggregates for the home pages and the overview; SQL does the grouping.

Every aggregate is restricted by core.filters.scope() to what the actor may read and to the
filters, and returns small DataFrames ready for core.dashboard_charts. The assessments that need
attention are in core/attention.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.access import ROLES, STAFF, Actor, require_role, scope_to_org
from core.filters import Filters, org_filter, scope, seen_by
from core.models import (
    STATUSES,
    TIERS,
    Assessment,
    AuditLog,
    Organization,
    Product,
    Questionnaire,
    utcnow,
)
from core.scoring import BAND_NAMES
from core.settings import get_settings

WAITING = ("submitted", "under_review")


def portfolio_totals(session: Session, actor: Actor) -> dict:
    """Organisations, products, assessments, average latest score and mean completion."""
    require_role(actor, *STAFF)
    orgs = session.scalar(
        select(func.count()).select_from(Organization).where(Organization.is_active)
    )
    products = session.scalar(select(func.count()).select_from(Product).where(Product.is_active))
    row = session.execute(
        select(
            func.count(), func.avg(Assessment.latest_score), func.avg(Assessment.completion)
        ).where(Assessment.is_active)
    ).one()
    return {
        "organizations": orgs,
        "products": products,
        "assessments": row[0],
        "average_score": row[1],
        "average_completion": row[2],
    }


def status_frame(session: Session, actor: Actor) -> pd.DataFrame:
    """Assessments per status (every status listed, in workflow order), within the actor's scope."""
    stmt = (
        select(Assessment.status, func.count().label("assessments"))
        .where(Assessment.is_active)
        .group_by(Assessment.status)
    )
    counts = dict(session.execute(scope_to_org(stmt, actor, Assessment.organization_id)).all())
    return pd.DataFrame(
        {"status": list(STATUSES), "assessments": [counts.get(s, 0) for s in STATUSES]}
    )


def band_frame(session: Session, actor: Actor) -> pd.DataFrame:
    """Assessments per latest risk band within the actor's scope (scored ones only)."""
    stmt = (
        select(Assessment.latest_band.label("band"), func.count().label("assessments"))
        .where(Assessment.is_active, Assessment.latest_band.is_not(None))
        .group_by(Assessment.latest_band)
    )
    rows = session.execute(scope_to_org(stmt, actor, Assessment.organization_id)).all()
    return pd.DataFrame(rows, columns=["band", "assessments"])


def _counts(session: Session, actor: Actor, filters: Filters) -> tuple[int, int]:
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
    return session.execute(select(orgs.scalar_subquery(), products.scalar_subquery())).one()


def overview(
    session: Session, actor: Actor, filters: Filters, *, now: datetime | None = None
) -> dict:
    """Totals, assessments per status and per latest band, the funnel and the overdue count."""
    require_role(actor, *ROLES)
    settings = get_settings(session)
    cutoff = (now or utcnow()) - timedelta(days=settings["review_sla_days"])
    late = case((Assessment.status.in_(WAITING) & (Assessment.submitted_at < cutoff), 1), else_=0)
    sent = case((Assessment.submitted_at.is_not(None), 1), else_=0)
    stmt = select(
        Assessment.status,
        Assessment.latest_band,
        func.count(),
        func.sum(Assessment.latest_score),
        func.count(Assessment.latest_score),
        func.sum(Assessment.completion),
        func.sum(sent),
        func.sum(late),
    ).group_by(Assessment.status, Assessment.latest_band)
    seen = seen_by(actor, settings)
    rows = session.execute(scope(stmt, actor, filters, seen)).all()
    return _summarise(rows, *_counts(session, actor, filters))


def _summarise(rows: list, organizations: int, products: int) -> dict:
    by_status, by_band = dict.fromkeys(STATUSES, 0), dict.fromkeys(BAND_NAMES, 0)
    for status, band, n, *_ in rows:
        by_status[status] += n
        if band is not None:
            by_band[band] = by_band.get(band, 0) + n
    total = sum(by_status.values())
    scored, score_sum, done, sent, late = (sum(r[i] or 0 for r in rows) for i in (4, 3, 5, 6, 7))
    totals = {
        "organizations": int(organizations),
        "products": int(products),
        "assessments": total,
        "by_status": by_status,
        "average_score": score_sum / scored if scored else None,
        "completion_rate": done / total if total else None,
        "overdue": int(late),
        "scored": int(scored),
    }
    funnel = [
        ("Started", total),
        ("Answering", total - by_status["not_started"]),
        ("Submitted", int(sent)),
        ("Decided", by_status["approved"] + by_status["rejected"]),
        ("Approved", by_status["approved"]),
    ]
    return {
        "totals": totals,
        "statuses": pd.DataFrame(list(by_status.items()), columns=["status", "assessments"]),
        "bands": pd.DataFrame(
            [(b, n) for b, n in by_band.items() if n], columns=["band", "assessments"]
        ),
        "funnel": pd.DataFrame(funnel, columns=["stage", "assessments"]),
    }


def data_version(session: Session) -> int:
    """The newest audit row id: every write appends one, so it moves whenever the data does."""
    return int(session.scalar(select(func.max(AuditLog.id))) or 0)


def filter_options(session: Session, actor: Actor) -> dict:
    """Choices for the shared filters: organisations the actor may read, questionnaire versions
    with assessments in scope, organisation industries and tiers."""
    orgs = scope_to_org(
        select(Organization.id, Organization.name).where(Organization.is_active),
        actor,
        Organization.id,
    )
    questionnaires = scope(
        select(Questionnaire.id, Questionnaire.title, Questionnaire.version).join(
            Assessment, Assessment.questionnaire_id == Questionnaire.id
        ),
        actor,
        Filters(),
        seen_by(actor, get_settings(session)),
    ).distinct()
    industries = (
        select(Organization.industry)
        .where(Organization.is_active, Organization.industry != "")
        .distinct()
    )
    return {
        "organizations": [tuple(r) for r in session.execute(orgs.order_by(Organization.name))],
        "questionnaires": [
            (i, f"{t} v{v}")
            for i, t, v in session.execute(
                questionnaires.order_by(Questionnaire.title, Questionnaire.version)
            )
        ],
        "industries": sorted(session.scalars(industries)),
        "tiers": list(TIERS),
    }
