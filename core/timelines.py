"""Status timelines of assessments: each change in words, its time and actor, and the reviewer's
current decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.access import Actor, scope_assessments
from core.models import Assessment, ProductStatus, User, utcnow
from core.settings import get_settings
from core.workflow import LABELS
from core.workspace import get_assessment

# A reviewer's decision, whose note is addressed to the client; a new submission supersedes it.
DECISIONS = ("changes_requested", "approved", "rejected")
_EVENTS: dict[tuple[str | None, str], str] = {
    ("not_started", "in_progress"): "Answering started",
    ("changes_requested", "in_progress"): "Answering resumed",
    ("in_progress", "submitted"): "Submitted for review",
    ("submitted", "under_review"): "Review started",
}


@dataclass(frozen=True)
class StatusEvent:
    """One status change as the client reads it: when, the new status, what it means, the note
    addressed to the client, and by whom."""

    time: datetime
    status: str
    what: str
    note: str
    by: str


@dataclass(frozen=True)
class TimelineStep:
    """One status change on the reviewer's timeline, with how long the assessment stayed there."""

    time: datetime
    from_status: str | None
    to_status: str
    actor: str
    note: str
    days_in_state: float


def event_label(from_status: str | None, to_status: str) -> str:
    """What a status change means, in words a client reads on the timeline."""
    return _EVENTS.get((from_status, to_status), LABELS.get(to_status, to_status))


def current_decision(history: list[StatusEvent]) -> StatusEvent | None:
    """The latest decision of a timeline (oldest first), unless the client submitted again after
    it."""
    for event in reversed(history):
        if event.status in DECISIONS:
            return event
        if event.status == "submitted":
            return None
    return None


def _history_rows(session: Session, stmt: Select[ProductStatus]) -> dict[int, list[StatusEvent]]:
    rows = session.execute(
        stmt.add_columns(User.name)
        .outerjoin(User, User.id == ProductStatus.actor_id)
        .order_by(ProductStatus.created_at, ProductStatus.id)
    ).all()
    history: dict[int, list[StatusEvent]] = {}
    for r, name in rows:
        history.setdefault(r.assessment_id, []).append(
            StatusEvent(
                time=r.created_at,
                status=r.to_status,
                what=event_label(r.from_status, r.to_status),
                note=r.note or "",
                by=name or "system",
            )
        )
    return history


def status_history(session: Session, actor: Actor, assessment_id: int) -> list[StatusEvent]:
    """The status timeline of an assessment the actor may read, oldest first: when, what, who,
    and the note to the client (status notes are written for the client; internal notes are
    comments and never appear here)."""
    get_assessment(session, actor, assessment_id)
    stmt = select(ProductStatus).where(ProductStatus.assessment_id == assessment_id)
    return _history_rows(session, stmt).get(assessment_id, [])


def timelines(
    session: Session, actor: Actor, assessment_ids: list[int]
) -> dict[int, list[StatusEvent]]:
    """Status timelines (as in status_history) of those of these assessments the actor may read."""
    stmt = (
        select(ProductStatus)
        .join(Assessment, Assessment.id == ProductStatus.assessment_id)
        .where(Assessment.is_active, ProductStatus.assessment_id.in_(list(assessment_ids)))
    )
    stmt = scope_assessments(stmt, actor, get_settings(session)["reviewer_visibility"], Assessment)
    return _history_rows(session, stmt)


def timeline(
    session: Session, actor: Actor, assessment_id: int, *, now: datetime | None = None
) -> list[TimelineStep]:
    """Every status change with actor, note, and how long the assessment stayed in that state."""
    get_assessment(session, actor, assessment_id)
    rows = session.execute(
        select(ProductStatus, User.name)
        .outerjoin(User, User.id == ProductStatus.actor_id)
        .where(ProductStatus.assessment_id == assessment_id)
        .order_by(ProductStatus.created_at, ProductStatus.id)
    ).all()
    ends = [r.created_at for r, _ in rows[1:]] + [now or utcnow()]
    return [
        TimelineStep(
            time=r.created_at,
            from_status=r.from_status,
            to_status=r.to_status,
            actor=name or "system",
            note=r.note,
            days_in_state=round((end - r.created_at).total_seconds() / 86400, 1),
        )
        for (r, name), end in zip(rows, ends, strict=False)
    ]
