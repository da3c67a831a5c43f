"""Words people read: one date format, and labels for the keys the database stores (roles, tiers,
statuses, triggers, audit actions, settings and their values).

Pages show these labels, never the keys; extracts keep the keys (stable for scripts) and add the
labels beside them. Times are stored and shown in UTC, and the UI says so in every time it shows.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import SupportsFloat, TypeVar

from core.banks.model import Question
from core.banks.question_types import QUESTION_TYPES

# One format for every date and time a person reads: "1 Dec 2026, 14:05 UTC" and "1 Dec 2026".
# The moment.js forms are the same formats for Streamlit's dataframe column types.
DATETIME_FORMAT_MOMENT = "D MMM YYYY, HH:mm [UTC]"
DATE_FORMAT_MOMENT = "D MMM YYYY"
NOTHING = "—"

ROLE_LABELS = {
    "admin": "Admin",
    "lead_reviewer": "Lead reviewer",
    "security_manager": "Security manager",
    "analyst": "Analyst",
    "client": "Client",
}
TIER_LABELS = {"tier_1": "Tier 1", "tier_2": "Tier 2", "tier_3": "Tier 3"}
STATUS_LABELS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "submitted": "Submitted",
    "under_review": "Under review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
    "rejected": "Rejected",
}
TRIGGER_LABELS = {
    "submit": "Submitted",
    "changes_requested": "Changes requested",
    "approve": "Approved",
    "reject": "Rejected",
    "recompute": "Recomputed",
}
REVIEW_STATE_LABELS = {
    "pending": "Unreviewed",
    "accepted": "Accepted",
    "needs_changes": "Needs changes",
}
VISIBILITY_LABELS = {"shared": "Shared with the client", "internal": "Internal (reviewers only)"}
ACTION_LABELS = {
    "sign_in": "Signed in",
    "sign_in_failed": "Sign-in failed",
    "second_factor_enrolled": "Second factor set up",
    "second_factor_used": "Second factor accepted",
    "second_factor_failed": "Second factor refused",
    "recovery_code_used": "Recovery code used",
    "second_factor_reset": "Second factor reset by an admin",
    "sign_out": "Signed out",
    "session_resumed": "Session resumed",
    "sessions_revoked": "Signed out everywhere",
    "access_denied": "Access refused",
    "account_throttled": "Account cooldown started",
    "password_changed": "Password changed",
    "password_reset": "Password reset",
    "invitation_created": "Invitation sent",
    "invitation_revoked": "Invitation withdrawn",
    "invitation_used": "Invitation accepted",
    "password_reset_requested": "Password reset link requested",
    "password_reset_used": "Password reset by link",
    "user_created": "User created",
    "user_updated": "User updated",
    "user_deactivated": "User deactivated",
    "user_activated": "User reactivated",
    "user_unlocked": "User unlocked",
    "organization_created": "Organisation created",
    "organization_updated": "Organisation updated",
    "organization_deactivated": "Organisation deactivated",
    "organization_activated": "Organisation reactivated",
    "product_created": "Product created",
    "product_updated": "Product updated",
    "assessment_started": "Assessment started",
    "answers_saved": "Answers saved",
    "answers_prefilled": "Answers pre-filled from a mapped assessment",
    "proposal_dismissed": "Proposed answer dismissed",
    "answer_reviewed": "Answer reviewed",
    "comment_added": "Comment added",
    "evidence_added": "Evidence added",
    "evidence_removed": "Evidence removed",
    "evidence_purged": "Removed evidence purged",
    "evidence_validity_changed": "Evidence validity changed",
    "score_plan_saved": "Score plan saved",
    "score_plan_cleared": "Score plan cleared",
    "status_changed": "Status changed",
    "score_snapshot": "Score recorded",
    "scores_recomputed": "Scores recomputed",
    "setting_changed": "Setting changed",
    "webhook_created": "Webhook registered",
    "webhook_enabled": "Webhook turned on",
    "webhook_disabled": "Webhook turned off",
    "webhook_deleted": "Webhook deleted",
    "bank_imported": "Question bank imported",
    "mapping_imported": "Framework mapping imported",
    "backup": "Backup written",
    "safety_backup": "Safety backup written",
    "restore": "Backup restored",
    "audit_checkpoint": "Audit trail purged (checkpoint)",
    "sign_in_attempts_purged": "Old sign-in records purged",
    "webhook_attempts_purged": "Old webhook delivery records purged",
    "synthetic_data_seeded": "Synthetic data added",
}
QUESTION_TYPE_LABELS = {key: qtype.label for key, qtype in QUESTION_TYPES.items()}

_T = TypeVar("_T")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken to be UTC already (as stored)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_datetime(value: datetime | str | None) -> str:
    """A time as people read it everywhere in the app: "1 Dec 2026, 14:05 UTC"."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    moment = as_utc(value)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def format_date(value: date | datetime | str | None) -> str:
    """A day as people read it everywhere in the app: "1 Dec 2026"."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = as_utc(value)
    return f"{value.day} {value:%b %Y}"


def iso_utc(value: _T) -> _T | str:
    """Datetimes as ISO 8601 UTC text ("2026-12-01T14:05:00Z"), for extracts; others unchanged."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, datetime) else value


def format_score(value: SupportsFloat | None, *, scale: float = 1, empty: str = NOTHING) -> str:
    """A score as the screen shows it, 0-100 with one decimal (scale=100 for 0-1 answer scores)."""
    if value is None or value != value:  # None or NaN: nothing scored
        return empty
    return f"{float(value) * scale:.1f}"


def humanize(key: object) -> str:
    """A stored key as words: "changes_requested" -> "Changes requested"."""
    text = "" if key is None else str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _label(labels: dict[str, str], key: object) -> str:
    if key is None or key == "":
        return NOTHING
    return labels.get(str(key), humanize(key))


def role_label(key: object) -> str:
    """ "lead_reviewer" -> "Lead reviewer"."""
    return _label(ROLE_LABELS, key)


def tier_label(key: object) -> str:
    """ "tier_1" -> "Tier 1"."""
    return _label(TIER_LABELS, key)


def status_label(key: object) -> str:
    """ "changes_requested" -> "Changes requested"."""
    return _label(STATUS_LABELS, key)


def trigger_label(key: object) -> str:
    """What took a score snapshot: "approve" -> "Approved"."""
    return _label(TRIGGER_LABELS, key)


def review_state_label(key: object) -> str:
    """A reviewer's verdict on an answer: "needs_changes" -> "Needs changes"."""
    return _label(REVIEW_STATE_LABELS, key)


def question_type_label(key: object) -> str:
    """ "multi_choice" -> "Multiple choice"."""
    return _label(QUESTION_TYPE_LABELS, key)


def answer_label(question: Question, value: object) -> str:
    """A given answer as people read it: the chosen options' labels as its question type
    describes them, a date in the one format, any other value as typed."""
    described = QUESTION_TYPES[question.type].describe(question, value)
    if described is not None:
        return described
    return format_date(str(value)) if question.type == "date" else str(value)


def action_label(key: object) -> str:
    """An audit action: "sign_in_failed" -> "Sign-in failed"."""
    return _label(ACTION_LABELS, key)


def plain_value(value: object) -> str:
    """Any stored value as words: dates in the one format, lists joined, yes/no, never None."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}" if value != int(value) else f"{value:g}"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(plain_value(v) for v in value) or NOTHING
    if isinstance(value, dict):
        return "; ".join(f"{humanize(k)}: {plain_value(v)}" for k, v in value.items()) or NOTHING
    text = str(value)
    if _ISO_DATETIME.match(text):
        return format_datetime(text)
    if _ISO_DATE.match(text):
        return format_date(text)
    return text
