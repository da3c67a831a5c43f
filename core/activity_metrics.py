"""User activity: sign-ins per day, active users by role, audited actions by type.

For admins, security managers and analysts; the date range of the filters applies (the
organisation filters do not: sign-ins and the audit trail belong to people, not to products).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Integer, case, cast, distinct, func, select
from sqlalchemy.orm import Session

from core.access import OVERSIGHT, ROLES, Actor, require_role
from core.filters import Filters
from core.models import AuditLog, SignInAttempt, User
from core.periods import day_of


def sign_ins_frame(session: Session, actor: Actor, filters: Filters) -> pd.DataFrame:
    """Successful and failed sign-in attempts per UTC day: day, succeeded, failed."""
    require_role(actor, *OVERSIGHT)
    day = day_of(SignInAttempt.created_at)
    ok = cast(func.sum(case((SignInAttempt.succeeded, 1), else_=0)), Integer)
    stmt = filters.in_range(select(day, ok, func.count() - ok), SignInAttempt.created_at)
    rows = session.execute(stmt.group_by(day).order_by(day)).all()
    return pd.DataFrame(rows, columns=["day", "succeeded", "failed"])


def active_users_frame(session: Session, actor: Actor, filters: Filters) -> pd.DataFrame:
    """Per role: people who signed in successfully in the date range, and active accounts."""
    require_role(actor, *OVERSIGHT)
    signed = filters.in_range(
        select(User.role, func.count(distinct(SignInAttempt.user_id)))
        .join(User, User.id == SignInAttempt.user_id)
        .where(SignInAttempt.succeeded),
        SignInAttempt.created_at,
    )
    active = dict(session.execute(signed.group_by(User.role)).all())
    accounts = dict(
        session.execute(
            select(User.role, func.count()).where(User.is_active).group_by(User.role)
        ).all()
    )
    return pd.DataFrame(
        [(r, int(active.get(r, 0)), int(accounts.get(r, 0))) for r in ROLES],
        columns=["role", "active_users", "accounts"],
    )


def actions_frame(
    session: Session, actor: Actor, filters: Filters, *, limit: int = 20
) -> pd.DataFrame:
    """The most frequent audited actions in the date range: action, count (most first)."""
    require_role(actor, *OVERSIGHT)
    stmt = filters.in_range(select(AuditLog.action, func.count().label("n")), AuditLog.created_at)
    rows = session.execute(
        stmt.group_by(AuditLog.action).order_by(func.count().desc(), AuditLog.action).limit(limit)
    ).all()
    return pd.DataFrame(rows, columns=["action", "count"])
