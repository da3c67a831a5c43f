"""Health check for operators and probes: the database answers and its schema is at head."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import make_url, text

from core import db, migrate
from core.offsite import from_env, newest_verified_age


def _first_line(exc: Exception) -> str:
    # Driver messages name host and port, never the password; the first line is the useful part.
    message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0] if message else ''}"


class Health(NamedTuple):
    """Whether the app can serve, and if not why (a line for operators and probes)."""

    ok: bool
    reason: str


def check_health(url: str) -> Health:
    """ok with "ok" when the database answers SELECT 1 and is migrated to head, else the reason."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not db.sqlite_path(parsed).is_file():
        return Health(False, f"database: no SQLite file at {parsed.database}")
    try:
        with db.get_engine(url).connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
        current = migrate.current_revision(url)
    except Exception as exc:  # a probe reports any failure as a reason, never a traceback
        return Health(False, f"database: {_first_line(exc)}")
    head = migrate.head_revision()
    if current is None:
        return Health(False, "migrations: the database has no schema; run: python -m core.cli init")
    if current != head:
        return Health(
            False,
            f"migrations: the database is at {current}, this code needs {head}; "
            "run: python -m core.cli init",
        )
    return Health(True, "ok")


def offsite_health(max_age_hours: int) -> Health | None:
    """The newest verified offsite copy's age, not ok past ``max_age_hours`` (or when there is
    none, or the remote does not answer); None when no offsite remote is set."""
    try:
        target = from_env()
        if target is None:
            return None
        age = newest_verified_age(target)
    except Exception as exc:  # a probe reports any failure as a reason, never a traceback
        return Health(False, f"offsite: {_first_line(exc)}")
    if age is None:
        return Health(False, "offsite: no verified offsite copy yet")
    hours = age.total_seconds() / 3600
    line = f"offsite: the newest verified copy is {hours:.1f} h old"
    if age > timedelta(hours=max_age_hours):
        return Health(False, f"{line}, more than {max_age_hours} h (offsite_max_age_hours)")
    return Health(True, line)


def _private_paths(url: str, data_dir: Path) -> list[Path]:
    parsed = make_url(url)
    database = (
        db.sqlite_files(db.sqlite_path(parsed)) if parsed.get_backend_name() == "sqlite" else []
    )
    backups = data_dir / "backups"
    shown = [
        data_dir,
        data_dir / ".cookie_key",
        data_dir / "demo_passwords.txt",
        backups,
        *(sorted(backups.iterdir()) if backups.is_dir() else []),
        *database,
    ]
    return [path for path in shown if path.exists()]


def loose_permissions(url: str, data_dir: Path) -> list[str]:
    """One warning per private file or folder (data dir, database and its -wal/-shm, cookie key,
    demo passwords, backups) that group or others may access."""
    warnings = []
    for path in _private_paths(url, data_dir):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            wanted = "700" if path.is_dir() else "600"
            warnings.append(
                f"warning: {path} has mode {mode:o}; group or others can read it "
                f"(run: chmod {wanted} {path})"
            )
    return warnings
