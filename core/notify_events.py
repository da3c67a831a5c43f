"""Who is told what when an assessment moves or a comment is written: outbox rows, in the
caller's transaction, for the people core/access lets read the assessment.

Clients hear about their own organisation's assessments only, and nobody's message ever holds
an internal comment: a message carries the note to the client and shared comments alone. The
actor is never told about their own action. Each event also writes one row per webhook that
asked for it (core/webhooks.py), with facts only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import REVIEWERS, Actor, can_read_assessment
from core.models import Assessment, LeadComment, Organization, Product, Question, User, utcnow
from core.models import QuestionnaireResponse as Response
from core.outbox import enqueue_for
from core.settings import get_setting
from core.webhooks import enqueue_event

MAX_COMMENTS = 30  # shared comments quoted in one change request; the page has the rest
# The page each kind's link opens, for clients and for staff.
LINKS = {
    "submitted": ("questionnaire", "review"),
    "claimed": ("client_home", "review"),
    "assigned": ("client_home", "review"),
    "changes_requested": ("questionnaire", "review"),
    "approved": ("scores", "review"),
    "rejected": ("scores", "review"),
    "comment_to_client": ("questionnaire", "review"),
    "reply_to_reviewer": ("questionnaire", "review"),
    "due_soon": ("questionnaire", "review"),
    "overdue": ("questionnaire", "review"),
    "evidence_expiring": ("questionnaire", "review"),
    "evidence_expired": ("questionnaire", "review"),
}


def _links(kind: str, assessment_id: int) -> dict[str, str]:
    client, staff = LINKS[kind]
    query = "" if client == "client_home" else f"?assessment={assessment_id}"
    return {"client": client + query, "staff": f"{staff}?assessment={assessment_id}"}


def clients_of(session: Session, organization_id: int) -> list[User]:
    """Active client accounts of an organisation."""
    return list(
        session.scalars(
            select(User)
            .where(User.organization_id == organization_id, User.role == "client", User.is_active)
            .order_by(User.id)
        )
    )


def _reviewers_of(session: Session, assessment: Assessment) -> list[User]:
    """The assessment's reviewer, or, before anyone took it, every active lead reviewer (admins
    when there is none)."""
    if assessment.reviewer_id is not None:
        return [u for u in [session.get(User, assessment.reviewer_id)] if u and u.is_active]
    for roles in (("lead_reviewer",), REVIEWERS):
        people = list(
            session.scalars(
                select(User).where(User.role.in_(roles), User.is_active).order_by(User.id)
            )
        )
        if people:
            return people
    return []


def _readers(
    session: Session, assessment: Assessment, people: list[User], actor: Actor
) -> list[User]:
    visibility = "all"  # only a lead reviewer's reach depends on the setting: read it for one
    if any(u.role == "lead_reviewer" for u in people):
        visibility = get_setting(session, "reviewer_visibility")
    seen: set[int] = set()
    kept = []
    for user in people:
        who = Actor(user.id, user.username, user.role, user.organization_id)
        if user.id == actor.user_id or user.id in seen:
            continue
        if can_read_assessment(who, assessment, visibility):
            seen.add(user.id)
            kept.append(user)
    return kept


def _facts(session: Session, actor: Actor, assessment: Assessment) -> dict[str, Any]:
    actor_name = select(User.name).where(User.id == actor.user_id).scalar_subquery()
    product, organization, person = session.execute(
        select(Product.name, Organization.name, actor_name)
        .join(Organization, Organization.id == Product.organization_id)
        .where(Product.id == assessment.product_id)
    ).one()
    return {
        "assessment_id": assessment.id,
        "product": product,
        "organization": organization,
        "round": assessment.round,
        "actor": person or "SecureSphere",
    }


def _tell(
    session: Session,
    actor: Actor,
    assessment: Assessment,
    kind: str,
    people: list[User],
    extra: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    with session.no_autoflush:  # every row goes in one flush, not one per query in between
        facts = _facts(session, actor, assessment)
        enqueue_event(session, kind, assessment, facts, now or utcnow())
        readers = _readers(session, assessment, people, actor)
        if not readers:
            return
        enqueue_for(
            session,
            readers,
            kind=kind,
            data={**facts, **(extra or {})},
            links=_links(kind, assessment.id),
            organization_id=assessment.organization_id,
            assessment_id=assessment.id,
            now=now,
        )


def on_submitted(
    session: Session, actor: Actor, assessment: Assessment, now: datetime | None = None
) -> None:
    """Tell the reviewer (or every lead reviewer) that an assessment waits for them."""
    _tell(session, actor, assessment, "submitted", _reviewers_of(session, assessment), now=now)


def on_claimed(
    session: Session, actor: Actor, assessment: Assessment, now: datetime | None = None
) -> None:
    """Tell the client a reviewer started reviewing their assessment."""
    people = clients_of(session, assessment.organization_id)
    _tell(session, actor, assessment, "claimed", people, now=now)


def on_assigned(
    session: Session, actor: Actor, assessment: Assessment, now: datetime | None = None
) -> None:
    """Tell the reviewer an assessment was given to them."""
    _tell(session, actor, assessment, "assigned", _reviewers_of(session, assessment), now=now)


def on_changes_requested(
    session: Session, actor: Actor, assessment: Assessment, note: str, now: datetime | None = None
) -> None:
    """Tell the client what to change: the note and the shared comments of this round."""
    extra = {"note": note, "comments": shared_comments(session, assessment)}
    people = clients_of(session, assessment.organization_id)
    _tell(session, actor, assessment, "changes_requested", people, extra, now)


def on_decided(
    session: Session,
    actor: Actor,
    assessment: Assessment,
    decision: str,
    note: str,
    now: datetime | None = None,
) -> None:
    """Tell the client the assessment was approved or rejected, with the note."""
    people = clients_of(session, assessment.organization_id)
    _tell(session, actor, assessment, decision, people, {"note": note}, now)


def on_comment(
    session: Session,
    actor: Actor,
    assessment: Assessment,
    comment: LeadComment,
    now: datetime | None = None,
) -> None:
    """A shared comment from a reviewer tells the client; one from a client tells the reviewer
    (and the reviewer whose comment it answers). Internal comments tell nobody."""
    if comment.visibility != "shared":
        return
    extra = {"body": comment.body, "question": _question_text(session, comment)}
    if not actor.is_client:
        people = clients_of(session, assessment.organization_id)
        _tell(session, actor, assessment, "comment_to_client", people, extra, now)
        return
    people = _reviewers_of(session, assessment) if assessment.reviewer_id else []
    parent = session.get(LeadComment, comment.parent_id) if comment.parent_id else None
    author = session.get(User, parent.author_id) if parent and parent.author_id else None
    if author is not None and author.role in REVIEWERS and author.is_active:
        people.append(author)
    _tell(session, actor, assessment, "reply_to_reviewer", people, extra, now)


def _question_text(session: Session, comment: LeadComment) -> str:
    if comment.response_id is None:
        return ""
    text = session.scalar(
        select(Question.text)
        .join(Response, Response.question_id == Question.id)
        .where(Response.id == comment.response_id)
    )
    return text or ""


def shared_comments(session: Session, assessment: Assessment) -> list[dict[str, str]]:
    """The reviewers' shared comments since the last submission, oldest first (internal ones
    never), each with the question it is on."""
    author = User.__table__.alias("author")
    stmt = (
        select(LeadComment.body, Question.text)
        .outerjoin(Response, Response.id == LeadComment.response_id)
        .outerjoin(Question, Question.id == Response.question_id)
        .join(author, author.c.id == LeadComment.author_id)
        .where(
            LeadComment.assessment_id == assessment.id,
            LeadComment.visibility == "shared",
            LeadComment.is_active,
            author.c.role != "client",
        )
        .order_by(LeadComment.created_at, LeadComment.id)
        .limit(MAX_COMMENTS)
    )
    if assessment.submitted_at is not None:
        stmt = stmt.where(LeadComment.created_at >= assessment.submitted_at)
    return [{"question": q or "", "body": body} for body, q in session.execute(stmt)]
