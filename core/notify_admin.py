"""The admin's view of the outbox: how many rows are queued, sent and failed, the rows with
their errors, and a retry for what failed (each retry audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_role
from core.errors import NotFound, ValidationError
from core.mail_messages import describe
from core.models import OUTBOX_STATUSES, Outbox, User, utcnow
from core.webhooks import subject as webhook_subject

STATUS_LABELS = {
    "queued": "Queued",
    "digest": "Waiting for the daily digest",
    "digested": "Sent in a daily digest",
    "sent": "Sent",
    "failed": "Failed",
    "skipped": "Not e-mailed",
}


@dataclass(frozen=True)
class OutboxItem:
    """One outbox row as the admin page lists it."""

    id: int
    created_at: datetime
    kind: str
    subject: str
    recipient: str
    address: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    error: str


def outbox_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Rows per status (every status present, zero where none)."""
    require_role(actor, "admin")
    rows = session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
    counts = dict.fromkeys(OUTBOX_STATUSES, 0)
    for status, count in rows:  # dict(rows) would read the Result as a mapping
        counts[status] = count
    return counts


def outbox_rows(
    session: Session, actor: Actor, *, status: str | None = None, limit: int = 200
) -> list[OutboxItem]:
    """The newest rows (of one status, if given) with their errors."""
    require_role(actor, "admin")
    stmt = (
        select(Outbox, User.name)
        .outerjoin(User, User.id == Outbox.recipient_id)
        .order_by(Outbox.id.desc())
        .limit(limit)
    )
    if status is not None:
        stmt = stmt.where(Outbox.status == status)
    return [
        OutboxItem(
            id=row.id,
            created_at=row.created_at,
            kind=row.kind,
            subject=(
                webhook_subject(row.kind, row.data)
                if row.channel == "webhook"
                else describe(row.kind, row.data).subject
            ),
            recipient=name or "",
            address=row.address,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if row.status == "queued" else None,
            sent_at=row.sent_at,
            error=row.last_error,
        )
        for row, name in session.execute(stmt)
    ]


def retry(session: Session, actor: Actor, row_id: int, *, now: datetime | None = None) -> None:
    """Queue a failed row again, due now, with all its tries back (admins only)."""
    require_role(actor, "admin")
    now = now or utcnow()
    row = session.get(Outbox, row_id)
    if row is None:
        raise NotFound("That notification does not exist.")
    if row.status != "failed":
        raise ValidationError("Only a failed notification can be tried again.")
    row.status, row.attempts, row.next_attempt_at, row.updated_at = "queued", 0, now, now
    audit.record(
        session,
        actor,
        "notification_retried",
        object_type="outbox",
        object_id=row.id,
        detail={"kind": row.kind, "error": row.last_error[:200]},
        now=now,
    )


def retry_failed(session: Session, actor: Actor, *, now: datetime | None = None) -> int:
    """Queue every failed row again; returns how many (one audit row for them all)."""
    require_role(actor, "admin")
    now = now or utcnow()
    result = session.execute(
        update(Outbox)
        .where(Outbox.status == "failed")
        .values(status="queued", attempts=0, next_attempt_at=now, updated_at=now)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        audit.record(
            session,
            actor,
            "notifications_retried",
            object_type="outbox",
            detail={"count": count},
            now=now,
        )
    return count
