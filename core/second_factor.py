"""The second factor: time-based one-time codes (RFC 6238, through pyotp) and recovery codes.

Enrolment stores a pending secret, shown once as a QR code and as text, and turns it on only
when a code from it is given back; ten recovery codes are then shown once and kept as SHA-256
hashes. At sign-in a code is accepted within one 30-second step of clock drift, never twice (the
last step used is kept), and counts against the same throttle as passwords; a recovery code works
once. A wrong code is counted and audited (check_code returns False; the caller commits and
refuses). An admin can remove a user's factor: audited, and every session of the user ends.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit, throttle
from core.access import Actor, require_role
from core.auth import revoke_sessions
from core.errors import NotFound, ValidationError
from core.models import AuthSession, RecoveryCode, User, utcnow
from core.settings import get_settings

ISSUER = "SecureSphere"
STEP = 30  # seconds per code (RFC 6238's default, what authenticator apps use)
DRIFT = 1  # steps either side accepted
RECOVERY_CODES = 10
FAILED_CODE = "That code is not valid. Enter the current code from your authenticator app."
_CODE = re.compile(r"[0-9]{6}\Z")  # ASCII digits only: \d also matches "１２３"
# 24 base32 characters: 120 random bits, so a plain SHA-256 is a fit store (ASVS 5.0 6.5.2 asks
# for a salted password hash below 112 bits); shown in six groups of four
_RECOVERY = re.compile(r"(?:[a-z2-7]{4}-?){5}[a-z2-7]{4}\Z")
_RECOVERY_CHARS = 24


@dataclass(frozen=True)
class Enrolment:
    """A secret being enrolled: as text to type in, as an otpauth URI and as a QR code (SVG)."""

    secret: str
    uri: str
    qr_svg: str


def _user(session: Session, user_id: int | None) -> User:
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        raise NotFound("That user does not exist.")
    return user


def is_enrolled(session: Session, username: str) -> bool:
    """Whether an active account has a confirmed second factor."""
    secret = session.scalar(
        select(User.totp_secret).where(User.username == username, User.is_active)
    )
    return secret is not None


def begin_enrolment(session: Session, actor: Actor) -> Enrolment:
    """A new pending secret for the actor's own account (an earlier pending one is replaced; a
    confirmed factor stays in force until the new one is confirmed)."""
    user = _user(session, actor.user_id)
    secret = pyotp.random_base32()
    user.totp_pending = secret
    uri = pyotp.TOTP(secret, interval=STEP).provisioning_uri(name=user.username, issuer_name=ISSUER)
    qr = segno.make(uri, error="m")
    return Enrolment(secret, uri, qr.svg_inline(scale=5, dark="#1f2937", light="#ffffff"))


def _step(totp: pyotp.TOTP, code: str, now: datetime, after: int | None) -> int | None:
    """The time step the code belongs to (within DRIFT of now, later than `after`), or None."""
    current = int(now.timestamp()) // STEP
    for step in range(current - DRIFT, current + DRIFT + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def _code(text: str) -> str:
    return re.sub(r"\s", "", text or "")


def confirm_enrolment(
    session: Session, actor: Actor, code: str, *, now: datetime | None = None
) -> list[str]:
    """Turn the pending secret on once a code from it is right; the ten recovery codes, shown
    once (earlier ones stop working)."""
    now = now or utcnow()
    user = _user(session, actor.user_id)
    if user.totp_pending is None:
        raise ValidationError("Start the set-up again: there is no code being set up.")
    given = _code(code)
    if not _CODE.match(given):
        raise ValidationError("Enter the 6-digit code your authenticator app shows.")
    step = _step(pyotp.TOTP(user.totp_pending, interval=STEP), given, now, None)
    if step is None:
        raise ValidationError(FAILED_CODE)
    user.totp_secret, user.totp_pending = user.totp_pending, None
    user.totp_enabled_at, user.totp_last_step = now, step
    codes = _new_recovery_codes(session, user, now)
    if actor.session_id:  # this session has now given the factor: the enrolment gate opens
        session.execute(
            update(AuthSession)
            .where(AuthSession.id == actor.session_id)
            .values(second_factor="code")
        )
    audit.record(session, actor, "second_factor_enrolled", object_type="user", object_id=user.id)
    return codes


def must_enrol(session: Session, actor: Actor) -> bool:
    """Whether the actor's role must use a second factor (setting second_factor_roles) that this
    session has not been given: the user then reaches only My profile, to set one up."""
    if actor.role not in get_settings(session)["second_factor_roles"]:
        return False
    given = session.scalar(
        select(AuthSession.second_factor).where(AuthSession.id == actor.session_id)
    )
    return not given


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").lower().encode()).hexdigest()


def _new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now, updated_at=now)
    )
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    codes = [
        "".join(secrets.choice(alphabet) for _ in range(_RECOVERY_CHARS))
        for _ in range(RECOVERY_CODES)
    ]
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hash(c), created_at=now, updated_at=now)
        for c in codes
    )
    return ["-".join(c[i : i + 4] for i in range(0, _RECOVERY_CHARS, 4)) for c in codes]


@dataclass(frozen=True)
class FactorStatus:
    """The actor's own second factor as My profile shows it."""

    enrolled: bool
    since: datetime | None
    recovery_codes_left: int


def factor_status(session: Session, actor: Actor) -> FactorStatus:
    """Whether the actor's factor is on, since when, and how many recovery codes are left."""
    user = _user(session, actor.user_id)
    enrolled = user.totp_secret is not None
    left = recovery_codes_left(session, actor) if enrolled else 0
    return FactorStatus(enrolled, user.totp_enabled_at, left)


def recovery_codes_left(session: Session, actor: Actor) -> int:
    """How many of the actor's recovery codes are still unused."""
    rows = session.scalars(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == actor.user_id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    return len(rows)


def check_code(
    session: Session,
    username: str,
    code: str,
    *,
    client_address: str = "",
    now: datetime | None = None,
) -> bool:
    """Whether a sign-in's second factor is right. A wrong one is counted like a wrong password
    (the account's cooldown, the address's limit) and audited, so the caller must commit the
    transaction either way and then refuse with FAILED_CODE."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username, User.is_active))
    blocked = throttle.address_blocked(session, client_address, now)
    if user is None or user.totp_secret is None or blocked or throttle.is_locked(user, now):
        throttle.record_failure(session, user, username, client_address, now)
        return False
    given = _code(code).lower()
    if _CODE.match(given):
        totp = pyotp.TOTP(user.totp_secret, interval=STEP)
        step = _step(totp, given, now, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            audit.record(session, None, "second_factor_used", object_type="user", object_id=user.id)
            return True
    elif _RECOVERY.match(given) and _use_recovery_code(session, user, given, now):
        return True
    throttle.record_failure(session, user, username, client_address, now)
    audit.record(
        session, None, "second_factor_failed", object_type="user", object_id=user.id, now=now
    )
    return False


def _use_recovery_code(session: Session, user: User, code: str, now: datetime) -> bool:
    row = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = row.updated_at = now
    audit.record(session, None, "recovery_code_used", object_type="user", object_id=user.id)
    return True


def reset_second_factor(
    session: Session, actor: Actor, user_id: int, *, now: datetime | None = None
) -> None:
    """An admin removes a user's second factor: the secret and recovery codes go, every session
    of the user ends, and the audit trail says who did it."""
    require_role(actor, "admin")
    now = now or utcnow()
    user = _user(session, user_id)
    if user.totp_secret is None and user.totp_pending is None:
        raise ValidationError(f"{user.username} has no second factor to reset.")
    user.totp_secret = user.totp_pending = None
    user.totp_enabled_at = user.totp_last_step = None
    session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now, updated_at=now)
    )
    revoke_sessions(session, user, "second_factor_reset", now)
    audit.record(
        session, actor, "second_factor_reset", object_type="user", object_id=user.id, now=now
    )
