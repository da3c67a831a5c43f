"""Client organisations: industry and tier feed the benchmarks' peer groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_org_read, require_role
from core.errors import NotFound, ValidationError
from core.models import TIERS, Organization, Product, User
from core.planner import parse_target, target_text
from core.text import clean_text, name_key
from core.users import clean_name


@dataclass(frozen=True)
class OrganizationSummary:
    """One organisation in a list, with how many users and products it has."""

    id: int
    name: str
    industry: str
    tier: str
    active: bool
    users: int
    products: int
    score_target: str | None = None  # the planner's target as stored; None: the Low band


def create_organization(
    session: Session, actor: Actor, *, name: str, industry: str = "", tier: str = "tier_2"
) -> Organization:
    """Create a client organisation (admins only)."""
    require_role(actor, "admin")
    name, industry = _clean(name, industry, tier)
    _refuse_clash(session, name)
    org = Organization(name=name, industry=industry, tier=tier)
    session.add(org)
    session.flush()
    audit.record(
        session,
        actor,
        "organization_created",
        object_type="organization",
        object_id=org.id,
        detail={"name": name, "industry": org.industry, "tier": tier},
    )
    return org


def _clean(name: str, industry: str, tier: str) -> tuple[str, str]:
    name = clean_name(name, "The organisation name")
    # Industry feeds peer groups: one spelling per industry, so it is checked like a name.
    industry = clean_text(industry, "The industry", limit=60, required=False)
    if tier not in TIERS:
        raise ValidationError(f"Tier must be one of {', '.join(TIERS)}.")
    return name, industry


def _refuse_clash(session: Session, name: str, organization_id: int | None = None) -> None:
    # In Python, not SQL lower() (ASCII-only on SQLite): see core.text.name_key.
    key = name_key(name)
    for oid, other in session.execute(select(Organization.id, Organization.name)).all():
        if oid != organization_id and name_key(other) == key:
            raise ValidationError(f'An organisation named "{name}" already exists.')


def organization_by_name(session: Session, name: str) -> Organization | None:
    """Look an organisation up by exact name."""
    return session.scalar(select(Organization).where(Organization.name == name))


def organization_id_named(session: Session, name: str | None) -> int | None:
    """The id of the organisation with this exact name (None for no name), or ValidationError
    naming it when there is none: the CLI's --organization."""
    if not name:
        return None
    org = organization_by_name(session, name)
    if org is None:
        raise ValidationError(f"There is no organisation named {name!r}.")
    return org.id


def get_organization(session: Session, actor: Actor, organization_id: int) -> Organization:
    """An organisation the actor may read (clients only their own)."""
    require_org_read(actor, organization_id)
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound("That organisation does not exist.")
    return org


def list_organizations(
    session: Session, actor: Actor, *, include_inactive: bool = False
) -> list[OrganizationSummary]:
    """Organisations the actor may read, with their user and product counts."""
    users = (
        select(User.organization_id, func.count().label("n"))
        .group_by(User.organization_id)
        .subquery()
    )
    products = (
        select(Product.organization_id, func.count().label("n"))
        .group_by(Product.organization_id)
        .subquery()
    )
    stmt = (
        select(Organization, func.coalesce(users.c.n, 0), func.coalesce(products.c.n, 0))
        .outerjoin(users, users.c.organization_id == Organization.id)
        .outerjoin(products, products.c.organization_id == Organization.id)
        .order_by(Organization.name)
    )
    if actor.is_client:
        stmt = stmt.where(Organization.id == actor.organization_id)
    if not include_inactive:
        stmt = stmt.where(Organization.is_active)
    return [
        OrganizationSummary(o.id, o.name, o.industry, o.tier, o.is_active, u, p, o.score_target)
        for o, u, p in session.execute(stmt).all()
    ]


def update_organization(
    session: Session,
    actor: Actor,
    organization_id: int,
    *,
    name: str,
    industry: str,
    tier: str,
    now: datetime | None = None,
) -> Organization:
    """Rename an organisation or change its industry and tier (admins only)."""
    require_role(actor, "admin")
    org = get_organization(session, actor, organization_id)
    name, industry = _clean(name, industry, tier)
    _refuse_clash(session, name, org.id)
    new = {"name": name, "industry": industry, "tier": tier}
    changed = {k: [getattr(org, k), v] for k, v in new.items() if getattr(org, k) != v}
    _apply(session, actor, org, changed, now)
    return org


def _apply(
    session: Session,
    actor: Actor,
    org: Organization,
    changed: dict[str, list[Any]],
    now: datetime | None,
) -> None:
    """Set the changed fields ({field: [before, after]}) and audit them, if any changed."""
    for key, (_, value) in changed.items():
        setattr(org, key, value)
    if changed:
        audit.record(
            session,
            actor,
            "organization_updated",
            object_type="organization",
            object_id=org.id,
            detail={"changed": changed},
            now=now,
        )


def set_organization_active(
    session: Session,
    actor: Actor,
    organization_id: int,
    active: bool,
    *,
    now: datetime | None = None,
) -> Organization:
    """Deactivate or reactivate an organisation (its users keep their accounts)."""
    require_role(actor, "admin")
    org = get_organization(session, actor, organization_id)
    if org.is_active != active:
        org.is_active = active
        audit.record(
            session,
            actor,
            "organization_activated" if active else "organization_deactivated",
            object_type="organization",
            object_id=org.id,
            now=now,
        )
    return org


def score_target(session: Session, actor: Actor, organization_id: int) -> float | str:
    """The score planner's target for the organisation's assessments: a band's name or a score
    (the Low band until an admin sets one)."""
    return parse_target(get_organization(session, actor, organization_id).score_target)


def set_score_target(
    session: Session,
    actor: Actor,
    organization_id: int,
    target: float | str | None,
    *,
    now: datetime | None = None,
) -> Organization:
    """Set the planner's target of an organisation: "Low", "Medium", "High", a score from 0 to
    100, or None for the default, the Low band (admins only)."""
    require_role(actor, "admin")
    org = get_organization(session, actor, organization_id)
    stored = None if target is None else target_text(target)
    if stored != org.score_target:
        _apply(session, actor, org, {"score_target": [org.score_target, stored]}, now)
    return org
