"""Comment threads on an assessment or one answer: write, resolve, and list them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, notify_events
from core.access import REVIEWERS, Actor, require_org_write
from core.errors import AccessDenied, NotFound, ValidationError
from core.models import (
    VISIBILITIES,
    Assessment,
    LeadComment,
    Question,
    QuestionnaireResponse,
    User,
    utcnow,
)
from core.text import clean_text
from core.workspace import get_assessment

MAX_COMMENT = 5000


@dataclass(frozen=True)
class Comment:
    """One comment as the pages show it: on an answer (its question key) or on the assessment."""

    id: int
    question: str | None  # None for a comment on the whole assessment
    author: str
    body: str
    visibility: str
    resolved: bool
    time: datetime
    parent_id: int | None


def find_response(
    session: Session, assessment: Assessment, question_key: str
) -> QuestionnaireResponse:
    """The stored answer to one question of the assessment, or NotFound."""
    response = session.scalar(
        select(QuestionnaireResponse)
        .join(Question, Question.id == QuestionnaireResponse.question_id)
        .where(QuestionnaireResponse.assessment_id == assessment.id, Question.key == question_key)
    )
    if response is None:
        raise NotFound(f"{question_key}: there is no answer to review.")
    return response


def add_comment(
    session: Session,
    actor: Actor,
    assessment_id: int,
    body: str,
    *,
    visibility: str = "shared",
    question_key: str | None = None,
    parent_id: int | None = None,
    now: datetime | None = None,
    notify: bool = True,
) -> LeadComment:
    """Comment on an assessment or one answer; clients may only write shared comments."""
    now = now or utcnow()
    assessment = get_assessment(session, actor, assessment_id)
    if actor.is_client:
        require_org_write(actor, assessment.organization_id)
    if actor.role not in (*REVIEWERS, "client"):
        raise AccessDenied("Only reviewers and the client may comment.")
    body = clean_text(body, "The comment", limit=MAX_COMMENT, multiline=True)
    if visibility not in VISIBILITIES or (actor.is_client and visibility != "shared"):
        raise ValidationError("Comments are either shared or internal (reviewers only).")
    response = find_response(session, assessment, question_key) if question_key else None
    if parent_id is not None:
        parent = _comment(session, actor, parent_id)
        if parent.assessment_id != assessment.id:
            raise ValidationError("A reply belongs to the same assessment as its comment.")
        response = (
            session.get(QuestionnaireResponse, parent.response_id) if parent.response_id else None
        )
        visibility = parent.visibility
    comment = LeadComment(
        assessment_id=assessment.id,
        response_id=response.id if response else None,
        parent_id=parent_id,
        author_id=actor.user_id,
        body=body,
        visibility=visibility,
        created_at=now,
        updated_at=now,
    )
    session.add(comment)
    session.flush()
    audit.record(
        session,
        actor,
        "comment_added",
        object_type="comment",
        object_id=comment.id,
        detail={"assessment_id": assessment.id, "visibility": visibility},
        now=now,
    )
    if notify:
        notify_events.on_comment(session, actor, assessment, comment, now)
    return comment


def _comment(session: Session, actor: Actor, comment_id: int) -> LeadComment:
    comment = session.get(LeadComment, comment_id)
    if (
        comment is None
        or not comment.is_active
        or (actor.is_client and comment.visibility != "shared")
    ):
        raise NotFound("That comment does not exist.")
    get_assessment(session, actor, comment.assessment_id)
    return comment


def resolve_comment(
    session: Session,
    actor: Actor,
    comment_id: int,
    *,
    resolved: bool = True,
    now: datetime | None = None,
) -> None:
    """Mark a comment thread resolved (or open again); reviewers and the comment's client."""
    comment = _comment(session, actor, comment_id)
    if actor.role not in REVIEWERS:
        require_org_write(
            actor, get_assessment(session, actor, comment.assessment_id).organization_id
        )
    now = now or utcnow()
    comment.is_resolved = resolved
    comment.resolved_by, comment.resolved_at = (actor.user_id, now) if resolved else (None, None)
    audit.record(
        session,
        actor,
        "comment_resolved" if resolved else "comment_reopened",
        object_type="comment",
        object_id=comment.id,
        now=now,
    )


def list_comments(session: Session, actor: Actor, assessment_id: int) -> list[Comment]:
    """Comments on an assessment the actor may read; internal ones never reach a client."""
    assessment = get_assessment(session, actor, assessment_id)
    stmt = (
        select(LeadComment, Question.key, User.name)
        .outerjoin(QuestionnaireResponse, QuestionnaireResponse.id == LeadComment.response_id)
        .outerjoin(Question, Question.id == QuestionnaireResponse.question_id)
        .outerjoin(User, User.id == LeadComment.author_id)
        .where(LeadComment.assessment_id == assessment.id, LeadComment.is_active)
        .order_by(LeadComment.created_at, LeadComment.id)
    )
    if actor.is_client:
        stmt = stmt.where(LeadComment.visibility == "shared")
    return [
        Comment(
            id=c.id,
            question=key,
            author=author or "system",
            body=c.body,
            visibility=c.visibility,
            resolved=c.is_resolved,
            time=c.created_at,
            parent_id=c.parent_id,
        )
        for c, key, author in session.execute(stmt).all()
    ]
