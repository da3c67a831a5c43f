"""Client products (the things under assessment)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_org_read, require_org_write, scope_to_org
from core.errors import NotFound, ValidationError
from core.models import TIERS, Organization, Product


def create_product(session: Session, actor: Actor, *, organization_id: int, name: str,
                   description: str = "", tier: str = "tier_2") -> Product:
    """Create a product in an organisation the actor may write to."""
    require_org_write(actor, organization_id)
    org = session.get(Organization, organization_id)
    if org is None or not org.is_active:
        raise NotFound("That organisation does not exist.")
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        raise ValidationError("Product name is required (at most 120 characters).")
    if len(description) > 2000:
        raise ValidationError("Description must be at most 2,000 characters.")
    if tier not in TIERS:
        raise ValidationError(f"Tier must be one of {', '.join(TIERS)}.")
    taken = session.scalar(select(Product.id).where(Product.organization_id == organization_id,
                                                    func.lower(Product.name) == name.lower()))
    if taken:
        raise ValidationError(f"A product named {name!r} already exists in this organisation.")
    product = Product(organization_id=organization_id, owner_id=actor.user_id, name=name,
                      description=description.strip(), tier=tier, industry=org.industry)
    session.add(product)
    session.flush()
    audit.record(session, actor, "product_created", object_type="product", object_id=product.id,
                 detail={"name": name, "organization_id": organization_id, "tier": tier})
    return product


def get_product(session: Session, actor: Actor, product_id: int) -> Product:
    """A product the actor may read."""
    product = session.get(Product, product_id)
    if product is None or not product.is_active:
        raise NotFound("That product does not exist.")
    require_org_read(actor, product.organization_id)
    return product


def update_product(session: Session, actor: Actor, product_id: int, *, name: str, description: str,
                   tier: str) -> Product:
    """Rename a product or change its description and tier."""
    product = get_product(session, actor, product_id)
    require_org_write(actor, product.organization_id)
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        raise ValidationError("Product name is required (at most 120 characters).")
    if len(description) > 2000 or tier not in TIERS:
        raise ValidationError(f"Description: at most 2,000 characters; tier one of {', '.join(TIERS)}.")
    clash = session.scalar(select(Product.id).where(
        Product.organization_id == product.organization_id, Product.id != product.id,
        func.lower(Product.name) == name.lower()))
    if clash:
        raise ValidationError(f"A product named {name!r} already exists in this organisation.")
    new = {"name": name, "description": description.strip(), "tier": tier}
    changed = {k: [getattr(product, k), v] for k, v in new.items() if getattr(product, k) != v}
    for key, (_, value) in changed.items():
        setattr(product, key, value)
    if changed:
        audit.record(session, actor, "product_updated", object_type="product", object_id=product.id,
                     detail={"changed": changed})
    return product


def list_products(session: Session, actor: Actor) -> list[dict]:
    """Active products the actor may read, with their organisation."""
    stmt = (select(Product, Organization.name).join(Organization, Organization.id == Product.organization_id)
            .where(Product.is_active).order_by(Organization.name, Product.name))
    stmt = scope_to_org(stmt, actor, Product.organization_id)
    return [{"id": p.id, "name": p.name, "description": p.description, "tier": p.tier,
             "organization": org, "organization_id": p.organization_id}
            for p, org in session.execute(stmt).all()]
