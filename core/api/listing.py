"""The API's listings: keyset pages of what the actor may read, scoped by core/access through
core.filters.scope (assessments) and core.access.scope_to_org (products, organisations)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, scope_to_org
from core.filters import Filters, scope, seen_by
from core.models import Assessment, Organization, Product, Questionnaire
from core.settings import get_settings

Row = dict[str, Any]
ASSESSMENT_COLUMNS = (
    Assessment.id,
    Assessment.product_id,
    Product.name.label("product"),
    Assessment.organization_id,
    Organization.name.label("organization"),
    Assessment.questionnaire_id,
    Questionnaire.title.label("questionnaire"),
    Questionnaire.version.label("questionnaire_version"),
    Assessment.cycle,
    Assessment.round,
    Assessment.status,
    Assessment.completion,
    Assessment.latest_score,
    Assessment.latest_band,
    Assessment.accepted_share,
    Assessment.assured_share,
    Assessment.due_date,
    Assessment.reviewer_id,
    Assessment.submitted_at,
    Assessment.decided_at,
    Assessment.created_at,
    Assessment.updated_at,
)


@dataclass(frozen=True)
class AssessmentQuery:
    """What the assessments listing narrows by, on top of the shared filters."""

    filters: Filters
    status: str | None = None
    product_id: int | None = None


def _assessments(actor: Actor, query: AssessmentQuery, seen: str) -> Any:
    stmt = (
        select(*ASSESSMENT_COLUMNS)
        .join(Product, Product.id == Assessment.product_id)
        .join(Organization, Organization.id == Assessment.organization_id)
        .join(Questionnaire, Questionnaire.id == Assessment.questionnaire_id)
    )
    stmt = scope(stmt, actor, query.filters, seen)
    if query.status is not None:
        stmt = stmt.where(Assessment.status == query.status)
    if query.product_id is not None:
        stmt = stmt.where(Assessment.product_id == query.product_id)
    return query.filters.in_range(stmt, Assessment.updated_at)


def _seen(session: Session, actor: Actor) -> str:
    """The reviewer_visibility in force: read from the settings only for a lead reviewer, the
    one role it narrows (the listing is the API's hottest path; the others skip the query)."""
    return seen_by(actor, get_settings(session)) if actor.role == "lead_reviewer" else "all"


def assessment_page(
    session: Session, actor: Actor, query: AssessmentQuery, *, after: int, limit: int
) -> list[Row]:
    """Up to limit + 1 assessments the actor may read with id above `after`, by id."""
    stmt = _assessments(actor, query, _seen(session, actor)).where(Assessment.id > after)
    rows = session.execute(stmt.order_by(Assessment.id).limit(limit + 1))
    return [dict(r._mapping) for r in rows]


def assessment_row(session: Session, actor: Actor, assessment_id: int) -> Row | None:
    """One assessment's listing row, if the actor may read it."""
    stmt = _assessments(actor, AssessmentQuery(Filters()), _seen(session, actor))
    row = session.execute(stmt.where(Assessment.id == assessment_id)).first()
    return dict(row._mapping) if row else None


def product_page(
    session: Session, actor: Actor, *, organization_id: int | None, after: int, limit: int
) -> list[Row]:
    """Up to limit + 1 active products the actor may read with id above `after`, by id."""
    stmt = (
        select(
            Product.id,
            Product.name,
            Product.description,
            Product.tier,
            Product.industry,
            Product.organization_id,
            Organization.name.label("organization"),
            Product.created_at,
        )
        .join(Organization, Organization.id == Product.organization_id)
        .where(Product.is_active, Product.id > after)
    )
    if organization_id is not None:
        stmt = stmt.where(Product.organization_id == organization_id)
    stmt = scope_to_org(stmt, actor, Product.organization_id)
    return [dict(r._mapping) for r in session.execute(stmt.order_by(Product.id).limit(limit + 1))]


def organization_page(session: Session, actor: Actor, *, after: int, limit: int) -> list[Row]:
    """Up to limit + 1 active organisations the actor may read with id above `after`, by id."""
    stmt = select(
        Organization.id, Organization.name, Organization.industry, Organization.tier
    ).where(Organization.is_active, Organization.id > after)
    stmt = scope_to_org(stmt, actor, Organization.id)
    rows = session.execute(stmt.order_by(Organization.id).limit(limit + 1))
    return [dict(r._mapping) for r in rows]
