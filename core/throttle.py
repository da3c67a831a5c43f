"""Sign-in throttling kept in the database: per account with a doubling cooldown, per address."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.models import SignInAttempt, User
from core.settings import get_settings


def address_blocked(session: Session, client_address: str, now: datetime) -> bool:
    """True when this address made too many failed sign-ins within the window."""
    if not client_address:
        return False
    settings = get_settings(session)
    since = now - timedelta(minutes=settings["throttle_address_window_minutes"])
    failures = session.scalar(select(func.count()).select_from(SignInAttempt).where(
        SignInAttempt.client_address == client_address, SignInAttempt.created_at >= since,
        SignInAttempt.succeeded.is_(False)))
    return failures >= settings["throttle_address_failures"]


def is_locked(user: User, now: datetime) -> bool:
    """True while the account is in a cooldown."""
    return user.locked_until is not None and user.locked_until > now


def record_failure(session: Session, user: User | None, username: str, client_address: str,
                   now: datetime) -> None:
    """Count a failed sign-in; the Nth failure on an account starts a cooldown that doubles."""
    session.add(SignInAttempt(user_id=user.id if user else None, username=username[:64],
                              client_address=client_address[:64], succeeded=False,
                              created_at=now, updated_at=now))
    if user is None:
        return
    settings = get_settings(session)
    user.failed_logins += 1
    if user.failed_logins < settings["throttle_account_failures"]:
        return
    minutes = min(settings["throttle_cooldown_minutes"] * 2 ** user.lockouts,
                  settings["throttle_cooldown_max_minutes"])
    user.locked_until, user.failed_logins, user.lockouts = now + timedelta(minutes=minutes), 0, user.lockouts + 1
    audit.record(session, None, "account_throttled", object_type="user", object_id=user.id,
                 detail={"cooldown_minutes": minutes}, now=now)


def record_success(session: Session, user: User, client_address: str, now: datetime) -> None:
    """A successful sign-in clears the account's counters."""
    session.add(SignInAttempt(user_id=user.id, username=user.username, client_address=client_address[:64],
                              succeeded=True, created_at=now, updated_at=now))
    user.failed_logins, user.lockouts, user.locked_until = 0, 0, None
