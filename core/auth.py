"""Passwords, sign-in records and server-side sessions."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import bcrypt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor
from core.errors import ValidationError
from core.models import AuthSession, Organization, User, utcnow
from core.settings import get_settings

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_BYTES = 72  # bcrypt ignores or refuses anything longer


def check_password_policy(password: str) -> None:
    """Refuse passwords that are too short or too long for bcrypt; no composition rules."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError(f"The password must be at least {MIN_PASSWORD_CHARS} characters long.")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValidationError(f"The password must be at most {MAX_PASSWORD_BYTES} bytes "
                              "(fewer characters if it uses accents or symbols).")


def hash_password(password: str, rounds: int = 12) -> str:
    """bcrypt hash of a password that passed the policy."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    """True when the password matches; never raises on over-long input."""
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES:
        return False
    return bcrypt.checkpw(data, password_hash.encode())


def generate_password() -> str:
    """A random one-time password (about 96 bits)."""
    return secrets.token_urlsafe(12)


def credentials(session: Session) -> dict:
    """The credentials dict streamlit-authenticator expects, for active users only."""
    rows = session.execute(select(User.username, User.name, User.email, User.role,
                                  User.password_hash).where(User.is_active)).all()
    return {"usernames": {r.username: {"name": r.name, "email": r.email, "roles": [r.role],
                                       "password": r.password_hash} for r in rows}}


def actor_for(session: Session, username: str, session_id: str = "") -> Actor | None:
    """The Actor of an active user, or None."""
    user = session.scalar(select(User).where(User.username == username, User.is_active))
    if user is None:
        return None
    return Actor(user_id=user.id, username=user.username, role=user.role,
                 organization_id=user.organization_id, session_id=session_id)


def open_session(session: Session, username: str, *, client_address: str = "",
                 now: datetime | None = None) -> Actor:
    """Start a new server-side session at sign-in and record the sign-in."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username, User.is_active))
    if user is None:
        raise ValidationError("Incorrect username or password.")
    sid = secrets.token_urlsafe(32)
    session.add(AuthSession(id=sid, user_id=user.id, issued_at=now, last_seen_at=now,
                            client_address=client_address[:64]))
    user.failed_logins = 0
    user.last_login_at = now
    actor = Actor(user.id, user.username, user.role, user.organization_id, sid)
    audit.record(session, actor, "sign_in", object_type="user", object_id=user.id, now=now)
    return actor


def record_failed_sign_in(session: Session, username: str, *, now: datetime | None = None) -> None:
    """Count a failed sign-in against a known account and audit it."""
    user = session.scalar(select(User).where(User.username == username))
    if user is not None:
        user.failed_logins += 1
    audit.record(session, None, "sign_in_failed", object_type="user",
                 object_id=user.id if user else "", detail={"username": username[:64]}, now=now)


def check_session(session: Session, sid: str, *, now: datetime | None = None) -> Actor | None:
    """The Actor of a live session (touching it), or None if revoked, idle or too old."""
    now = now or utcnow()
    row = session.get(AuthSession, sid)
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(User, row.user_id)
    settings = get_settings(session)
    idle = timedelta(minutes=settings["session_idle_minutes"])
    absolute = timedelta(hours=settings["session_absolute_hours"])
    expired = now - row.last_seen_at > idle or now - row.issued_at > absolute
    if expired or not user.is_active:
        row.revoked_at, row.revoked_reason = now, "expired" if expired else "deactivated"
        return None
    row.last_seen_at = now
    return Actor(user.id, user.username, user.role, user.organization_id, sid)


def close_session(session: Session, actor: Actor, *, now: datetime | None = None) -> None:
    """Sign out: revoke this server-side session and refuse remember-me cookies issued before now."""
    now = now or utcnow()
    user = session.get(User, actor.user_id)
    if user is not None:
        user.sessions_valid_after = now
    session.execute(update(AuthSession).where(AuthSession.id == actor.session_id,
                                              AuthSession.revoked_at.is_(None))
                    .values(revoked_at=now, revoked_reason="sign_out", updated_at=now))
    audit.record(session, actor, "sign_out", object_type="user", object_id=actor.user_id, now=now)


def cookie_still_valid(session: Session, username: str, issued_at: datetime) -> bool:
    """A remember-me cookie is refused when issued before the user's sessions were ended."""
    user = session.scalar(select(User).where(User.username == username, User.is_active))
    if user is None:
        return False
    return user.sessions_valid_after is None or issued_at > user.sessions_valid_after


def change_password(session: Session, actor: Actor, *, old: str, new: str, rounds: int = 12,
                    now: datetime | None = None) -> None:
    """Change one's own password: old one required, new one validated; ends other sessions."""
    now = now or utcnow()
    user = session.get(User, actor.user_id)
    if user is None or not verify_password(old, user.password_hash):
        raise ValidationError("The current password is not correct.")
    check_password_policy(new)
    if verify_password(new, user.password_hash):
        raise ValidationError("The new password must differ from the current one.")
    user.password_hash = hash_password(new, rounds)
    user.must_change_password = False
    user.sessions_valid_after = now
    session.execute(update(AuthSession).where(AuthSession.user_id == user.id,
                                              AuthSession.id != actor.session_id,
                                              AuthSession.revoked_at.is_(None))
                    .values(revoked_at=now, revoked_reason="password_change", updated_at=now))
    audit.record(session, actor, "password_changed", object_type="user", object_id=user.id, now=now)


def user_summary(session: Session, actor: Actor) -> dict:
    """Name, role and organisation name of the actor, for the sidebar."""
    user = session.get(User, actor.user_id)
    org = session.get(Organization, user.organization_id) if user.organization_id else None
    return {"name": user.name, "role": user.role, "organization": org.name if org else "",
            "must_change_password": user.must_change_password}
