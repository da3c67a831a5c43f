"""Reading the audit trail for admins: the actions it holds, and one filtered page of rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor, require_role
from core.errors import ValidationError
from core.models import AuditLog, User
from core.paging import Page

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class AuditEntry:
    """One audit row as the admin listing reads it, with the actor's username (None when the
    actor was the system, a stranger, or an account since deleted)."""

    id: int
    created_at: datetime
    actor_id: int | None
    username: str | None
    actor_role: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]


def audit_actions(session: Session) -> list[str]:
    """Every action name present in the trail, for filter options."""
    return list(session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))


def list_audit(
    session: Session,
    actor: Actor,
    *,
    action: str | None = None,
    actor_id: int | None = None,
    object_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Page[AuditEntry]:
    """One page of audit rows, newest first, and the total matching (admins only)."""
    require_role(actor, "admin")
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"page must be 1 or more and page_size 1 to {MAX_PAGE_SIZE}.")
    conditions = [
        c
        for c in (
            AuditLog.action == action if action else None,
            AuditLog.actor_id == actor_id if actor_id is not None else None,
            AuditLog.object_type == object_type if object_type else None,
            AuditLog.created_at >= since if since else None,
            AuditLog.created_at < until if until else None,
        )
        if c is not None
    ]
    count = select(func.count()).select_from(AuditLog).where(*conditions)
    total = session.execute(count).scalar_one()
    stmt = (
        select(
            AuditLog.id,
            AuditLog.created_at,
            AuditLog.actor_id,
            User.username,
            AuditLog.actor_role,
            AuditLog.action,
            AuditLog.object_type,
            AuditLog.object_id,
            AuditLog.detail,
        )
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(*conditions)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return Page([AuditEntry(*row) for row in session.execute(stmt)], total)
