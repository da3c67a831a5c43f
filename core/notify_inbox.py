"""The bell: a person's own outbox rows as in-app notifications, unread count and list, and the
choice per kind of event of how they are e-mailed (immediately, daily digest, off)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor
from core.errors import AccessDenied, ValidationError
from core.mail_messages import describe
from core.models import NotificationPreference, Outbox, utcnow
from core.outbox import BELL_KINDS, KINDS, check_mode, preferences


@dataclass(frozen=True)
class Notification:
    """One line of the bell: what happened, when, the page it opens, and whether it was read."""

    id: int
    title: str
    time: datetime
    page: str  # a page file's stem, "review"
    assessment_id: int | None
    unread: bool


def _mine(actor: Actor) -> list[ColumnElement[bool]]:
    """Rows addressed to the actor; a client's only about their own organisation."""
    if actor.user_id is None:
        raise AccessDenied("Only a signed-in person has notifications.")
    conditions = [Outbox.recipient_id == actor.user_id, Outbox.kind.in_(BELL_KINDS)]
    if actor.is_client:
        conditions.append(
            or_(Outbox.organization_id.is_(None), Outbox.organization_id == actor.organization_id)
        )
    return conditions


def unread_count(session: Session, actor: Actor) -> int:
    """How many of the actor's notifications are unread."""
    stmt = select(func.count()).select_from(Outbox).where(*_mine(actor), Outbox.read_at.is_(None))
    return int(session.scalar(stmt) or 0)


def inbox(session: Session, actor: Actor, *, limit: int = 20) -> list[Notification]:
    """The actor's newest notifications, newest first."""
    rows = session.scalars(
        select(Outbox).where(*_mine(actor)).order_by(Outbox.id.desc()).limit(limit)
    )
    items = []
    for row in rows:
        said = describe(row.kind, row.data)
        page, _, _ = said.link.partition("?")
        items.append(
            Notification(
                row.id, said.subject, row.created_at, page, row.assessment_id, row.read_at is None
            )
        )
    return items


def mark_read(
    session: Session, actor: Actor, ids: list[int] | None = None, *, now: datetime | None = None
) -> int:
    """Mark the actor's notifications read (the given ones, or all); returns how many changed."""
    stmt = update(Outbox).where(*_mine(actor), Outbox.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Outbox.id.in_(ids))
    result = session.execute(stmt.values(read_at=now or utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def my_preferences(session: Session, actor: Actor) -> dict[str, str]:
    """The actor's choice for each kind of event that reaches people of their side (clients or
    staff), immediately by default."""
    if actor.user_id is None:
        raise AccessDenied("Only a signed-in person has preferences.")
    stored = preferences(session, [actor.user_id])
    audience = "client" if actor.is_client else "staff"
    return {
        kind: stored.get((actor.user_id, kind), "immediate")
        for kind, spec in KINDS.items()
        if spec.configurable and spec.audience == audience
    }


def set_preferences(
    session: Session, actor: Actor, choices: dict[str, str], *, now: datetime | None = None
) -> None:
    """Store the actor's own choices (one person changes only their own), audited."""
    if actor.user_id is None:
        raise AccessDenied("Only a signed-in person has preferences.")
    now = now or utcnow()
    before = my_preferences(session, actor)
    changed = {}
    for kind, mode in choices.items():
        if kind not in before:
            raise ValidationError(f"{kind} is not a kind of notification one can choose.")
        if before.get(kind) == check_mode(mode):
            continue
        row = session.get(NotificationPreference, (actor.user_id, kind))
        if row is None:
            session.add(NotificationPreference(user_id=actor.user_id, kind=kind, mode=mode))
        else:
            row.mode, row.updated_at = mode, now
        changed[kind] = [before.get(kind), mode]
    if changed:
        audit.record(
            session,
            actor,
            "notification_preferences_changed",
            object_type="user",
            object_id=actor.user_id,
            detail=changed,
            now=now,
        )
