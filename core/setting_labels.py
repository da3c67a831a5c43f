"""Settings in words: their names on the settings page and in the audit trail, and their values."""

from __future__ import annotations

from core.labels import NOTHING, humanize, plain_value, role_label
from core.sign_in_settings import LABELS as SIGN_IN_LABELS
from core.sign_in_settings import VALUE_LABELS as SIGN_IN_VALUE_LABELS

SETTING_LABELS = {
    "score_bands": "Risk bands",
    "session_idle_minutes": "Idle sign-out (minutes)",
    "session_absolute_hours": "Longest session (hours)",
    "review_sla_days": "Review deadline (days)",
    "upload_max_mb": "Largest evidence file (MB)",
    "benchmark_min_peers": "Smallest peer group (products)",
    "evidence_max_per_answer": "Most files per answer",
    "evidence_max_per_assessment": "Most files per assessment",
    "reviewer_visibility": "What lead reviewers see",
    "throttle_account_failures": "Failed sign-ins before a cooldown",
    "throttle_cooldown_minutes": "First cooldown (minutes)",
    "throttle_cooldown_max_minutes": "Longest cooldown (minutes)",
    "throttle_address_failures": "Failed sign-ins per address before refusal",
    "throttle_address_window_minutes": "Address failure window (minutes)",
    "retention_sign_in_days": "Keep sign-in records (days)",
    "retention_webhook_attempts_days": "Keep webhook delivery records (days)",
    "retention_evidence_days": "Keep removed evidence (days)",
    "retention_audit_days": "Keep audit rows (days, 0 = forever)",
    "backup_interval_minutes": "Minutes between backups",
    "backup_keep_all_hours": "Keep every backup (hours)",
    "backup_keep_hourly_days": "Keep hourly backups (days)",
    "backup_keep_daily_days": "Keep daily backups (days)",
    "offsite_max_age_hours": "Warn when the offsite copy is older than (hours)",
    "reminder_days": "Remind clients before the due date (days)",
    "notify_max_attempts": "Tries to deliver a notification",
    "notify_retry_seconds": "First wait before retrying a notification (seconds)",
    "digest_hour": "Hour the daily digests are sent (UTC)",
    "notify_lease_seconds": "Hold on a notification being sent (seconds)",
    "webhook_allow_private": "Webhooks to private addresses",
    "api_rate_limit_per_minute": "API requests per token per minute",
    "api_token_max_days": "Longest API token lifetime (days)",
    "invitation_valid_days": "Invitation links work for (days)",
    "password_reset_valid_hours": "Password reset links work for (hours)",
    "client_invitations": "Clients may invite colleagues",
    **SIGN_IN_LABELS,
}
SETTING_VALUE_LABELS = {
    "reviewer_visibility": {
        "all": "All assessments",
        "assigned": "Assigned to them, and unclaimed",
    },
    "webhook_allow_private": {"off": "Refused", "on": "Allowed (and plain http to them)"},
    "client_invitations": {
        "off": "No, only administrators invite",
        "on": "Yes, into their own organisation",
    },
    **SIGN_IN_VALUE_LABELS,
}


def setting_label(key: object) -> str:
    """A setting's name: "review_sla_days" -> "Review deadline (days)"."""
    return NOTHING if key is None or key == "" else SETTING_LABELS.get(str(key), humanize(key))


def setting_value(key: str, value: object) -> str:
    """A setting's value as words: bands as "Low from 80, ...", choices by their label."""
    if key == "score_bands" and isinstance(value, list):
        return ", ".join(f"{name} from {float(low):g}" for low, name in value) + ", Critical below"
    if key == "second_factor_roles" and isinstance(value, list):
        return ", ".join(role_label(role) for role in value) or "No role"
    if key == "sso_role_rules" and isinstance(value, list):
        return "; ".join(rule_words(rule) for rule in value) or "No rule"
    choices = SETTING_VALUE_LABELS.get(key)
    if choices:
        return choices.get(str(value), humanize(value))
    return plain_value(value)


def rule_words(rule: dict[str, str]) -> str:
    """One group rule: "acme-security → Client of Acme Corp"."""
    role = role_label(rule.get("role"))
    target = f"{role} of {rule['organization']}" if rule.get("organization") else role
    return f"{rule.get('group', '')} → {target}"
