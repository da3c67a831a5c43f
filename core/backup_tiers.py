"""Frequent backups: when the next is due, which to keep (retention tiers), and which one a
restore to a point in time uses.

Tiers, from the settings: every backup of the last ``backup_keep_all_hours``, then the newest of
each hour for ``backup_keep_hourly_days``, then the newest of each day for
``backup_keep_daily_days``; the newest backup is always kept. A backup's recovery point is its
manifest's ``created_at``, written after the snapshot finished: the archive holds nothing
committed later than that.
"""

from __future__ import annotations

import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from core.backup import BackupFile, _listed
from core.backup_integrity import read_manifest
from core.labels import as_utc
from core.models import utcnow


@dataclass(frozen=True)
class Tiers:
    """How long each tier of backups is kept."""

    all_hours: int
    hourly_days: int
    daily_days: int

    @classmethod
    def from_settings(cls, conf: Mapping[str, Any]) -> Tiers:
        """The tiers as the settings (get_settings) give them."""
        return cls(
            int(conf.get("backup_keep_all_hours", 24)),
            int(conf.get("backup_keep_hourly_days", 7)),
            int(conf.get("backup_keep_daily_days", 30)),
        )


@dataclass(frozen=True)
class RecoveryPoint:
    """The backup a restore to a time uses, and the moment its data is from."""

    backup: BackupFile
    created_at: datetime  # the manifest's created_at: nothing committed after it is in the backup


def kept(backups: list[BackupFile], tiers: Tiers, now: datetime) -> list[BackupFile]:
    """The backups the tiers keep, newest first (``backups`` newest first, as _listed gives)."""
    keep: list[BackupFile] = []
    seen_hours: set[str] = set()
    seen_days: set[str] = set()
    for index, entry in enumerate(backups):
        age = now - entry.created
        hour, day = f"{entry.created:%Y%m%d%H}", f"{entry.created:%Y%m%d}"
        if (
            index == 0
            or age <= timedelta(hours=tiers.all_hours)
            or (age <= timedelta(days=tiers.hourly_days) and hour not in seen_hours)
            or (age <= timedelta(days=tiers.daily_days) and day not in seen_days)
        ):
            keep.append(entry)
        seen_hours.add(hour)  # a later (older) backup in the same hour or day is not its newest
        seen_days.add(day)
    return keep


def prune_tiered(data_dir: Path, tiers: Tiers, now: datetime | None = None) -> list[Path]:
    """Delete the backups the tiers do not keep; returns the deleted paths."""
    listed = _listed(data_dir)
    keep = {entry.path for entry in kept(listed, tiers, now or utcnow())}
    removed = [entry.path for entry in listed if entry.path not in keep]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def newest_age(data_dir: Path, now: datetime | None = None) -> timedelta | None:
    """How old the newest local backup is; None when there is none."""
    listed = _listed(data_dir)
    return (now or utcnow()) - listed[0].created if listed else None


def is_due(data_dir: Path, interval_minutes: int, now: datetime | None = None) -> bool:
    """True when there is no backup, or the newest is at least the interval old."""
    age = newest_age(data_dir, now)
    return age is None or age >= timedelta(minutes=interval_minutes) - timedelta(seconds=5)


def point_before(data_dir: Path, when: datetime) -> RecoveryPoint | None:
    """The newest backup whose data is all from before ``when`` (its manifest's created_at)."""
    when = as_utc(when)
    for entry in _listed(data_dir):
        if entry.created > when:  # named by the time it started: it cannot have finished before
            continue
        try:
            created = as_utc(datetime.fromisoformat(read_manifest(entry.path).created_at))
        except (OSError, tarfile.TarError, ValueError, KeyError):
            continue  # an unreadable archive is passed over for the next older one
        if created <= when:
            return RecoveryPoint(entry, created)
    return None
