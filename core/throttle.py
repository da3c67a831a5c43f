"""Sign-in throttling kept in the database: per account with a doubling cooldown, per address."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.models import SignInAttempt, User
from core.settings import get_settings

# Sign-ins whose address cannot be known share this one key, so the address rule still applies
# to them (fail closed) instead of exempting them.
UNKNOWN_ADDRESS = "unknown"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def address_key(client_address: str) -> str:
    """The key an address is counted under: itself, or UNKNOWN_ADDRESS when empty."""
    return client_address.strip()[:64] or UNKNOWN_ADDRESS


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]
) -> str:
    """The sign-in's client address: the peer itself unless it is a trusted proxy; then the
    right-most X-Forwarded-For entry that is not a trusted proxy (entries left of it are whatever
    the client chose to send). UNKNOWN_ADDRESS when nothing usable is left."""
    address = _parse_ip(peer or "")
    if address is None:
        return UNKNOWN_ADDRESS
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    while any(address in network for network in trusted):
        if not hops:
            return UNKNOWN_ADDRESS  # a trusted proxy that forwards no client address
        address = _parse_ip(hops.pop())
        if address is None:
            return UNKNOWN_ADDRESS  # a proxy wrote garbage: do not guess past it
    return str(address)


def address_blocked(session: Session, client_address: str, now: datetime) -> bool:
    """True when this address (or the unknown-address key) made too many failed sign-ins
    within the window."""
    settings = get_settings(session)
    since = now - timedelta(minutes=settings["throttle_address_window_minutes"])
    failures = session.execute(
        select(func.count())
        .select_from(SignInAttempt)
        .where(
            SignInAttempt.client_address == address_key(client_address),
            SignInAttempt.created_at >= since,
            SignInAttempt.succeeded.is_(False),
        )
    ).scalar_one()
    return failures >= int(settings["throttle_address_failures"])


def is_locked(user: User, now: datetime) -> bool:
    """True while the account is in a cooldown."""
    return user.locked_until is not None and user.locked_until > now


def record_failure(
    session: Session, user: User | None, username: str, client_address: str, now: datetime
) -> None:
    """Count a failed sign-in; the Nth failure on an account starts a cooldown that doubles.
    Attempts during a cooldown are recorded but do not extend it: a stranger must not be able
    to keep an account locked for ever."""
    session.add(
        SignInAttempt(
            user_id=user.id if user else None,
            username=username[:64],
            client_address=address_key(client_address),
            succeeded=False,
            created_at=now,
            updated_at=now,
        )
    )
    if user is None or is_locked(user, now):
        return
    settings = get_settings(session)
    user.failed_logins += 1
    if user.failed_logins < settings["throttle_account_failures"]:
        return
    minutes = min(
        settings["throttle_cooldown_minutes"] * 2**user.lockouts,
        settings["throttle_cooldown_max_minutes"],
    )
    user.locked_until, user.failed_logins, user.lockouts = (
        now + timedelta(minutes=minutes),
        0,
        user.lockouts + 1,
    )
    audit.record(
        session,
        None,
        "account_throttled",
        object_type="user",
        object_id=user.id,
        detail={"cooldown_minutes": minutes},
        now=now,
    )


def record_success(session: Session, user: User, client_address: str, now: datetime) -> None:
    """A successful sign-in clears the account's counters."""
    session.add(
        SignInAttempt(
            user_id=user.id,
            username=user.username,
            client_address=address_key(client_address),
            succeeded=True,
            created_at=now,
            updated_at=now,
        )
    )
    user.failed_logins, user.lockouts, user.locked_until = 0, 0, None
