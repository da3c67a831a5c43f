"""Sign-in and server-side sessions: who may sign in, opening, checking, resuming and ending a
session, and the remember-me cookie bound to one.

Passwords are core/passwords.py; the admin's view of sign-ins and live sessions core/sign_ins.py.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from core import audit, throttle
from core.access import Actor
from core.errors import NotFound, ValidationError
from core.models import AuthSession, Organization, User, utcnow
from core.settings import get_settings

FAILED_SIGN_IN = "Incorrect username or password."


class Credential(TypedDict):
    """One account as streamlit-authenticator's credentials mapping holds it."""

    name: str
    email: str
    roles: list[str]
    password: str  # a bcrypt hash


@dataclass(frozen=True)
class UserSummary:
    """Who is signed in, as the sidebar and the profile page show it."""

    name: str
    role: str
    organization: str  # its name, or "" for staff
    must_change_password: bool


def credentials(
    session: Session, *, client_address: str = "", now: datetime | None = None
) -> dict[str, dict[str, Credential]]:
    """The credentials streamlit-authenticator checks (``{"usernames": {name: Credential}}``):
    every active account, with a hash no password matches for one in a cooldown or for every one
    when the address is throttled."""
    now = now or utcnow()
    blocked = throttle.address_blocked(session, client_address, now)
    users = session.scalars(select(User).where(User.is_active)).all()
    return {
        "usernames": {
            u.username: {
                "name": u.name,
                "email": u.email,
                "roles": [u.role],
                "password": _refusing(u.password_hash)
                if blocked or throttle.is_locked(u, now)
                else u.password_hash,
            }
            for u in users
        }
    }


def _refusing(password_hash: str) -> str:
    # Same bcrypt cost and salt, another checksum: the form still runs the hash (same timing as a
    # wrong password) and still records the attempt under the typed username, but cannot succeed.
    return password_hash[:29] + "." * 31


def actor_for(session: Session, username: str, session_id: str = "") -> Actor | None:
    """The Actor of an active user, or None."""
    user = session.scalar(select(User).where(User.username == username, User.is_active))
    if user is None:
        return None
    return Actor(
        user_id=user.id,
        username=user.username,
        role=user.role,
        organization_id=user.organization_id,
        session_id=session_id,
    )


def open_session(
    session: Session,
    username: str,
    *,
    client_address: str = "",
    via: str = "",
    second_factor: str = "",
    now: datetime | None = None,
) -> Actor:
    """Start a new server-side session at sign-in and record the sign-in: `via` names the single
    sign-on provider ("" for the password form), `second_factor` how one was given ("code" for
    ours, "provider" for the provider's, "" for none)."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username, User.is_active))
    if user is None or throttle.is_locked(user, now):
        raise ValidationError(FAILED_SIGN_IN)
    sid = secrets.token_urlsafe(32)
    session.add(
        AuthSession(
            id=sid,
            user_id=user.id,
            issued_at=now,
            last_seen_at=now,
            client_address=client_address[:64],
            via=via[:64],
            second_factor=second_factor,
        )
    )
    throttle.record_success(session, user, client_address, now)
    user.last_login_at = now
    actor = Actor(user.id, user.username, user.role, user.organization_id, sid)
    detail = {"via": via} if via else None
    audit.record(
        session, actor, "sign_in", object_type="user", object_id=user.id, detail=detail, now=now
    )
    return actor


def record_failed_sign_in(
    session: Session, username: str, *, client_address: str = "", now: datetime | None = None
) -> None:
    """Count a failed sign-in (account and address) and audit it, never with the password."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username)) if username else None
    throttle.record_failure(session, user, username, client_address, now)
    audit.record(
        session,
        None,
        "sign_in_failed",
        object_type="user",
        object_id=user.id if user else "",
        detail={"username": username[:64]},
        now=now,
    )


def check_session(session: Session, sid: str, *, now: datetime | None = None) -> Actor | None:
    """The Actor of a live session (touching it), or None if revoked, idle or too old."""
    return _touch_live(session, session.get(AuthSession, sid), now or utcnow())


def session_lifetime(session: Session) -> timedelta:
    """The absolute timeout: no session, and so no remember-me cookie, lives longer."""
    return timedelta(hours=get_settings(session)["session_absolute_hours"])


def cookie_fingerprint(token: str) -> str:
    """SHA-256 of a remember-me cookie: the database never holds the cookie itself."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bind_cookie(session: Session, sid: str, token: str) -> None:
    """Record the remember-me cookie issued with this session; it is valid only with it."""
    row = session.get(AuthSession, sid)
    if row is None:
        raise NotFound("That session does not exist.")
    row.cookie_hash = cookie_fingerprint(token)


def resume_session(session: Session, token: str, *, now: datetime | None = None) -> Actor | None:
    """The Actor of the live session a remember-me cookie was issued with (touching it), or None
    when that session was signed out, revoked, timed out or never existed."""
    now = now or utcnow()
    row = session.scalar(
        select(AuthSession).where(AuthSession.cookie_hash == cookie_fingerprint(token))
    )
    actor = _touch_live(session, row, now)
    if actor is not None:
        audit.record(
            session, actor, "session_resumed", object_type="user", object_id=actor.user_id, now=now
        )
    return actor


def _touch_live(session: Session, row: AuthSession | None, now: datetime) -> Actor | None:
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    settings = get_settings(session)
    idle = timedelta(minutes=settings["session_idle_minutes"])
    absolute = timedelta(hours=settings["session_absolute_hours"])
    expired = now - row.last_seen_at > idle or now - row.issued_at > absolute
    if expired or user is None or not user.is_active:
        row.revoked_at, row.revoked_reason = now, "expired" if expired else "deactivated"
        return None
    row.last_seen_at = now
    return Actor(user.id, user.username, user.role, user.organization_id, row.id)


def close_session(session: Session, actor: Actor, *, now: datetime | None = None) -> None:
    """Sign out: revoke this server-side session, and with it the remember-me cookie bound to it."""
    now = now or utcnow()
    user = session.get(User, actor.user_id)
    if user is not None:
        user.sessions_valid_after = now
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == actor.session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason="sign_out", updated_at=now)
    )
    audit.record(session, actor, "sign_out", object_type="user", object_id=actor.user_id, now=now)


def revoke_sessions(
    session: Session, user: User, reason: str, now: datetime, *, keep: str = ""
) -> int:
    """End every live session of a user (but `keep`), and so every cookie bound to one of them."""
    user.sessions_valid_after = now
    result = session.execute(
        update(AuthSession)
        .where(
            AuthSession.user_id == user.id, AuthSession.id != keep, AuthSession.revoked_at.is_(None)
        )
        .values(revoked_at=now, revoked_reason=reason, updated_at=now)
    )
    # An UPDATE gives a CursorResult; Session.execute's annotations only say Result.
    return cast("CursorResult[Any]", result).rowcount


def user_summary(session: Session, actor: Actor) -> UserSummary:
    """Name, role and organisation name of the actor, for the sidebar."""
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("That user does not exist.")
    org = session.get(Organization, user.organization_id) if user.organization_id else None
    return UserSummary(user.name, user.role, org.name if org else "", user.must_change_password)
