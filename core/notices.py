"""Home-page notices: assessments waiting for the actor, and the latest comments addressed to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from core.access import Actor, scope_assessments
from core.models import Assessment, LeadComment, Product, QuestionnaireResponse, User
from core.settings import get_settings


@dataclass(frozen=True)
class AssessmentNotice:
    """An assessment waiting for the actor: sent back for changes, or resubmitted after them."""

    id: int
    product: str
    round: int
    to_fix: int  # answers flagged as needing changes


@dataclass(frozen=True)
class CommentNotice:
    """A recent comment addressed to the actor."""

    body: str
    time: datetime
    author: str
    product: str
    assessment_id: int


@dataclass(frozen=True)
class Notices:
    """What the home page tells the actor: assessments waiting for them, and the latest comments."""

    assessments: list[AssessmentNotice]
    comments: list[CommentNotice]


def notices(session: Session, actor: Actor, *, limit: int = 5) -> Notices:
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
        AssessmentNotice(**r._mapping)
        for r in session.execute(stmt.order_by(Assessment.updated_at.desc()))
    ]
    return Notices(waiting, _latest_comments(session, actor, settings, limit))


def latest_comments(session: Session, actor: Actor, *, limit: int = 5) -> list[CommentNotice]:
    """The latest comments addressed to the actor (from clients to reviewers, and back)."""
    return _latest_comments(session, actor, get_settings(session), limit)


def _latest_comments(
    session: Session, actor: Actor, settings: dict[str, Any], limit: int
) -> list[CommentNotice]:
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
        CommentNotice(r.body, r.created_at, r.name or "system", r.product, r.assessment_id)
        for r in rows
    ]
