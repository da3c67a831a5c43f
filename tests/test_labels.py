"""Words people read: one date format, labels for stored keys, audit details as readable fields
(issue 12 item 10)."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from core.access import ROLES
from core.audit_labels import ReadableAuditRow, describe_detail, describe_object, readable_row
from core.audit_trail import AuditEntry
from core.labels import (
    ACTION_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    TIER_LABELS,
    TRIGGER_LABELS,
    format_date,
    format_datetime,
    humanize,
    plain_value,
)
from core.models import STATUSES, TIERS
from core.setting_labels import SETTING_LABELS, setting_value
from core.settings import SETTINGS
from core.workflow import LABELS

SNAKE = "_"


@pytest.mark.parametrize(
    "value, shown",
    [
        (datetime(2026, 12, 1, 14, 5, tzinfo=UTC), "1 Dec 2026, 14:05 UTC"),
        (
            datetime(2026, 12, 1, 15, 5, tzinfo=timezone(timedelta(hours=1))),
            "1 Dec 2026, 14:05 UTC",
        ),
        (datetime(2026, 3, 9, 7, 0), "9 Mar 2026, 07:00 UTC"),  # stored naive means UTC
        ("2026-12-01T14:05:00Z", "1 Dec 2026, 14:05 UTC"),
        ("2026-12-01T14:05:00+00:00", "1 Dec 2026, 14:05 UTC"),
        (None, "—"),
    ],
)
def test_every_time_reads_one_way(value, shown):
    assert format_datetime(value) == shown


@pytest.mark.parametrize(
    "value, shown",
    [
        (date(2026, 12, 1), "1 Dec 2026"),
        ("2026-03-15", "15 Mar 2026"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-2))), "1 Jan 2027"),
        (None, "—"),
    ],
)
def test_every_date_reads_one_way(value, shown):
    assert format_date(value) == shown


@pytest.mark.parametrize(
    "labels, keys",
    [
        (ROLE_LABELS, ROLES),
        (TIER_LABELS, TIERS),
        (STATUS_LABELS, STATUSES),
        (SETTING_LABELS, SETTINGS),
        (TRIGGER_LABELS, ("submit", "changes_requested", "approve", "reject", "recompute")),
    ],
)
def test_every_stored_key_has_a_label_without_underscores(labels, keys):
    assert set(keys) <= set(labels)
    assert not [v for v in labels.values() if SNAKE in v]


def test_status_labels_agree_with_the_workflow():
    assert {k: STATUS_LABELS[k] for k in LABELS} == LABELS


def test_action_labels_read_as_words():
    assert not [v for v in ACTION_LABELS.values() if SNAKE in v]
    assert humanize("some_new_action") == "Some new action"


@pytest.mark.parametrize(
    "value, shown",
    [
        (None, "—"),
        (True, "yes"),
        (False, "no"),
        (65.95362, "66.0"),
        (20.0, "20"),
        ([], "—"),
        (["a", "b"], "a, b"),
        ({"old_value": None}, "Old value: —"),
        ("2026-12-01T14:05:00", "1 Dec 2026, 14:05 UTC"),
    ],
)
def test_plain_values_never_show_none_or_json(value, shown):
    assert plain_value(value) == shown


def test_setting_values_read_as_words():
    assert (
        setting_value("score_bands", [[80.0, "Low"], [60.0, "Medium"], [40.0, "High"]])
        == "Low from 80, Medium from 60, High from 40, Critical below"
    )
    assert setting_value("reviewer_visibility", "assigned") == "Assigned to them, and unclaimed"
    assert setting_value("session_idle_minutes", 30) == "30"


@pytest.mark.parametrize(
    "action, object_id, detail, shown",
    [
        (
            "status_changed",
            "5",
            {"from": "changes_requested", "to": "in_progress"},
            "Changes requested → In progress",
        ),
        ("setting_changed", "session_idle_minutes", {"old": 30, "new": 20}, "30 → 20"),
        (
            "user_updated",
            "3",
            {"changed": {"role": ["analyst", "lead_reviewer"], "organization_id": [None, 2]}},
            "Role: Analyst → Lead reviewer; Organisation: — → 2",
        ),
        (
            "organization_created",
            "1",
            {"name": "Demo Corp", "industry": "", "tier": "tier_2"},
            "Name: Demo Corp; Industry: —; Tier: Tier 2",
        ),
        (
            "score_snapshot",
            "5",
            {"trigger": "changes_requested", "overall": 65.95362, "band": "Medium"},
            "Trigger: Changes requested; Score: 66.0; Band: Medium",
        ),
        (
            "answer_reviewed",
            "6",
            {"question": "iam-mfa-admin", "state": "needs_changes"},
            "Question: iam-mfa-admin; Verdict: Needs changes",
        ),
        (
            "answers_saved",
            "5",
            {"questions": [f"q{i}" for i in range(8)], "changed": 8},
            "Questions: q0, q1, q2, q3, q4 and 3 more; Changed: 8",
        ),
        (
            "evidence_added",
            "1",
            {"sha256": "ab" * 32, "size_bytes": 598},
            "SHA-256: abababababab…; Size (bytes): 598",
        ),
        (
            "evidence_validity_changed",
            "7",
            {"filename": "pentest.pdf", "changed": {"valid_until": [None, "2027-06-30"]}},
            "File: pentest.pdf; Valid until: — → 30 Jun 2027",
        ),
        (
            "score_plan_saved",
            "5",
            {"questions": ["iam-mfa-admin"], "target": "72.5"},
            "Questions: iam-mfa-admin; Target: Score of 72.5",
        ),
        (
            "organization_updated",
            "2",
            {"changed": {"score_target": [None, "Medium"]}},
            "Score target: — → Medium risk band",
        ),
        ("sign_in", "1", {}, "—"),
    ],
)
def test_audit_details_read_as_fields(action, object_id, detail, shown):
    assert describe_detail(action, object_id, detail) == shown


def test_audit_rows_read_as_words():
    row = readable_row(
        AuditEntry(
            id=9,
            created_at=datetime(2026, 12, 1, tzinfo=UTC),
            actor_id=None,
            username=None,
            actor_role="",
            action="sign_in_failed",
            object_type="user",
            object_id="",
            detail={"username": "x"},
        )
    )
    assert row == ReadableAuditRow(
        id=9,
        when=datetime(2026, 12, 1, tzinfo=UTC),
        who="—",
        role="—",
        action="Sign-in failed",
        object="User",
        details="Username: x",
    )
    system = readable_row(
        AuditEntry(
            id=1,
            created_at=datetime(2026, 12, 1, tzinfo=UTC),
            actor_id=None,
            username=None,
            actor_role="admin",
            action="bank_imported",
            object_type="questionnaire",
            object_id="1",
            detail={},
        )
    )
    assert (system.who, system.object, system.details) == ("System", "Question bank 1", "—")
    assert describe_object("setting", "review_sla_days") == "Setting: Review deadline (days)"
    assert describe_object("organization", 2) == "Organisation 2"
