"""Personal access tokens for the REST API: issue, list, revoke, and check one on each request.

A token reads ``ssp_<prefix>_<secret>``. Only the SHA-256 of the whole token is stored, with the
8-character prefix in clear for lookup and display; a presented token is looked up by its prefix
and compared in constant time. Each token runs as its user (core/access decides what it may do)
and has a scope: ``read`` tokens may only read, ``write`` tokens may do whatever the user may.
Issue, revocation, refusals and use (the first, then again after an hour without) are audited.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_role
from core.errors import AccessDenied, NotFound, SecureSphereError, ValidationError
from core.models import TOKEN_SCOPES, ApiToken, User, utcnow
from core.settings import get_settings
from core.text import clean_text

MARK = "ssp"
PREFIX_CHARS = 8
_ALPHABET = string.ascii_lowercase + string.digits
_SHAPE = re.compile(rf"{MARK}_([a-z0-9]{{{PREFIX_CHARS}}})_([A-Za-z0-9_-]{{43}})")
TOUCH_EVERY = timedelta(minutes=1)  # last use is written at most this often
AUDIT_USE_AFTER = timedelta(hours=1)  # a use after this long without one gets an audit row
INVALID = "The token is not valid."


class TokenRefused(SecureSphereError):
    """The presented token does not sign anybody in (unknown, revoked, expired, inactive user)."""


@dataclass(frozen=True)
class TokenInfo:
    """One token as its owner (or an admin) sees it: never the secret."""

    id: int
    user_id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    last_used_address: str
    revoked_at: datetime | None

    @property
    def shown(self) -> str:
        """The visible start of the token, as it appears in lists."""
        return f"{MARK}_{self.prefix}_…"

    def state(self, now: datetime) -> str:
        """active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


@dataclass(frozen=True)
class NewToken:
    """A token just issued: its row and the token itself, shown this once."""

    info: TokenInfo
    token: str


@dataclass(frozen=True)
class TokenAuth:
    """Who a checked token signs in as, with its scope and when it was last used."""

    actor: Actor
    token_id: int
    prefix: str
    scope: str
    last_used_at: datetime | None
    last_used_address: str

    def needs_touch(self, address: str, now: datetime) -> bool:
        """True when the last use should be written down (first use, a minute on, new address)."""
        return (
            self.last_used_at is None
            or now - self.last_used_at >= TOUCH_EVERY
            or address[:64] != self.last_used_address
        )


def token_hash(token: str) -> str:
    """SHA-256 of a token: what the database holds instead of it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.user_id,
        row.name,
        row.prefix,
        row.scope,
        row.created_at,
        row.expires_at,
        row.last_used_at,
        row.last_used_address,
        row.revoked_at,
    )


def _owner(session: Session, actor: Actor, user_id: int | None) -> User:
    """The account a token belongs to: the actor's own, or (admins only) anyone's."""
    wanted = actor.user_id if user_id is None else user_id
    if wanted != actor.user_id:
        require_role(actor, "admin")
    user = session.get(User, wanted) if wanted is not None else None
    if user is None:
        raise NotFound("That user does not exist.")
    return user


def create_token(
    session: Session,
    actor: Actor,
    *,
    name: str,
    scope: str,
    expires_days: int,
    user_id: int | None = None,
    now: datetime | None = None,
) -> NewToken:
    """Issue a token for the actor (or, by an admin, for another user); the token is in the
    result only, never stored."""
    now = now or utcnow()
    user = _owner(session, actor, user_id)
    if not user.is_active:
        raise ValidationError("A deactivated account cannot have tokens.")
    name = clean_text(name, "The token name", limit=100)
    if scope not in TOKEN_SCOPES:
        raise ValidationError(f"The scope must be one of: {', '.join(TOKEN_SCOPES)}.")
    longest = int(get_settings(session)["api_token_max_days"])
    if isinstance(expires_days, bool) or not isinstance(expires_days, int):
        raise ValidationError("The lifetime must be a whole number of days.")
    if not 1 <= expires_days <= longest:
        raise ValidationError(f"A token lives from 1 to {longest} days.")
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_CHARS))
    token = f"{MARK}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(
        user_id=user.id,
        name=name,
        prefix=prefix,
        token_hash=token_hash(token),
        scope=scope,
        expires_at=now + timedelta(days=expires_days),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "api_token_created",
        object_type="api_token",
        object_id=row.id,
        detail={"user_id": user.id, "name": name, "scope": scope, "prefix": prefix},
        now=now,
    )
    return NewToken(_info(row), token)


def list_tokens(session: Session, actor: Actor, *, user_id: int | None = None) -> list[TokenInfo]:
    """The actor's tokens (an admin may name another user), newest first, revoked ones too."""
    user = _owner(session, actor, user_id)
    rows = session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return [_info(row) for row in rows]


def revoke_token(
    session: Session, actor: Actor, token_id: int, *, now: datetime | None = None
) -> TokenInfo:
    """Revoke one of the actor's tokens (admins: anyone's); it signs nobody in from now on."""
    now = now or utcnow()
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != actor.user_id and actor.role != "admin"):
        raise NotFound("That token does not exist.")
    if row.revoked_at is None:
        row.revoked_at, row.updated_at = now, now
        audit.record(
            session,
            actor,
            "api_token_revoked",
            object_type="api_token",
            object_id=row.id,
            detail={"user_id": row.user_id, "prefix": row.prefix},
            now=now,
        )
    return _info(row)


def token_prefix(token: str) -> str | None:
    """The lookup prefix of a well-formed token, or None."""
    match = _SHAPE.fullmatch(token)
    return match.group(1) if match else None


def check_token(session: Session, token: str, *, now: datetime | None = None) -> TokenAuth:
    """Who the token signs in as (read only), or TokenRefused saying why. One statement reads
    the token and its user together: this runs on every API request."""
    now = now or utcnow()
    prefix = token_prefix(token)
    user = (User.username, User.role, User.organization_id, User.is_active)
    row = (
        session.execute(
            select(*ApiToken.__table__.c, *user, User.must_change_password)
            .outerjoin(User, User.id == ApiToken.user_id)
            .where(ApiToken.prefix == prefix)
        ).first()
        if prefix
        else None
    )
    # Compared even without a row, so a wrong prefix costs the same as a wrong secret.
    stored = row.token_hash if row is not None else "0" * 64
    if not hmac.compare_digest(stored, token_hash(token)) or row is None:
        raise TokenRefused(INVALID)
    if row.revoked_at is not None:
        raise TokenRefused("The token was revoked.")
    if row.expires_at <= now:
        raise TokenRefused("The token has expired.")
    if not row.is_active:  # None: no such user
        raise TokenRefused("The token's account is deactivated.")
    if row.must_change_password:
        raise TokenRefused("The token's account must choose a new password first.")
    actor = Actor(row.user_id, row.username, row.role, row.organization_id, f"api-token:{row.id}")
    return TokenAuth(actor, row.id, row.prefix, row.scope, row.last_used_at, row.last_used_address)


def note_use(
    session: Session, auth: TokenAuth, *, address: str, now: datetime | None = None
) -> None:
    """Write the token's last use (and audit a use after an hour or more without one)."""
    now = now or utcnow()
    row = session.get(ApiToken, auth.token_id)
    if row is None:
        return
    previous = row.last_used_at
    row.last_used_at, row.last_used_address = now, address[:64]
    if previous is None or now - previous >= AUDIT_USE_AFTER:
        audit.record(
            session,
            auth.actor,
            "api_token_used",
            object_type="api_token",
            object_id=row.id,
            detail={"prefix": row.prefix, "address": address[:64]},
            now=now,
        )


def record_refusal(
    session: Session, token: str, reason: str, *, address: str, now: datetime | None = None
) -> None:
    """Audit a refused token that names a stored one (expired, revoked, its user inactive, or a
    wrong secret); a token that names none has nothing to attach a row to."""
    prefix = token_prefix(token)
    row = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix)) if prefix else None
    if row is None:
        return
    audit.record(
        session,
        None,
        "api_token_refused",
        object_type="api_token",
        object_id=row.id,
        detail={"prefix": row.prefix, "reason": reason, "address": address[:64]},
        now=now,
    )


def require_scope(auth: TokenAuth, scope: str) -> None:
    """Refuse a change through a token that may only read."""
    if scope == "write" and auth.scope != "write":
        raise AccessDenied("This token may only read; create a write token to make changes.")
