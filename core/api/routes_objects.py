"""Who am I, organisations and products (list, get, create) and a product's score history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from core.api.deps import Caller, authenticated, reject_unknown_query, see, writer
from core.api.frames import frame_records
from core.api.listing import organization_page, product_page
from core.api.paging import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page_response
from core.api.schemas import OrganizationOut, OrganizationPage, ProductIn, ProductOut, ProductPage
from core.organizations import get_organization
from core.product_history import product_history_frame
from core.products import create_product, get_product
from core.users import get_user

router = APIRouter(dependencies=[Depends(reject_unknown_query)])
Reader = Annotated[Caller, Depends(authenticated)]
Writer = Annotated[Caller, Depends(writer)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.get("/me", tags=["account"])
def me(caller: Reader) -> dict[str, Any]:
    """The token's user, role, organisation and scope."""
    with caller.reading() as s:
        user = get_user(s, caller.actor, caller.actor.user_id or 0)
        return {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "role": user.role,
            "organization_id": user.organization_id,
            "token": {"id": caller.auth.token_id, "scope": caller.auth.scope},
        }


@router.get("/organisations", tags=["organisations"], response_model=OrganizationPage)
def list_organisations(
    caller: Reader, cursor: str | None = None, limit: Limit = DEFAULT_LIMIT
) -> Response:
    """Active organisations the caller may read (a client: its own), by id."""
    after = decode_cursor("organisations", cursor)
    with caller.reading() as s:
        rows = organization_page(s, caller.actor, after=after, limit=limit)
    return page_response(OrganizationPage, "organisations", rows, limit)


@router.get("/organisations/{organization_id}", tags=["organisations"])
def organisation(caller: Reader, organization_id: int) -> OrganizationOut:
    """One organisation."""
    with caller.reading() as s:
        org = see(lambda: get_organization(s, caller.actor, organization_id), "organisation")
        return OrganizationOut(id=org.id, name=org.name, industry=org.industry, tier=org.tier)


@router.get("/products", tags=["products"], response_model=ProductPage)
def list_products(
    caller: Reader,
    organization_id: int | None = None,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """Active products the caller may read, by id."""
    after = decode_cursor("products", cursor)
    with caller.reading() as s:
        rows = product_page(
            s, caller.actor, organization_id=organization_id, after=after, limit=limit
        )
    return page_response(ProductPage, "products", rows, limit)


def _product(s: Any, caller: Caller, product_id: int) -> ProductOut:
    product = see(lambda: get_product(s, caller.actor, product_id), "product")
    org = get_organization(s, caller.actor, product.organization_id)
    return ProductOut(
        id=product.id,
        name=product.name,
        description=product.description,
        tier=product.tier,
        industry=product.industry,
        organization_id=product.organization_id,
        organization=org.name,
        created_at=product.created_at,
    )


@router.get("/products/{product_id}", tags=["products"])
def product(caller: Reader, product_id: int) -> ProductOut:
    """One product."""
    with caller.reading() as s:
        return _product(s, caller, product_id)


@router.post("/products", status_code=201, tags=["products"])
def new_product(caller: Writer, body: ProductIn) -> ProductOut:
    """Create a product in the caller's organisation (admins: any)."""
    with caller.writing() as s:
        see(lambda: get_organization(s, caller.actor, body.organization_id), "organisation")
        made = create_product(
            s,
            caller.actor,
            organization_id=body.organization_id,
            name=body.name,
            description=body.description,
            tier=body.tier,
        )
        return _product(s, caller, made.id)


@router.get("/products/{product_id}/history", tags=["scores"])
def product_history(caller: Reader, product_id: int) -> dict[str, Any]:
    """Every score snapshot of every cycle of one product, oldest first."""
    with caller.reading() as s:
        see(lambda: get_product(s, caller.actor, product_id), "product")
        frame = product_history_frame(s, caller.actor, product_id)
    return {"product_id": product_id, "snapshots": frame_records(frame.drop(columns=["label"]))}
