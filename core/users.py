"""Organisations and user accounts."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_role
from core.auth import check_password_policy, generate_password, hash_password
from core.errors import ValidationError
from core.models import ROLES, TIERS, Organization, User

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _clean_name(value: str, label: str, limit: int = 120) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(f"{label} is required.")
    if len(value) > limit:
        raise ValidationError(f"{label} must be at most {limit} characters.")
    return value


def create_organization(session: Session, actor: Actor, *, name: str, industry: str = "",
                        tier: str = "tier_2") -> Organization:
    """Create a client organisation (admins only)."""
    require_role(actor, "admin")
    name = _clean_name(name, "Organisation name")
    if tier not in TIERS:
        raise ValidationError(f"Tier must be one of {', '.join(TIERS)}.")
    if session.scalar(select(Organization.id).where(func.lower(Organization.name) == name.lower())):
        raise ValidationError(f"An organisation named {name!r} already exists.")
    org = Organization(name=name, industry=industry.strip()[:60], tier=tier)
    session.add(org)
    session.flush()
    audit.record(session, actor, "organization_created", object_type="organization",
                 object_id=org.id, detail={"name": name, "industry": org.industry, "tier": tier})
    return org


def create_user(session: Session, actor: Actor, *, username: str, name: str, role: str,
                email: str = "", organization_id: int | None = None, password: str | None = None,
                rounds: int = 12, is_demo: bool = False) -> tuple[User, str | None]:
    """Create an account; without a password a one-time one is generated and returned."""
    require_role(actor, "admin")
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise ValidationError("Username must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'.")
    if role not in ROLES:
        raise ValidationError(f"Role must be one of {', '.join(ROLES)}.")
    if email and not EMAIL_RE.match(email):
        raise ValidationError("E-mail address is not valid.")
    _check_organization(session, role, organization_id)
    if session.scalar(select(User.id).where(User.username == username)):
        raise ValidationError(f"The username {username!r} is taken.")
    one_time = password is None
    password = generate_password() if one_time else password
    check_password_policy(password)
    user = User(username=username, name=_clean_name(name, "Name"), email=email, role=role,
                organization_id=organization_id, password_hash=hash_password(password, rounds),
                must_change_password=one_time, is_demo=is_demo)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user_created", object_type="user", object_id=user.id,
                 detail={"username": username, "role": role, "organization_id": organization_id})
    return user, password if one_time else None


def _check_organization(session: Session, role: str, organization_id: int | None) -> None:
    if role == "client" and organization_id is None:
        raise ValidationError("A client account must belong to an organisation.")
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise ValidationError("That organisation does not exist.")


def organization_by_name(session: Session, name: str) -> Organization | None:
    """Look an organisation up by exact name."""
    return session.scalar(select(Organization).where(Organization.name == name))


def demo_accounts_exist(session: Session) -> bool:
    """True while any active demo account exists (the app then shows a demo marker)."""
    return bool(session.scalar(select(func.count()).select_from(User)
                               .where(User.is_demo, User.is_active)))
