"""The reviewer side: claim, comment, flag answers, and decide."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.access import REVIEWERS, Actor, require_org_write, require_role, scope_assessments
from core.errors import AccessDenied, NotFound, ValidationError
from core.models import (
    VISIBILITIES,
    Assessment,
    LeadComment,
    ProductStatus,
    Question,
    QuestionnaireResponse,
    User,
    utcnow,
)
from core.settings import get_settings
from core.text import clean_text
from core.workflow import event_label, transition
from core.workspace import get_assessment

MAX_COMMENT = 5000


def claim(
    session: Session, actor: Actor, assessment_id: int, *, now: datetime | None = None
) -> None:
    """Start reviewing a submitted assessment; it becomes yours unless it was assigned to someone."""
    require_role(actor, *REVIEWERS)
    assessment = get_assessment(session, actor, assessment_id)
    if assessment.reviewer_id is None:
        assessment.reviewer_id = actor.user_id
    transition(session, actor, assessment, "under_review", now=now)


def _response(session: Session, assessment: Assessment, question_key: str) -> QuestionnaireResponse:
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
    response = _response(session, assessment, question_key) if question_key else None
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
        require_org_write(actor, session.get(Assessment, comment.assessment_id).organization_id)
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


def assign(
    session: Session,
    actor: Actor,
    assessment_id: int,
    reviewer_id: int,
    *,
    now: datetime | None = None,
) -> None:
    """Give an assessment to a lead reviewer (lead reviewers and admins)."""
    require_role(actor, *REVIEWERS)
    assessment = get_assessment(session, actor, assessment_id)
    reviewer = session.get(User, reviewer_id)
    if reviewer is None or not reviewer.is_active or reviewer.role not in REVIEWERS:
        raise ValidationError(
            "Assessments can be assigned only to active lead reviewers or admins."
        )
    if assessment.status not in ("submitted", "under_review"):
        raise ValidationError("Only submitted assessments or those under review can be assigned.")
    before = assessment.reviewer_id
    assessment.reviewer_id = reviewer.id
    audit.record(
        session,
        actor,
        "assessment_assigned",
        object_type="assessment",
        object_id=assessment.id,
        detail={"reviewer_id": [before, reviewer.id]},
        now=now,
    )


def set_review_state(
    session: Session,
    actor: Actor,
    assessment_id: int,
    question_key: str,
    state: str,
    *,
    comment: str = "",
    now: datetime | None = None,
) -> None:
    """Accept an answer, or flag it as needing changes with a shared comment."""
    require_role(actor, *REVIEWERS)
    assessment = get_assessment(session, actor, assessment_id)
    if assessment.status != "under_review":
        raise ValidationError("Answers can be reviewed only while the assessment is under review.")
    if state not in ("accepted", "needs_changes"):
        raise ValidationError("An answer is either accepted or flagged as needing changes.")
    comment = clean_text(comment, "The comment", limit=MAX_COMMENT, multiline=True, required=False)
    if state == "needs_changes" and not comment:
        raise ValidationError("Say what needs to change: a flagged answer needs a shared comment.")
    response = _response(session, assessment, question_key)
    response.review_state = state
    if comment:
        add_comment(session, actor, assessment_id, comment, question_key=question_key, now=now)
    audit.record(
        session,
        actor,
        "answer_reviewed",
        object_type="answer",
        object_id=response.id,
        detail={"question": question_key, "state": state},
        now=now,
    )


def flagged_keys(session: Session, actor: Actor, assessment_id: int) -> list[str]:
    """Keys of the answers a reviewer flagged as needing changes."""
    assessment = get_assessment(session, actor, assessment_id)
    return list(
        session.scalars(
            select(Question.key)
            .join(QuestionnaireResponse, QuestionnaireResponse.question_id == Question.id)
            .where(
                QuestionnaireResponse.assessment_id == assessment.id,
                QuestionnaireResponse.review_state == "needs_changes",
            )
            .order_by(Question.position)
        )
    )


def request_changes(
    session: Session,
    actor: Actor,
    assessment_id: int,
    *,
    note: str = "",
    now: datetime | None = None,
) -> None:
    """Send the assessment back to the client; needs at least one flagged answer."""
    assessment = get_assessment(session, actor, assessment_id)
    flagged = session.scalar(
        select(func.count())
        .select_from(QuestionnaireResponse)
        .where(
            QuestionnaireResponse.assessment_id == assessment.id,
            QuestionnaireResponse.review_state == "needs_changes",
        )
    )
    if not flagged:
        raise ValidationError(
            "Flag at least one answer with a shared comment before requesting changes."
        )
    note = _clean_note(note)
    transition(session, actor, assessment, "changes_requested", note=note, now=now)
    assessment.round += 1


def _clean_note(note: str) -> str:
    return clean_text(
        note, "The note to the client", limit=MAX_COMMENT, multiline=True, required=False
    )


def decide(
    session: Session,
    actor: Actor,
    assessment_id: int,
    decision: str,
    *,
    note: str = "",
    now: datetime | None = None,
) -> None:
    """Approve or reject; a rejection needs a reason."""
    if decision not in ("approved", "rejected"):
        raise ValidationError("The decision is either approved or rejected.")
    note = _clean_note(note)
    if decision == "rejected" and not note:
        raise ValidationError("Give a reason for the rejection.")
    assessment = get_assessment(session, actor, assessment_id)
    now = now or utcnow()
    assessment.decided_at = now
    transition(session, actor, assessment, decision, note=note, now=now)


def review_queue_counts(session: Session, actor: Actor) -> dict[str, int]:
    """How many assessments wait for review, are in review, and are mine."""
    require_role(actor, *REVIEWERS)
    rows = session.execute(
        select(Assessment.status, Assessment.reviewer_id, func.count())
        .where(Assessment.status.in_(("submitted", "under_review")), Assessment.is_active)
        .group_by(Assessment.status, Assessment.reviewer_id)
    ).all()
    return {
        "waiting": sum(n for s, _, n in rows if s == "submitted"),
        "in_review": sum(n for s, _, n in rows if s == "under_review"),
        "mine": sum(n for s, r, n in rows if s == "under_review" and r == actor.user_id),
    }


def list_comments(session: Session, actor: Actor, assessment_id: int) -> list[dict]:
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
        {
            "id": c.id,
            "question": key,
            "author": author or "system",
            "body": c.body,
            "visibility": c.visibility,
            "resolved": c.is_resolved,
            "time": c.created_at,
            "parent_id": c.parent_id,
        }
        for c, key, author in session.execute(stmt).all()
    ]


def reviewers(session: Session, actor: Actor) -> list[dict]:
    """Active lead reviewers and admins, the people an assessment can be assigned to."""
    require_role(actor, *REVIEWERS)
    rows = session.execute(
        select(User.id, User.name)
        .where(User.is_active, User.role.in_(REVIEWERS))
        .order_by(User.name)
    ).all()
    return [{"id": r.id, "name": r.name} for r in rows]


def _history_rows(session: Session, stmt) -> dict[int, list[dict]]:
    rows = session.execute(
        stmt.add_columns(User.name)
        .outerjoin(User, User.id == ProductStatus.actor_id)
        .order_by(ProductStatus.created_at, ProductStatus.id)
    ).all()
    history: dict[int, list[dict]] = {}
    for r, name in rows:
        history.setdefault(r.assessment_id, []).append(
            {
                "time": r.created_at,
                "status": r.to_status,
                "what": event_label(r.from_status, r.to_status),
                "note": r.note or "",
                "by": name or "system",
            }
        )
    return history


def status_history(session: Session, actor: Actor, assessment_id: int) -> list[dict]:
    """The status timeline of an assessment the actor may read, oldest first: when, what, who,
    and the note to the client (status notes are written for the client; internal notes are
    comments and never appear here)."""
    get_assessment(session, actor, assessment_id)
    stmt = select(ProductStatus).where(ProductStatus.assessment_id == assessment_id)
    return _history_rows(session, stmt).get(assessment_id, [])


def timelines(session: Session, actor: Actor, assessment_ids: list[int]) -> dict[int, list[dict]]:
    """Status timelines (as in status_history) of those of these assessments the actor may read."""
    stmt = (
        select(ProductStatus)
        .join(Assessment, Assessment.id == ProductStatus.assessment_id)
        .where(Assessment.is_active, ProductStatus.assessment_id.in_(list(assessment_ids)))
    )
    stmt = scope_assessments(stmt, actor, get_settings(session)["reviewer_visibility"], Assessment)
    return _history_rows(session, stmt)
