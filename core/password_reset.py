"""Forgot password: a single-use reset link by e-mail, throttled like password sign-in.

A request gives the same answer whether or not the address has an account, and counts as a
failed sign-in of that account and of the client's address (core/throttle.py): while either is
throttled nothing is sent. Using the link sets a new password under the policy, clears the
account's cooldown and ends every session of the account. The link is core/links.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, links, outbox, throttle
from core.access import Actor
from core.auth import revoke_sessions
from core.models import User, utcnow
from core.passwords import check_password_policy, hash_password
from core.settings import get_settings
from core.users import EMAIL_RE

PURPOSE = "password_reset"
ANSWER = (
    "If an account has this e-mail address, a link to choose a new password is on its way. "
    "It works once, for a short time."
)


def request_reset(
    session: Session, email: str, *, client_address: str = "", now: datetime | None = None
) -> str:
    """Queue a reset link for each active account with this address, unless throttled; the
    answer to show is the same in every case."""
    now = now or utcnow()
    email = (email or "").strip().lower()
    accounts = (
        list(
            session.scalars(
                select(User)
                .where(func.lower(User.email) == email, User.is_active)
                .order_by(User.id)
            )
        )
        if len(email) <= 254 and EMAIL_RE.match(email)
        else []
    )
    blocked = throttle.address_blocked(session, client_address, now)
    if not accounts:
        throttle.record_failure(session, None, "", client_address, now)
    for user in accounts:
        locked = blocked or throttle.is_locked(user, now)
        throttle.record_failure(session, user, user.username, client_address, now)
        if not locked:
            _send_link(session, user, now)
    return ANSWER


def _send_link(session: Session, user: User, now: datetime) -> None:
    links.revoke_pending(session, PURPOSE, user_id=user.id, now=now)
    hours = int(get_settings(session)["password_reset_valid_hours"])
    row, nonce = links.issue(
        session,
        purpose=PURPOSE,
        email=user.email.strip(),
        user_id=user.id,
        created_by_id=None,
        valid_for=timedelta(hours=hours),
        now=now,
    )
    outbox.enqueue(
        session,
        kind=PURPOSE,
        recipient=user,
        organization_id=user.organization_id,
        data={
            "purpose": PURPOSE,
            "nonce": nonce,
            "username": user.username,
            "expires_at": row.expires_at.isoformat(),
        },
        now=now,
    )
    audit.record(
        session,
        None,
        "password_reset_requested",
        object_type="user",
        object_id=user.id,
        detail={"link": row.id},
        now=now,
    )


def account_for(session: Session, token: str, *, now: datetime | None = None) -> str:
    """The username a pending reset link is for (read only), or LinkRefused saying why not."""
    row = links.check(session, token, PURPOSE, now=now)
    user = session.get(User, row.user_id) if row.user_id is not None else None
    if user is None or not user.is_active:
        raise links.LinkRefused(PURPOSE, "unknown")
    return user.username


def reset_with_link(
    session: Session, token: str, *, password: str, rounds: int = 12, now: datetime | None = None
) -> User:
    """Use a reset link: the new password (under the policy) replaces the old one, the cooldown
    is cleared and every session of the account ends. Any refusal writes nothing."""
    now = now or utcnow()
    username = account_for(session, token, now=now)
    row = links.use(session, token, PURPOSE, now=now)
    user = session.get(User, row.user_id)
    assert user is not None  # account_for found it in this transaction
    check_password_policy(password, username)
    user.password_hash = hash_password(password, rounds)
    user.must_change_password = False
    user.failed_logins, user.lockouts, user.locked_until = 0, 0, None
    ended = revoke_sessions(session, user, "password_reset", now)
    audit.record(
        session,
        Actor(user.id, user.username, user.role, user.organization_id),
        "password_reset_used",
        object_type="user",
        object_id=user.id,
        detail={"link": row.id, "sessions_ended": ended},
        now=now,
    )
    return user
