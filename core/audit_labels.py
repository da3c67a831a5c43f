"""Audit rows in the words the audit page and the audit extract show; no queries here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.audit_trail import AuditEntry
from core.labels import (
    NOTHING,
    VISIBILITY_LABELS,
    action_label,
    humanize,
    plain_value,
    review_state_label,
    role_label,
    status_label,
    tier_label,
    trigger_label,
)
from core.planner import parse_target, target_label
from core.setting_labels import setting_label, setting_value

_FIELDS = {
    "organization_id": "Organisation",
    "product_id": "Product",
    "questionnaire_id": "Questionnaire",
    "assessment_id": "Assessment",
    "question_key": "Question",
    "question": "Question",
    "size_bytes": "Size (bytes)",
    "overall": "Score",
    "sha256": "SHA-256",
    "state": "Verdict",
    "reviewer_id": "Reviewer",
    "cooldown_minutes": "Cooldown (minutes)",
    "hmac": "Signature",
    "last_deleted_id": "Last purged row",
    "last_deleted_hash": "Its hash",
    "ids": "Files",
    "email": "E-mail",
    "formula_version": "Formula version",
    "taken_at": "Taken",
    "filename": "File",
    "valid_until": "Valid until",
    "score_target": "Score target",
}
_VALUES: dict[str, Callable[[str], str]] = {
    "role": role_label,
    "tier": tier_label,
    "from": status_label,
    "to": status_label,
    "trigger": trigger_label,
    "state": review_state_label,
    "visibility": lambda v: VISIBILITY_LABELS.get(v, humanize(v)),
    "target": lambda v: target_label(parse_target(v)),
    "score_target": lambda v: target_label(parse_target(v)),
}
_OBJECTS = {
    "organization": "Organisation",
    "questionnaire": "Question bank",
    "audit_log": "Audit row",
    "evidence": "Evidence file",
}
_HASH = 64
_LIST_SHOWN = 5


def _value(key: str, value: object) -> str:
    if key in _VALUES and isinstance(value, str):
        return _VALUES[key](value)
    if (
        isinstance(value, str)
        and len(value) == _HASH
        and all(c in "0123456789abcdef" for c in value)
    ):
        return value[:12] + "…"  # a hash: its start identifies it well enough to read
    if isinstance(value, list) and len(value) > _LIST_SHOWN:
        shown = ", ".join(plain_value(v) for v in value[:_LIST_SHOWN])
        return f"{shown} and {len(value) - _LIST_SHOWN} more"
    return plain_value(value)


def _field(key: str, value: object, *, pair: bool = False) -> str:
    if key == "changed" and isinstance(value, dict):  # {field: [before, after]}
        return "; ".join(_field(k, v, pair=True) for k, v in value.items())
    label = _FIELDS.get(key, humanize(key))
    if (pair or key == "reviewer_id") and isinstance(value, list) and len(value) == 2:
        return f"{label}: {_value(key, value[0])} → {_value(key, value[1])}"
    return f"{label}: {_value(key, value)}"


def describe_detail(action: str, object_id: object, detail: dict[str, Any] | None) -> str:
    """An audit row's detail as readable fields: "Status: Submitted → Under review"."""
    detail = detail or {}
    if action == "setting_changed" and {"old", "new"} <= set(detail):
        key = str(object_id)
        return f"{setting_value(key, detail['old'])} → {setting_value(key, detail['new'])}"
    if action == "status_changed" and {"from", "to"} <= set(detail):
        return f"{status_label(detail['from'])} → {status_label(detail['to'])}"
    return "; ".join(_field(k, v) for k, v in detail.items()) or NOTHING


def describe_object(object_type: str, object_id: object) -> str:
    """What an audit row is about: "Setting: Idle sign-out (minutes)", "Assessment 5"."""
    if object_type == "setting":
        return f"Setting: {setting_label(object_id)}"
    if not object_type:
        return NOTHING
    return f"{_OBJECTS.get(object_type, humanize(object_type))} {object_id}".strip()


@dataclass(frozen=True)
class ReadableAuditRow:
    """An audit row in the words the audit page shows, one field per column."""

    id: int
    when: datetime
    who: str
    role: str
    action: str
    object: str
    details: str


def readable_row(row: AuditEntry) -> ReadableAuditRow:
    """One audit row (as list_audit gives it) in the words the audit page shows."""
    # No user but a role is the system actor (CLI, demo); neither is a stranger (failed sign-in).
    who = row.username or ("System" if row.actor_role else NOTHING)
    return ReadableAuditRow(
        id=row.id,
        when=row.created_at,
        who=who,
        role=role_label(row.actor_role) if row.actor_role else NOTHING,
        action=action_label(row.action),
        object=describe_object(row.object_type, row.object_id),
        details=describe_detail(row.action, row.object_id, row.detail),
    )
