"""The admin's view of sign-ins: recent attempts, and the sessions live now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, require_role
from core.models import AuthSession, SignInAttempt, User, utcnow
from core.settings import get_settings


@dataclass(frozen=True)
class SignInRecord:
    """One sign-in attempt, successful or not."""

    time: datetime
    username: str
    succeeded: bool
    client_address: str


@dataclass(frozen=True)
class LiveSession:
    """A session that is neither revoked nor idle past the timeout."""

    username: str
    signed_in: datetime
    last_seen: datetime
    client_address: str


def sign_in_activity(session: Session, actor: Actor, *, limit: int = 200) -> list[SignInRecord]:
    """Recent sign-in attempts, newest first (admins only)."""
    require_role(actor, "admin")
    rows = session.scalars(
        select(SignInAttempt).order_by(SignInAttempt.id.desc()).limit(limit)
    ).all()
    return [SignInRecord(r.created_at, r.username, r.succeeded, r.client_address) for r in rows]


def active_sessions(
    session: Session, actor: Actor, *, now: datetime | None = None
) -> list[LiveSession]:
    """Sessions not revoked and not idle past the timeout, with their users (admins only)."""
    require_role(actor, "admin")
    now = now or utcnow()
    idle = timedelta(minutes=get_settings(session)["session_idle_minutes"])
    rows = session.execute(
        select(AuthSession, User.username)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.revoked_at.is_(None), AuthSession.last_seen_at > now - idle)
        .order_by(AuthSession.last_seen_at.desc())
    ).all()
    return [LiveSession(name, s.issued_at, s.last_seen_at, s.client_address) for s, name in rows]
