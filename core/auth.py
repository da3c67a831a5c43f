"""Passwords, sign-in records and server-side sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import bcrypt
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit, throttle
from core.access import Actor, require_role
from core.errors import ValidationError
from core.models import AuthSession, Organization, SignInAttempt, User, utcnow
from core.settings import get_settings

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_BYTES = 72  # bcrypt ignores or refuses anything longer
FAILED_SIGN_IN = "Incorrect username or password."
DEFAULT_BCRYPT_COST = 12
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower-case)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def check_password_policy(password: str, username: str = "") -> None:
    """Refuse passwords that are too short, too long for bcrypt, common or the username itself."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError(
            f"The password must be at least {MIN_PASSWORD_CHARS} characters long."
        )
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValidationError(
            f"The password must be at most {MAX_PASSWORD_BYTES} bytes "
            "(fewer characters if it uses accents or symbols)."
        )
    if password.lower() in common_passwords() or (
        username and password.lower() == username.lower()
    ):
        raise ValidationError("This password is too common or too easy to guess; choose another.")


def hash_password(password: str, rounds: int = 12) -> str:
    """bcrypt hash of a password that passed the policy."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    """True when the password matches; never raises on over-long input."""
    data = password.encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES:
        return False
    return bcrypt.checkpw(data, password_hash.encode())


@lru_cache(maxsize=4)
def _dummy_hash(cost: int) -> bytes:
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(cost))


def _usual_cost(session: Session) -> int:
    """The bcrypt cost most stored hashes use (`$2b$12$...`), so the dummy check costs the same."""
    cost = func.substr(User.password_hash, 5, 2)
    usual = session.scalar(
        select(cost).group_by(cost).order_by(func.count().desc(), cost.desc()).limit(1)
    )
    return (
        int(usual) if usual and usual.isdigit() and 4 <= int(usual) <= 31 else DEFAULT_BCRYPT_COST
    )


def spend_password_check(session: Session) -> None:
    """Run one bcrypt check that cannot succeed, for a refused sign-in that ran none (unknown
    user, cooldown, inactive account, throttled address): every refusal then takes as long as a
    wrong password, so timing does not tell which usernames exist."""
    bcrypt.checkpw(b"no account has this password", _dummy_hash(_usual_cost(session)))


def generate_password() -> str:
    """A random one-time password (about 96 bits)."""
    return secrets.token_urlsafe(12)


def credentials(session: Session, *, client_address: str = "", now: datetime | None = None) -> dict:
    """The credentials dict streamlit-authenticator checks: every active account, with a hash no
    password matches for one in a cooldown or for every one when the address is throttled."""
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
    session: Session, username: str, *, client_address: str = "", now: datetime | None = None
) -> Actor:
    """Start a new server-side session at sign-in and record the sign-in."""
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
        )
    )
    throttle.record_success(session, user, client_address, now)
    user.last_login_at = now
    actor = Actor(user.id, user.username, user.role, user.organization_id, sid)
    audit.record(session, actor, "sign_in", object_type="user", object_id=user.id, now=now)
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
    session.get(AuthSession, sid).cookie_hash = cookie_fingerprint(token)


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
    if expired or not user.is_active:
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
    return result.rowcount


def change_password(
    session: Session,
    actor: Actor,
    *,
    old: str,
    new: str,
    rounds: int = 12,
    now: datetime | None = None,
) -> None:
    """Change one's own password: old one required, new one validated; ends other sessions."""
    now = now or utcnow()
    user = session.get(User, actor.user_id)
    if user is None or not verify_password(old, user.password_hash):
        raise ValidationError("The current password is not correct.")
    check_password_policy(new, user.username)
    if verify_password(new, user.password_hash):
        raise ValidationError("The new password must differ from the current one.")
    user.password_hash = hash_password(new, rounds)
    user.must_change_password = False
    revoke_sessions(session, user, "password_change", now, keep=actor.session_id)
    audit.record(session, actor, "password_changed", object_type="user", object_id=user.id, now=now)


def user_summary(session: Session, actor: Actor) -> dict:
    """Name, role and organisation name of the actor, for the sidebar."""
    user = session.get(User, actor.user_id)
    org = session.get(Organization, user.organization_id) if user.organization_id else None
    return {
        "name": user.name,
        "role": user.role,
        "organization": org.name if org else "",
        "must_change_password": user.must_change_password,
    }


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
