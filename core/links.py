"""Single-use links sent by e-mail (invitations, password resets): issue, check, use, revoke.

No secret waits in the database or the outbox. A link's token is an HMAC, under the server's key
(the cookie key every process shares), of a random nonce; the outbox row carries only the
nonce, and the mail worker derives the token when it renders the message (core/mail_messages.py),
the same on every try. ``link_tokens`` holds only the SHA-256 of the token: someone who reads the
database or a backup, without the key, can neither use nor rebuild a link. A link works once,
until its expiry; issuing a newer one for the same address and purpose revokes the older one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from core.config import load_settings
from core.errors import ValidationError
from core.models import LinkToken, utcnow

PARAMS = {"invitation": "invite", "password_reset": "reset"}  # the query parameter of each
_LABEL = b"securesphere link token v1:"
REFUSALS = {
    ("invitation", "used"): "This invitation link was already used. Sign in instead.",
    ("invitation", "revoked"): (
        "This invitation link was withdrawn or replaced by a newer one. Use the link in the "
        "latest invitation e-mail, or ask for a new invitation."
    ),
    ("invitation", "expired"): "This invitation link has expired. Ask for a new invitation.",
    ("password_reset", "used"): "This password reset link was already used.",
    ("password_reset", "revoked"): (
        "This password reset link was replaced by a newer one. Use the link in the latest e-mail."
    ),
    ("password_reset", "expired"): (
        "This password reset link has expired. Ask for a new one with “Forgot your password?”."
    ),
}
NOT_VALID = "This link is not valid. Check that it was copied in full."


class LinkRefused(ValidationError):
    """A link that cannot be used: ``state`` is unknown, used, revoked or expired."""

    def __init__(self, purpose: str, state: str) -> None:
        super().__init__(REFUSALS.get((purpose, state), NOT_VALID))
        self.state = state


def _server_key() -> bytes:
    return load_settings().cookie_key.encode("utf-8")


def derive_token(nonce: str) -> str:
    """The token of a link, from the nonce its outbox row carries and the server's key."""
    mac = hmac.new(_server_key(), _LABEL + nonce.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> str:
    """SHA-256 of a token: what link_tokens holds instead of it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_path(data: Mapping[str, Any]) -> str:
    """The page path (with its query) a message's link opens, e.g. ``?invite=TOKEN``."""
    return f"?{PARAMS[str(data['purpose'])]}={derive_token(str(data['nonce']))}"


def issue(
    session: Session,
    *,
    purpose: str,
    email: str,
    valid_for: timedelta,
    created_by_id: int | None,
    role: str = "",
    organization_id: int | None = None,
    user_id: int | None = None,
    now: datetime,
) -> tuple[LinkToken, str]:
    """Store a new link (its hash only) and return it with the nonce its message needs."""
    nonce = secrets.token_urlsafe(24)
    row = LinkToken(
        purpose=purpose,
        token_hash=token_hash(derive_token(nonce)),
        email=email,
        role=role,
        organization_id=organization_id,
        user_id=user_id,
        created_by_id=created_by_id,
        expires_at=now + valid_for,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row, nonce


def state_of(row: LinkToken | None, now: datetime) -> str:
    """unknown, used, revoked, expired or pending."""
    if row is None:
        return "unknown"
    if row.used_at is not None:
        return "used"
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_at <= now else "pending"


def find(session: Session, token: str, purpose: str) -> LinkToken | None:
    """The link a presented token names, of that purpose, or None."""
    if not token or len(token) > 100:
        return None
    return session.scalar(
        select(LinkToken).where(
            LinkToken.token_hash == token_hash(token), LinkToken.purpose == purpose
        )
    )


def check(session: Session, token: str, purpose: str, *, now: datetime | None = None) -> LinkToken:
    """The pending link a token names (read only), or LinkRefused saying why not."""
    row = find(session, token, purpose)
    state = state_of(row, now or utcnow())
    if row is None or state != "pending":
        raise LinkRefused(purpose, state)
    return row


def use(session: Session, token: str, purpose: str, *, now: datetime) -> LinkToken:
    """Spend a pending link: a conditional update, so of two uses at once only one wins."""
    row = check(session, token, purpose, now=now)
    result = session.execute(
        update(LinkToken)
        .where(LinkToken.id == row.id, LinkToken.used_at.is_(None), LinkToken.revoked_at.is_(None))
        .values(used_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE gives a CursorResult; Session.execute's annotations only say Result.
    if cast("CursorResult[Any]", result).rowcount != 1:
        raise LinkRefused(purpose, "used")
    session.refresh(row)
    return row


def revoke_pending(
    session: Session, purpose: str, *, email: str = "", user_id: int | None = None, now: datetime
) -> list[LinkToken]:
    """Revoke the unused links of this purpose for an address (or an account); returns them."""
    owner = LinkToken.user_id == user_id if user_id is not None else LinkToken.email == email
    rows = session.scalars(
        select(LinkToken).where(
            LinkToken.purpose == purpose,
            owner,
            LinkToken.used_at.is_(None),
            LinkToken.revoked_at.is_(None),
        )
    ).all()
    for row in rows:
        row.revoked_at, row.updated_at = now, now
    return list(rows)
