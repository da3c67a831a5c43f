"""User accounts: create, edit, deactivate, unlock, reset a password, sign out everywhere;
never the last active admin. The admin's list of accounts is core/user_directory.py."""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.access import ROLES, Actor, require_role
from core.auth import revoke_sessions
from core.errors import AccessDenied, NotFound, ValidationError
from core.models import Organization, User, utcnow
from core.passwords import check_password_policy, generate_password, hash_password
from core.text import clean_text

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class NewAccount(NamedTuple):
    """A created account, and its one-time password when one was generated (shown once)."""

    user: User
    one_time_password: str | None


def clean_name(value: str, label: str, limit: int = 120) -> str:
    """A required display name of at most `limit` characters, checked and normalised by
    core.text.clean_text (no hidden characters, NFC, spaces collapsed)."""
    return clean_text(value, label, limit=limit)


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    name: str,
    role: str,
    email: str = "",
    organization_id: int | None = None,
    password: str | None = None,
    rounds: int = 12,
    is_demo: bool = False,
) -> NewAccount:
    """Create an account; without a password a one-time one is generated and returned."""
    require_role(actor, "admin")
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise ValidationError(
            "Username must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'."
        )
    if role not in ROLES:
        raise ValidationError(f"Role must be one of {', '.join(ROLES)}.")
    if email and not EMAIL_RE.match(email):
        raise ValidationError("E-mail address is not valid.")
    _check_organization(session, role, organization_id)
    if session.scalar(select(User.id).where(User.username == username)):
        raise ValidationError(f"The username {username!r} is taken.")
    one_time = password is None
    password = generate_password() if password is None else password
    check_password_policy(password, username)
    user = User(
        username=username,
        name=clean_name(name, "The name"),
        email=email,
        role=role,
        organization_id=organization_id,
        password_hash=hash_password(password, rounds),
        must_change_password=one_time,
        is_demo=is_demo,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user_created",
        object_type="user",
        object_id=user.id,
        detail={"username": username, "role": role, "organization_id": organization_id},
    )
    return NewAccount(user, password if one_time else None)


def _check_organization(session: Session, role: str, organization_id: int | None) -> None:
    if role == "client" and organization_id is None:
        raise ValidationError("A client account must belong to an organisation.")
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise ValidationError("That organisation does not exist.")


def demo_accounts_exist(session: Session) -> bool:
    """True while any active demo account exists (the app then shows a demo marker)."""
    return bool(
        session.scalar(select(func.count()).select_from(User).where(User.is_demo, User.is_active))
    )


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    """A user account: admins read any, everyone else only their own."""
    if actor.role != "admin" and actor.user_id != user_id:
        raise AccessDenied("You may only see your own account.")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("That user does not exist.")
    return user


def _active_admins(session: Session) -> int:
    return session.execute(
        select(func.count()).select_from(User).where(User.role == "admin", User.is_active)
    ).scalar_one()


def _protect_last_admin(session: Session, user: User) -> None:
    if user.role == "admin" and user.is_active and _active_admins(session) <= 1:
        raise ValidationError("This is the last active admin: make another admin first.")


def update_user(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    name: str,
    email: str,
    role: str,
    organization_id: int | None,
    now: datetime | None = None,
) -> User:
    """Edit an account's name, e-mail, role and organisation; a role or organisation change ends its sessions."""
    require_role(actor, "admin")
    user = get_user(session, actor, user_id)
    if role not in ROLES:
        raise ValidationError(f"Role must be one of {', '.join(ROLES)}.")
    if email and not EMAIL_RE.match(email):
        raise ValidationError("E-mail address is not valid.")
    organization_id = organization_id if role == "client" else None
    _check_organization(session, role, organization_id)
    if role != "admin":
        _protect_last_admin(session, user)
    new = {
        "name": clean_name(name, "The name"),
        "email": email.strip(),
        "role": role,
        "organization_id": organization_id,
    }
    changed = {k: [getattr(user, k), v] for k, v in new.items() if getattr(user, k) != v}
    for key, (_, value) in changed.items():
        setattr(user, key, value)
    if {"role", "organization_id"} & set(changed):
        revoke_sessions(session, user, "role_changed", now or utcnow())
    if changed:
        audit.record(
            session,
            actor,
            "user_updated",
            object_type="user",
            object_id=user.id,
            detail={"changed": changed},
            now=now,
        )
    return user


def set_user_active(
    session: Session, actor: Actor, user_id: int, active: bool, *, now: datetime | None = None
) -> User:
    """Deactivate (ending every session) or reactivate an account; never the last admin."""
    require_role(actor, "admin")
    user = get_user(session, actor, user_id)
    if user.is_active == active:
        return user
    if not active:
        _protect_last_admin(session, user)
        revoke_sessions(session, user, "deactivated", now or utcnow())
    user.is_active = active
    audit.record(
        session,
        actor,
        "user_activated" if active else "user_deactivated",
        object_type="user",
        object_id=user.id,
        now=now,
    )
    return user


def unlock_user(
    session: Session, actor: Actor, user_id: int, *, now: datetime | None = None
) -> None:
    """Clear an account's sign-in cooldown and failure counters."""
    require_role(actor, "admin")
    user = get_user(session, actor, user_id)
    user.failed_logins, user.lockouts, user.locked_until = 0, 0, None
    audit.record(session, actor, "user_unlocked", object_type="user", object_id=user.id, now=now)


def reset_password(
    session: Session, actor: Actor, user_id: int, *, rounds: int = 12, now: datetime | None = None
) -> str:
    """Give the account a one-time password (returned once, to hand over) that must be changed."""
    require_role(actor, "admin")
    user = get_user(session, actor, user_id)
    password = generate_password()
    user.password_hash = hash_password(password, rounds)
    user.must_change_password = True
    revoke_sessions(session, user, "password_reset", now or utcnow())
    audit.record(session, actor, "password_reset", object_type="user", object_id=user.id, now=now)
    return password


def sign_out_everywhere(
    session: Session, actor: Actor, user_id: int, *, now: datetime | None = None
) -> int:
    """End every session of an account, remember-me cookies included; returns how many ended."""
    require_role(actor, "admin")
    user = get_user(session, actor, user_id)
    ended = revoke_sessions(session, user, "signed_out_by_admin", now or utcnow())
    audit.record(
        session,
        actor,
        "sessions_revoked",
        object_type="user",
        object_id=user.id,
        detail={"sessions": ended},
        now=now,
    )
    return ended
