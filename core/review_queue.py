"""What waits for reviewers and clients: the review queue, resubmissions, the next assessment, and
what changed since the last change request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, case, func, select
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from core.access import REVIEWERS, Actor, require_role, scope_assessments
from core.models import (
    Assessment,
    EvidenceFile,
    Organization,
    Product,
    ProductStatus,
    Question,
    Questionnaire,
    QuestionnaireResponse,
    User,
    utcnow,
)
from core.paging import Page
from core.settings import get_settings
from core.workspace import get_assessment

WAITING = ("submitted", "under_review")
CLIENT_TODO = ("changes_requested", "in_progress")
# Decision due dates follow submission times, so "submitted" also orders by decision due.
SORTS = {
    "submitted": Assessment.submitted_at,
    "score": Assessment.latest_score,
    "organization": Organization.name,
}


@dataclass(frozen=True)
class QueueRow:
    """One assessment waiting for review, with the day its decision is due."""

    id: int
    organization: str
    product: str
    questionnaire: str  # title and version
    status: str
    submitted_at: datetime | None
    due_date: date | None
    round: int
    latest_score: float | None
    reviewer: str | None
    decision_due: date | None
    overdue: bool


@dataclass(frozen=True)
class Resubmission:
    """A submission waiting for review again after a change request."""

    id: int
    product: str
    organization: str
    round: int
    submitted_at: datetime | None


@dataclass(frozen=True)
class RoundChanges:
    """Question keys whose answer, or evidence, changed since changes were last requested."""

    answers: set[str]
    evidence: set[str]

    @property
    def questions(self) -> set[str]:
        """Every question whose answer or evidence changed."""
        return self.answers | self.evidence


def decision_due(submitted_at: datetime | None, sla_days: int) -> date | None:
    """The day by which a submission should have its decision (review_sla_days after it)."""
    return None if submitted_at is None else (submitted_at + timedelta(days=sla_days)).date()


def _overdue_cutoff(now: datetime, sla_days: int) -> datetime:
    """Submissions before this instant are overdue today: their decision due day has passed."""
    return datetime.combine(now.date() - timedelta(days=sla_days), time.min, tzinfo=UTC)


def review_queue(
    session: Session,
    actor: Actor,
    *,
    statuses: tuple[str, ...] = WAITING,
    organization_id: int | None = None,
    questionnaire_id: int | None = None,
    mine: bool = False,
    overdue_only: bool = False,
    sort: str = "submitted",
    page: int = 1,
    page_size: int = 25,
    now: datetime | None = None,
) -> Page[QueueRow]:
    """Assessments waiting for review with the day their decision is due and whether that day has
    passed (review_sla_days after submission), filtered, sorted and paged."""
    require_role(actor, *REVIEWERS)
    settings = get_settings(session)
    now, sla = now or utcnow(), settings["review_sla_days"]
    cutoff = _overdue_cutoff(now, sla)
    reviewer = aliased(User)
    stmt: Select[*tuple[Any, ...]] = (
        select(
            Assessment.id,
            Organization.name.label("organization"),
            Product.name.label("product"),
            (
                Questionnaire.title
                + " v"
                + func.cast(Questionnaire.version, Questionnaire.title.type)
            ).label("questionnaire"),
            Assessment.status,
            Assessment.submitted_at,
            Assessment.due_date,
            Assessment.round,
            Assessment.latest_score,
            reviewer.name.label("reviewer"),
        )
        .join(Product, Product.id == Assessment.product_id)
        .join(Organization, Organization.id == Assessment.organization_id)
        .join(Questionnaire, Questionnaire.id == Assessment.questionnaire_id)
        .outerjoin(reviewer, reviewer.id == Assessment.reviewer_id)
        .where(Assessment.is_active, Assessment.status.in_(statuses))
    )
    stmt = scope_assessments(stmt, actor, settings["reviewer_visibility"], Assessment)
    if organization_id is not None:
        stmt = stmt.where(Assessment.organization_id == organization_id)
    if questionnaire_id is not None:
        stmt = stmt.where(Assessment.questionnaire_id == questionnaire_id)
    if mine:
        stmt = stmt.where(Assessment.reviewer_id == actor.user_id)
    if overdue_only:
        stmt = stmt.where(Assessment.submitted_at < cutoff)
    total = session.scalars(select(func.count()).select_from(stmt.subquery())).one()
    order = SORTS.get(sort, Assessment.submitted_at)
    rows = session.execute(
        stmt.order_by(order.is_(None), order, Assessment.id)
        .limit(page_size)
        .offset((max(page, 1) - 1) * page_size)
    ).all()
    return Page([_queue_row(r, sla, now) for r in rows], total)


def _queue_row(row: Row[Any], sla_days: int, now: datetime) -> QueueRow:
    due = decision_due(row.submitted_at, sla_days)
    return QueueRow(**row._mapping, decision_due=due, overdue=due is not None and due < now.date())


def resubmissions(
    session: Session, actor: Actor, *, page: int = 1, page_size: int = 10
) -> Page[Resubmission]:
    """Submissions waiting for review again after a change request, newest first, paged; with
    their total, so a long list can be summarised in one line."""
    require_role(actor, *REVIEWERS)
    stmt = (
        select(
            Assessment.id,
            Product.name.label("product"),
            Organization.name.label("organization"),
            Assessment.round,
            Assessment.submitted_at,
        )
        .join(Product, Product.id == Assessment.product_id)
        .join(Organization, Organization.id == Assessment.organization_id)
        .where(Assessment.is_active, Assessment.status == "submitted", Assessment.round > 1)
    )
    stmt = scope_assessments(stmt, actor, get_settings(session)["reviewer_visibility"], Assessment)
    total = session.scalars(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.execute(
        stmt.order_by(Assessment.submitted_at.desc(), Assessment.id.desc())
        .limit(page_size)
        .offset((max(page, 1) - 1) * page_size)
    ).all()
    return Page([Resubmission(**r._mapping) for r in rows], total)


def next_for(session: Session, actor: Actor) -> int | None:
    """The assessment waiting for this actor: for reviewers the oldest submission awaiting a
    decision; for clients the one sent back for changes, else the one in progress (earliest due
    first). None when nothing waits, or for roles that only read."""
    order: tuple[ColumnElement[Any] | QueryableAttribute[Any], ...]
    if actor.role in REVIEWERS:
        statuses, order = WAITING, (Assessment.submitted_at.is_(None), Assessment.submitted_at)
    elif actor.is_client:
        statuses = CLIENT_TODO
        order = (
            case((Assessment.status == "changes_requested", 0), else_=1),
            Assessment.due_date.is_(None),
            Assessment.due_date,
        )
    else:
        return None
    stmt = select(Assessment.id).where(Assessment.is_active, Assessment.status.in_(statuses))
    stmt = scope_assessments(stmt, actor, get_settings(session)["reviewer_visibility"], Assessment)
    return session.scalar(stmt.order_by(*order, Assessment.id).limit(1))


def last_round_start(session: Session, assessment_id: int) -> datetime | None:
    """When the client was last asked for changes (the start of the current round)."""
    return session.scalar(
        select(func.max(ProductStatus.created_at)).where(
            ProductStatus.assessment_id == assessment_id,
            ProductStatus.to_status == "changes_requested",
        )
    )


def changed_since_last_round(session: Session, actor: Actor, assessment_id: int) -> RoundChanges:
    """Question keys whose answer or evidence changed since changes were last requested."""
    get_assessment(session, actor, assessment_id)
    since = last_round_start(session, assessment_id)
    if since is None:
        return RoundChanges(set(), set())
    answers = session.scalars(
        select(Question.key)
        .join(QuestionnaireResponse, QuestionnaireResponse.question_id == Question.id)
        .where(
            QuestionnaireResponse.assessment_id == assessment_id,
            QuestionnaireResponse.answered_at > since,
        )
    )
    evidence = session.scalars(
        select(Question.key)
        .join(EvidenceFile, EvidenceFile.question_id == Question.id)
        .where(
            EvidenceFile.assessment_id == assessment_id,
            (EvidenceFile.created_at > since) | (EvidenceFile.deleted_at > since),
        )
    )
    return RoundChanges(set(answers), set(evidence))
