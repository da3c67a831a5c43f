"""Typed run-time settings stored in system_settings: documented defaults, validated changes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from core import audit
from core.access import Actor, require_role
from core.errors import ValidationError
from core.models import SystemSetting, utcnow
from core.setting_spec import Setting
from core.sign_in_settings import SIGN_IN_SETTINGS

SETTINGS: dict[str, Setting] = {
    "score_bands": Setting(
        [[80.0, "Low"], [60.0, "Medium"], [40.0, "High"]],
        "Lower bounds (0-100) of the Low, Medium and High risk bands, highest "
        "first; below the last is Critical.",
        check=lambda value: _check_bands(value),
    ),
    "session_idle_minutes": Setting(
        30, "Sign out after this many minutes without activity.", 5, 480
    ),
    "session_absolute_hours": Setting(
        12, "Sign out this many hours after sign-in, active or not.", 1, 72
    ),
    "review_sla_days": Setting(10, "Days a submitted assessment may wait for a decision.", 1, 90),
    "upload_max_mb": Setting(20, "Largest evidence file accepted, in MB.", 1, 200),
    "benchmark_min_peers": Setting(
        10,
        "Scored products of other organisations (from at least 3 of "
        "them) a peer group needs before a client sees its figures.",
        5,
        1000,
    ),
    "evidence_max_per_answer": Setting(
        20, "Most evidence files one answer may carry (removed files do not count).", 1, 200
    ),
    "evidence_max_per_assessment": Setting(
        500, "Most evidence files one assessment may carry (removed files do not count).", 10, 5000
    ),
    "reviewer_visibility": Setting(
        "all",
        "Lead reviewers see all assessments, or only those "
        "assigned to them plus unclaimed submissions.",
        choices=("all", "assigned"),
    ),
    "throttle_account_failures": Setting(
        5, "Failed sign-ins on one account that start a cooldown.", 3, 20
    ),
    "throttle_cooldown_minutes": Setting(
        15, "First cooldown in minutes; each further one doubles.", 1, 60
    ),
    "throttle_cooldown_max_minutes": Setting(60, "Longest cooldown in minutes.", 5, 240),
    "throttle_address_failures": Setting(
        50,
        "Failed sign-ins from one address, within the window, after which that address is refused.",
        10,
        1000,
    ),
    "throttle_address_window_minutes": Setting(
        15, "Window for counting failures per address.", 1, 120
    ),
    "retention_sign_in_days": Setting(
        90, "Days sign-in records are kept before `purge` removes them.", 7, 3650
    ),
    "retention_webhook_attempts_days": Setting(
        30, "Days webhook delivery attempts are kept before `purge` removes them.", 1, 3650
    ),
    "retention_evidence_days": Setting(
        365, "Days a removed evidence file is kept before `purge` deletes it for good.", 1, 3650
    ),
    "retention_audit_days": Setting(
        0,
        "Days audit rows are kept; older ones are replaced by a signed "
        "checkpoint at `purge`. 0 keeps them forever.",
        0,
        36500,
    ),
    "backup_interval_minutes": Setting(
        15,
        "Minutes between online backups: `backup --if-due` takes one when the newest is this old.",
        1,
        1440,
    ),
    "backup_keep_all_hours": Setting(
        24, "Hours every backup is kept before the hourly and daily tiers thin them out.", 1, 720
    ),
    "backup_keep_hourly_days": Setting(7, "Days the newest backup of each hour is kept.", 0, 365),
    "backup_keep_daily_days": Setting(30, "Days the newest backup of each day is kept.", 0, 3650),
    "offsite_max_age_hours": Setting(
        6,
        "Hours the newest verified offsite copy may be old before `health` and the Backups page "
        "warn.",
        1,
        720,
    ),
    "reminder_days": Setting(
        3,
        "Days before an assessment's due date its client is reminded (once per due date); the "
        "day after it an overdue notice follows. 0 sends only the overdue notice.",
        0,
        60,
    ),
    "notify_max_attempts": Setting(
        8, "Tries to deliver one notification before it is kept as failed.", 1, 50
    ),
    "notify_retry_seconds": Setting(
        60, "Wait before the second try of a notification; each further wait doubles.", 1, 3600
    ),
    "digest_hour": Setting(7, "Hour of the day (UTC) the daily digests are sent.", 0, 23),
    "notify_lease_seconds": Setting(
        300,
        "Seconds a worker holds a notification it is sending; one left by a worker that died is "
        "tried again after this (at least twice the SMTP or webhook timeout).",
        5,
        3600,
    ),
    "webhook_allow_private": Setting(
        "off",
        "Whether webhooks may go to loopback and private network addresses (and then over plain "
        "http); off, they go only to public https addresses.",
        choices=("off", "on"),
    ),
    "api_rate_limit_per_minute": Setting(
        600,
        "Requests one API token may make per minute (in each API process); more get 429.",
        10,
        100_000,
    ),
    "api_token_max_days": Setting(
        365, "Longest lifetime, in days, of a new personal access token for the API.", 1, 3650
    ),
    "invitation_valid_days": Setting(
        7,
        "Days an invitation link works; it works once, and a re-sent invitation replaces it.",
        1,
        30,
    ),
    "password_reset_valid_hours": Setting(
        1, "Hours a password reset link works; it works once, and a newer one replaces it.", 1, 48
    ),
    "client_invitations": Setting(
        "off",
        "Whether a client organisation's users may invite colleagues of their own organisation.",
        choices=("off", "on"),
    ),
    **SIGN_IN_SETTINGS,
}
DEFAULTS: dict[str, Any] = {key: spec.default for key, spec in SETTINGS.items()}
BAND_ORDER = ("Low", "Medium", "High")


_READ = "settings_read"  # session.info: the settings as this unit of work last read them


def get_settings(session: Session) -> dict[str, Any]:
    """Every setting: the stored value where one was saved, else the default (read once per
    unit of work; a change through update_setting is seen at once)."""
    if _READ not in session.info:
        rows = session.execute(select(SystemSetting.key, SystemSetting.value)).all()
        stored: dict[str, Any] = dict(rows)
        session.info[_READ] = {key: stored.get(key, d) for key, d in DEFAULTS.items()}
    return dict(session.info[_READ])


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the next unit of work reads them afresh
        session.info.pop(_READ, None)


def get_setting(session: Session, key: str) -> Any:
    """One setting: the stored value, else the default."""
    return get_settings(session)[key]


def bands(session: Session) -> tuple[tuple[float, str], ...]:
    """The risk bands as (lower bound, name) pairs, highest first."""
    return tuple((float(low), str(name)) for low, name in get_settings(session)["score_bands"])


def ensure_defaults(session: Session) -> int:
    """Store the default of every setting not stored yet; returns how many were added."""
    stored = set(session.scalars(select(SystemSetting.key)))
    missing = [SystemSetting(key=k, value=v) for k, v in DEFAULTS.items() if k not in stored]
    session.add_all(missing)
    return len(missing)


def validate_setting(key: str, value: Any) -> Any:
    """The value normalised to the setting's type, or ValidationError saying what is allowed."""
    spec = SETTINGS.get(key)
    if spec is None:
        raise ValidationError(f"Unknown setting {key!r}; known: {', '.join(SETTINGS)}.")
    if spec.check is not None:
        return spec.check(value)
    if spec.choices:
        if value not in spec.choices:
            raise ValidationError(f"{key} must be one of: {', '.join(spec.choices)}.")
        return value
    if (
        spec.low is None
        or spec.high is None
        or isinstance(value, bool)
        or not isinstance(value, int)
        or not spec.low <= value <= spec.high
    ):
        raise ValidationError(f"{key} must be a whole number from {spec.low} to {spec.high}.")
    return value


def _check_bands(value: Any) -> list[list[float | str]]:
    try:
        pairs = [(float(low), str(name)) for low, name in value]
    except (TypeError, ValueError):
        raise ValidationError("score_bands must be pairs of [lower bound, band name].") from None
    lows = [low for low, _ in pairs]
    if [name for _, name in pairs] != list(BAND_ORDER):
        raise ValidationError("score_bands must name Low, Medium and High, in that order.")
    if not all(0 < low <= 100 for low in lows) or lows != sorted(set(lows), reverse=True):
        raise ValidationError(
            "score_bands bounds must be distinct, between 0 and 100, highest first."
        )
    return [[low, name] for low, name in pairs]


def parse_setting(key: str, text: str) -> Any:
    """Turn a command-line value into the setting's type, then validate it."""
    spec = SETTINGS.get(key)
    if spec is not None and isinstance(spec.default, str) and not spec.choices:
        return validate_setting(key, text)  # a word, as typed
    if spec is not None and not spec.choices:
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise ValidationError(f"{key}: {text!r} is not a valid value.") from None
        return validate_setting(key, value)
    return validate_setting(key, text)


def update_setting(
    session: Session, actor: Actor, key: str, value: Any, *, now: datetime | None = None
) -> Any:
    """Change one setting (admins only), audited with the old and new value; applies at once."""
    require_role(actor, "admin")
    value = validate_setting(key, value)
    row = session.get(SystemSetting, key)
    old = row.value if row else DEFAULTS[key]
    if row is None:
        row = SystemSetting(key=key, value=value)
        session.add(row)
    row.value, row.updated_by, row.updated_at = value, actor.user_id, now or utcnow()
    session.info.pop(_READ, None)
    audit.record(
        session,
        actor,
        "setting_changed",
        object_type="setting",
        object_id=key,
        detail={"old": old, "new": value},
        now=now,
    )
    return value
