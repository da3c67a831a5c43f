"""The reviewer side: claim, assign, flag answers, and decide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, notify_events
from core.access import REVIEWERS, Actor, require_role
from core.comments import MAX_COMMENT, add_comment, find_response
from core.errors import ValidationError
from core.models import Assessment, Question, QuestionnaireResponse, User, utcnow
from core.text import clean_text
from core.workflow import transition
from core.workspace import get_assessment


@dataclass(frozen=True)
class QueueCounts:
    """How many assessments wait for review, are under review, and are under review by me."""

    waiting: int
    in_review: int
    mine: int


@dataclass(frozen=True)
class Reviewer:
    """An active lead reviewer or admin: someone an assessment can be assigned to."""

    id: int
    name: str


def claim(
    session: Session, actor: Actor, assessment_id: int, *, now: datetime | None = None
) -> None:
    """Start reviewing a submitted assessment; it becomes yours unless it was assigned to someone."""
    require_role(actor, *REVIEWERS)
    assessment = get_assessment(session, actor, assessment_id)
    if assessment.reviewer_id is None:
        assessment.reviewer_id = actor.user_id
    transition(session, actor, assessment, "under_review", now=now)
    notify_events.on_claimed(session, actor, assessment, now)


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
    if before != reviewer.id:
        notify_events.on_assigned(session, actor, assessment, now)


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
    response = find_response(session, assessment, question_key)
    response.review_state = state
    if comment:
        add_comment(  # it reaches the client with the change request, not on its own
            session, actor, assessment_id, comment, question_key=question_key, now=now, notify=False
        )
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
    notify_events.on_changes_requested(session, actor, assessment, note, now)
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
    notify_events.on_decided(session, actor, assessment, decision, note, now)


def review_queue_counts(session: Session, actor: Actor) -> QueueCounts:
    """How many assessments wait for review, are in review, and are mine."""
    require_role(actor, *REVIEWERS)
    rows = session.execute(
        select(Assessment.status, Assessment.reviewer_id, func.count())
        .where(Assessment.status.in_(("submitted", "under_review")), Assessment.is_active)
        .group_by(Assessment.status, Assessment.reviewer_id)
    ).all()
    return QueueCounts(
        waiting=sum(n for s, _, n in rows if s == "submitted"),
        in_review=sum(n for s, _, n in rows if s == "under_review"),
        mine=sum(n for s, r, n in rows if s == "under_review" and r == actor.user_id),
    )


def reviewers(session: Session, actor: Actor) -> list[Reviewer]:
    """Active lead reviewers and admins, the people an assessment can be assigned to."""
    require_role(actor, *REVIEWERS)
    rows = session.execute(
        select(User.id, User.name)
        .where(User.is_active, User.role.in_(REVIEWERS))
        .order_by(User.name)
    ).all()
    return [Reviewer(r.id, r.name) for r in rows]
