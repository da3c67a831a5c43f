"""The admin's directory of accounts: search by name, filter by role, organisation and status,
one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.access import Actor, require_role
from core.models import Organization, User
from core.paging import Page


@dataclass(frozen=True)
class UserRow:
    """One account in the admin's list."""

    id: int
    username: str
    name: str
    email: str
    role: str
    organization: str  # its name, or "" for staff
    active: bool
    locked_until: datetime | None
    must_change_password: bool
    last_login_at: datetime | None
    second_factor: bool  # two-step sign-in set up
    single_sign_on: str  # the provider's key in secrets.toml once linked, else ""


def list_users(
    session: Session,
    actor: Actor,
    *,
    search: str = "",
    role: str = "",
    organization_id: int | None = None,
    active: bool | None = None,
    page: int = 1,
    page_size: int = 25,
) -> Page[UserRow]:
    """One page of accounts matching the filters, and the total count (admins only)."""
    require_role(actor, "admin")
    stmt = select(User, Organization.name.label("organization")).outerjoin(
        Organization, Organization.id == User.organization_id
    )
    if search.strip():
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(User.username).like(like),
                func.lower(User.name).like(like),
                func.lower(User.email).like(like),
            )
        )
    if role:
        stmt = stmt.where(User.role == role)
    if organization_id is not None:
        stmt = stmt.where(User.organization_id == organization_id)
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(User.username).limit(page_size).offset((max(page, 1) - 1) * page_size)
    ).all()
    return Page([_user_row(user, org) for user, org in rows], total)


def _user_row(user: User, organization: str | None) -> UserRow:
    return UserRow(
        id=user.id,
        username=user.username,
        name=user.name,
        email=user.email,
        role=user.role,
        organization=organization or "",
        active=user.is_active,
        locked_until=user.locked_until,
        must_change_password=user.must_change_password,
        last_login_at=user.last_login_at,
        second_factor=user.totp_secret is not None,
        single_sign_on=user.sso_provider or "",
    )
