"""Health check for operators and probes: the database answers and its schema is at head."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import make_url, text

from core import db, schema


def _first_line(exc: Exception) -> str:
    # Driver messages name host and port, never the password; the first line is the useful part.
    message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0] if message else ''}"


def check_health(url: str) -> tuple[bool, str]:
    """(True, "ok") when the database answers SELECT 1 and is migrated to head, else (False, reason)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database).is_file():
        return False, f"database: no SQLite file at {parsed.database}"
    try:
        with db.get_engine(url).connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()
        current = schema.current_revision(url)
    except Exception as exc:  # a probe reports any failure as a reason, never a traceback
        return False, f"database: {_first_line(exc)}"
    head = schema.head_revision()
    if current is None:
        return False, "migrations: the database has no schema; run: python -m core.cli init"
    if current != head:
        return False, f"migrations: the database is at {current}, this code needs {head}; " \
                      "run: python -m core.cli init"
    return True, "ok"
