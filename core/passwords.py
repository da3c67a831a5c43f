"""Passwords: the policy, bcrypt hashing, a check that costs as much as a real one, and
changing one's own."""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import bcrypt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor
from core.auth import revoke_sessions
from core.errors import ValidationError
from core.models import User, utcnow

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_BYTES = 72  # bcrypt ignores or refuses anything longer
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
