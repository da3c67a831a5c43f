"""Home-page notices: assessments waiting for the actor, and the latest comments addressed to them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from core.access import Actor, scope_assessments
from core.models import Assessment, LeadComment, Product, QuestionnaireResponse, User
from core.settings import get_settings


def notices(session: Session, actor: Actor, *, limit: int = 5) -> dict:
    """Home-page notices: assessments needing the actor, and the latest comments addressed to them."""
    settings = get_settings(session)
    needs = ("changes_requested",) if actor.is_client else ("submitted",)
    flagged = (
        select(QuestionnaireResponse.assessment_id, func.count().label("n"))
        .where(QuestionnaireResponse.review_state == "needs_changes")
        .group_by(QuestionnaireResponse.assessment_id)
        .subquery()
    )
    stmt = (
        select(
            Assessment.id,
            Product.name.label("product"),
            Assessment.round,
            func.coalesce(flagged.c.n, 0).label("to_fix"),
        )
        .join(Product, Product.id == Assessment.product_id)
        .outerjoin(flagged, flagged.c.assessment_id == Assessment.id)
        .where(Assessment.status.in_(needs), Assessment.is_active)
    )
    if not actor.is_client:
        stmt = stmt.where(Assessment.round > 1)  # resubmitted after a change request
    stmt = scope_assessments(stmt, actor, settings["reviewer_visibility"], Assessment)
    waiting = [
        dict(r._mapping) for r in session.execute(stmt.order_by(Assessment.updated_at.desc()))
    ]
    return {"assessments": waiting, "comments": _latest_comments(session, actor, settings, limit)}


def latest_comments(session: Session, actor: Actor, *, limit: int = 5) -> list[dict]:
    """The latest comments addressed to the actor (from clients to reviewers, and back)."""
    return _latest_comments(session, actor, get_settings(session), limit)


def _latest_comments(session: Session, actor: Actor, settings: dict, limit: int) -> list[dict]:
    author = aliased(User)
    stmt = (
        select(
            LeadComment.body,
            LeadComment.created_at,
            author.name,
            Product.name.label("product"),
            LeadComment.assessment_id,
        )
        .join(Assessment, Assessment.id == LeadComment.assessment_id)
        .join(Product, Product.id == Assessment.product_id)
        .outerjoin(author, author.id == LeadComment.author_id)
        .where(LeadComment.is_active, LeadComment.author_id != actor.user_id)
    )
    if actor.is_client:
        stmt = stmt.where(LeadComment.visibility == "shared", author.role != "client")
    else:
        stmt = stmt.where(author.role == "client")
    stmt = scope_assessments(stmt, actor, settings["reviewer_visibility"], Assessment)
    rows = session.execute(stmt.order_by(LeadComment.created_at.desc()).limit(limit)).all()
    return [
        {
            "body": r.body,
            "time": r.created_at,
            "author": r.name or "system",
            "product": r.product,
            "assessment_id": r.assessment_id,
        }
        for r in rows
    ]
