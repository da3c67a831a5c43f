"""The admin's view of sign-ins: recent attempts, and the sessions live now."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, require_role
from core.models import AuthSession, SignInAttempt, User, utcnow
from core.settings import get_settings


def sign_in_activity(session: Session, actor: Actor, *, limit: int = 200) -> list[dict]:
    """Recent sign-in attempts, newest first (admins only)."""
    require_role(actor, "admin")
    rows = session.scalars(
        select(SignInAttempt).order_by(SignInAttempt.id.desc()).limit(limit)
    ).all()
    return [
        {
            "time": r.created_at,
            "username": r.username,
            "succeeded": r.succeeded,
            "client_address": r.client_address,
        }
        for r in rows
    ]


def active_sessions(session: Session, actor: Actor, *, now: datetime | None = None) -> list[dict]:
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
    return [
        {
            "username": name,
            "signed_in": s.issued_at,
            "last_seen": s.last_seen_at,
            "client_address": s.client_address,
        }
        for s, name in rows
    ]
