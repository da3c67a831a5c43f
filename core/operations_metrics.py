"""Review operations: turnaround, time in each status, change-request rounds, reviewer workload.

Everything is read from the status timeline (product_statuses) and the assessment summary
columns, within the actor's scope (not for clients) and the filters; the date range applies to
when a decision or a status change happened.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session, aliased

from core.access import STAFF, Actor, require_role
from core.analytics import WAITING
from core.filters import Filters, scope, seen_by
from core.models import Assessment, ProductStatus, User, utcnow
from core.periods import days_between, month_of
from core.settings import get_settings
from core.workflow import CLOSED

DECISIONS = ("changes_requested", "approved", "rejected")


def _setup(session: Session, actor: Actor) -> tuple[dict[str, Any], str]:
    require_role(actor, *STAFF)
    settings = get_settings(session)
    return settings, seen_by(actor, settings)


def turnaround_frame(session: Session, actor: Actor, filters: Filters) -> pd.DataFrame:
    """Per month of decision (changes requested, approved, rejected): decisions, mean and longest
    days since the latest submission, and how many took longer than review_sla_days."""
    settings, seen = _setup(session, actor)
    submitted = case((ProductStatus.to_status == "submitted", ProductStatus.created_at))
    last_sent = func.max(submitted).over(
        partition_by=ProductStatus.assessment_id,
        order_by=(ProductStatus.created_at, ProductStatus.id),
        rows=(None, 0),
    )
    steps = scope(
        select(
            ProductStatus.to_status.label("to"),
            ProductStatus.created_at.label("at"),
            last_sent.label("sent"),
        ).join(Assessment, Assessment.id == ProductStatus.assessment_id),
        actor,
        filters,
        seen,
    ).subquery()
    days = days_between(steps.c.sent, steps.c.at)
    stmt = filters.in_range(
        select(
            month_of(steps.c.at).label("month"),
            func.count(),
            func.avg(days),
            func.max(days),
            cast(func.sum(case((days > settings["review_sla_days"], 1), else_=0)), Integer),
        ).where(steps.c.to.in_(DECISIONS), steps.c.sent.is_not(None)),
        steps.c.at,
    )
    rows = session.execute(stmt.group_by(month_of(steps.c.at)).order_by(month_of(steps.c.at))).all()
    return pd.DataFrame(rows, columns=["month", "decisions", "mean_days", "max_days", "over_sla"])


def time_in_status_frame(
    session: Session, actor: Actor, filters: Filters, *, now: datetime | None = None
) -> pd.DataFrame:
    """Per open status: stays that began in the date range, and their mean and longest length in
    days (until the next change; a stay still going counts up to now)."""
    _, seen = _setup(session, actor)
    following = func.lead(ProductStatus.created_at).over(
        partition_by=ProductStatus.assessment_id,
        order_by=(ProductStatus.created_at, ProductStatus.id),
    )
    stays = scope(
        select(
            ProductStatus.to_status.label("status"),
            ProductStatus.created_at.label("began"),
            following.label("ended"),
        ).join(Assessment, Assessment.id == ProductStatus.assessment_id),
        actor,
        filters,
        seen,
    ).subquery()
    days = days_between(stays.c.began, func.coalesce(stays.c.ended, now or utcnow()))
    stmt = filters.in_range(
        select(stays.c.status, func.count(), func.avg(days), func.max(days)).where(
            stays.c.status.not_in(CLOSED)
        ),
        stays.c.began,
    )
    rows = session.execute(stmt.group_by(stays.c.status)).all()
    return pd.DataFrame(rows, columns=["status", "stays", "mean_days", "max_days"])


def rounds_frame(session: Session, actor: Actor, filters: Filters) -> pd.DataFrame:
    """How many assessments (submitted at least once) went through 0, 1, 2... change requests."""
    _, seen = _setup(session, actor)
    submitted = scope(
        select(Assessment.id, func.count(ProductStatus.id).label("rounds"))
        .outerjoin(
            ProductStatus,
            and_(
                ProductStatus.assessment_id == Assessment.id,
                ProductStatus.to_status == "changes_requested",
            ),
        )
        .where(Assessment.submitted_at.is_not(None)),
        actor,
        filters,
        seen,
    )
    per = filters.in_range(submitted, Assessment.submitted_at).group_by(Assessment.id).subquery()
    rows = session.execute(
        select(per.c.rounds, func.count()).group_by(per.c.rounds).order_by(per.c.rounds)
    ).all()
    return pd.DataFrame(rows, columns=["rounds", "assessments"])


def workload_frame(
    session: Session, actor: Actor, filters: Filters, *, now: datetime | None = None
) -> pd.DataFrame:
    """Per reviewer, now: assessments under review, waiting submissions assigned to them and how
    many of those are overdue (review_sla_days); unassigned submissions on their own row."""
    settings, seen = _setup(session, actor)
    cutoff = (now or utcnow()) - timedelta(days=settings["review_sla_days"])

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return cast(func.sum(case((condition, 1), else_=0)), Integer)

    stmt = scope(
        select(
            func.coalesce(User.name, literal("Unassigned")),
            count(Assessment.status == "under_review"),
            count(Assessment.status == "submitted"),
            count(Assessment.submitted_at < cutoff),
        )
        .outerjoin(User, User.id == Assessment.reviewer_id)
        .where(Assessment.status.in_(WAITING)),
        actor,
        filters,
        seen,
    )
    rows = session.execute(stmt.group_by(User.name).order_by(User.name)).all()
    return pd.DataFrame(rows, columns=["reviewer", "under_review", "submitted", "overdue"])


def decisions_frame(session: Session, actor: Actor, filters: Filters) -> pd.DataFrame:
    """Decisions per month per reviewer in the date range (who made each status change)."""
    _, seen = _setup(session, actor)
    reviewer = aliased(User)
    month = month_of(ProductStatus.created_at)
    stmt = scope(
        select(month.label("month"), func.coalesce(reviewer.name, literal("system")), func.count())
        .join(Assessment, Assessment.id == ProductStatus.assessment_id)
        .outerjoin(reviewer, reviewer.id == ProductStatus.actor_id)
        .where(ProductStatus.to_status.in_(DECISIONS)),
        actor,
        filters,
        seen,
    )
    stmt = filters.in_range(stmt, ProductStatus.created_at)
    rows = session.execute(stmt.group_by(month, reviewer.name).order_by(month, reviewer.name)).all()
    return pd.DataFrame(rows, columns=["month", "reviewer", "decisions"])
