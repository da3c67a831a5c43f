"""The assessment status machine: one table of allowed transitions and who may make them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core import audit
from core.access import RESPONDENTS, REVIEWERS, Actor
from core.errors import AccessDenied, ValidationError
from core.models import Assessment, ProductStatus, utcnow
from core.snapshots import ScoreInputs, take_snapshot

# (from, to) -> roles allowed to move an assessment along that edge.
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("not_started", "in_progress"): RESPONDENTS,
    ("in_progress", "submitted"): RESPONDENTS,
    ("changes_requested", "in_progress"): RESPONDENTS,
    ("submitted", "under_review"): REVIEWERS,
    ("under_review", "changes_requested"): REVIEWERS,
    ("under_review", "approved"): REVIEWERS,
    ("under_review", "rejected"): REVIEWERS,
}
EDITABLE = ("not_started", "in_progress", "changes_requested")
CLOSED = ("approved", "rejected")
SNAPSHOT_ON = {
    "submitted": "submit",
    "changes_requested": "changes_requested",
    "approved": "approve",
    "rejected": "reject",
}
LABELS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "submitted": "Submitted",
    "under_review": "Under review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
    "rejected": "Rejected",
}


def transition(
    session: Session,
    actor: Actor,
    assessment: Assessment,
    to_status: str,
    *,
    note: str = "",
    now: datetime | None = None,
    inputs: ScoreInputs | None = None,
) -> ProductStatus:
    """Move an assessment along an allowed edge: timeline row, audit row and, where due, a snapshot
    (scored from ``inputs`` when the caller loaded them already)."""
    now = now or utcnow()
    edge = (assessment.status, to_status)
    if edge not in TRANSITIONS:
        raise ValidationError(
            f"An assessment that is {LABELS[assessment.status].lower()} "
            f"cannot become {LABELS.get(to_status, to_status).lower()}."
        )
    if actor.role not in TRANSITIONS[edge]:
        raise AccessDenied("You do not have permission to make this status change.")
    if len(note) > 5000:
        raise ValidationError("The note must be at most 5,000 characters.")
    row = ProductStatus(
        assessment_id=assessment.id,
        from_status=assessment.status,
        to_status=to_status,
        actor_id=actor.user_id,
        note=note.strip(),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    assessment.status, assessment.updated_at = to_status, now
    audit.record(
        session,
        actor,
        "status_changed",
        object_type="assessment",
        object_id=assessment.id,
        detail={"from": edge[0], "to": to_status},
        now=now,
    )
    if to_status in SNAPSHOT_ON:
        take_snapshot(session, actor, assessment, SNAPSHOT_ON[to_status], now=now, inputs=inputs)
    session.flush()
    return row
