"""Client products (the things under assessment)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_org_read, require_org_write, scope_to_org
from core.errors import NotFound, ValidationError
from core.models import TIERS, Organization, Product
from core.text import clean_text, name_key

MAX_NAME, MAX_DESCRIPTION = 120, 2000


@dataclass(frozen=True)
class ProductSummary:
    """One product in a list, with its organisation."""

    id: int
    name: str
    description: str
    tier: str
    organization: str
    organization_id: int


def create_product(
    session: Session,
    actor: Actor,
    *,
    organization_id: int,
    name: str,
    description: str = "",
    tier: str = "tier_2",
) -> Product:
    """Create a product in an organisation the actor may write to."""
    require_org_write(actor, organization_id)
    org = session.get(Organization, organization_id)
    if org is None or not org.is_active:
        raise NotFound("That organisation does not exist.")
    name, description = _clean(name, description, tier)
    _refuse_clash(session, organization_id, name)
    product = Product(
        organization_id=organization_id,
        owner_id=actor.user_id,
        name=name,
        description=description,
        tier=tier,
        industry=org.industry,
    )
    session.add(product)
    session.flush()
    audit.record(
        session,
        actor,
        "product_created",
        object_type="product",
        object_id=product.id,
        detail={"name": name, "organization_id": organization_id, "tier": tier},
    )
    return product


def _clean(name: str, description: str, tier: str) -> tuple[str, str]:
    name = clean_text(name, "The product name", limit=MAX_NAME)
    description = clean_text(
        description, "The description", limit=MAX_DESCRIPTION, multiline=True, required=False
    )
    if tier not in TIERS:
        raise ValidationError(f"Tier must be one of {', '.join(TIERS)}.")
    return name, description


def _refuse_clash(
    session: Session, organization_id: int, name: str, product_id: int | None = None
) -> None:
    # Compared in Python, not with SQL lower(): SQLite folds only ASCII, and the key also folds
    # compatibility forms, so "Mobile App" and "ＭＯＢＩＬＥ App" cannot both exist.
    others = session.execute(
        select(Product.id, Product.name).where(Product.organization_id == organization_id)
    ).all()
    key = name_key(name)
    if any(name_key(other) == key for pid, other in others if pid != product_id):
        raise ValidationError(f'A product named "{name}" already exists in this organisation.')


def get_product(session: Session, actor: Actor, product_id: int) -> Product:
    """A product the actor may read."""
    product = session.get(Product, product_id)
    if product is None or not product.is_active:
        raise NotFound("That product does not exist.")
    require_org_read(actor, product.organization_id)
    return product


def update_product(
    session: Session, actor: Actor, product_id: int, *, name: str, description: str, tier: str
) -> Product:
    """Rename a product or change its description and tier."""
    product = get_product(session, actor, product_id)
    require_org_write(actor, product.organization_id)
    name, description = _clean(name, description, tier)
    _refuse_clash(session, product.organization_id, name, product.id)
    new = {"name": name, "description": description, "tier": tier}
    changed = {k: [getattr(product, k), v] for k, v in new.items() if getattr(product, k) != v}
    for key, (_, value) in changed.items():
        setattr(product, key, value)
    if changed:
        audit.record(
            session,
            actor,
            "product_updated",
            object_type="product",
            object_id=product.id,
            detail={"changed": changed},
        )
    return product


def list_products(session: Session, actor: Actor) -> list[ProductSummary]:
    """Active products the actor may read, with their organisation."""
    stmt = (
        select(Product, Organization.name)
        .join(Organization, Organization.id == Product.organization_id)
        .where(Product.is_active)
        .order_by(Organization.name, Product.name)
    )
    stmt = scope_to_org(stmt, actor, Product.organization_id)
    return [
        ProductSummary(p.id, p.name, p.description, p.tier, org, p.organization_id)
        for p, org in session.execute(stmt).all()
    ]
