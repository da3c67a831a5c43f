"""Typed run-time settings stored in system_settings, with documented defaults."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import SystemSetting

DEFAULTS: dict[str, Any] = {
    "score_bands": [[80.0, "Low"], [60.0, "Medium"], [40.0, "High"]],
    "session_idle_minutes": 30,
    "session_absolute_hours": 12,
    "review_sla_days": 10,
    "upload_max_mb": 20,
    "reviewer_visibility": "all",
    "throttle_account_failures": 5,
    "throttle_cooldown_minutes": 15,
    "throttle_cooldown_max_minutes": 60,
    "throttle_address_failures": 50,
    "throttle_address_window_minutes": 15,
}


def get_settings(session: Session) -> dict[str, Any]:
    """Every setting: the stored value where one was saved, else the default."""
    stored = dict(session.execute(select(SystemSetting.key, SystemSetting.value)).all())
    return {key: stored.get(key, default) for key, default in DEFAULTS.items()}


def bands(session: Session) -> tuple[tuple[float, str], ...]:
    """The risk bands as (lower bound, name) pairs, highest first."""
    return tuple((float(low), str(name)) for low, name in get_settings(session)["score_bands"])


def ensure_defaults(session: Session) -> int:
    """Store the default of every setting not stored yet; returns how many were added."""
    stored = set(session.scalars(select(SystemSetting.key)))
    missing = [SystemSetting(key=k, value=v) for k, v in DEFAULTS.items() if k not in stored]
    session.add_all(missing)
    return len(missing)
