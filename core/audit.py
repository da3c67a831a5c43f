"""Append-only, hash-chained audit trail, written in the caller's transaction."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.access import Actor
from core.models import AuditLog, utcnow

GENESIS = "0" * 64
# Never let these reach an audit row, whatever a caller passes in "detail".
SECRET_FIELDS = {"password", "password_hash", "token", "cookie", "cookie_key", "otp"}


def row_hash(prev_hash: str, created_at: datetime, actor_id: int | None, actor_role: str,
             session_id: str, action: str, object_type: str, object_id: str, detail: dict) -> str:
    """SHA-256 over the row's content and the previous row's hash."""
    payload = json.dumps([prev_hash, created_at.isoformat(), actor_id, actor_role, session_id,
                          action, object_type, object_id, detail],
                         sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _scrub(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: ("[redacted]" if k in SECRET_FIELDS else _scrub(v) if isinstance(v, dict) else v)
            for k, v in detail.items()}


def _last_hash(session: Session) -> str:
    if session.get_bind().dialect.name == "postgresql":
        # Serialise chain appends across concurrent transactions (SQLite's BEGIN IMMEDIATE does it there).
        session.execute(text("SELECT pg_advisory_xact_lock(7311)"))
    last = session.scalar(select(AuditLog.hash).order_by(AuditLog.id.desc()).limit(1))
    return last or GENESIS


def record(session: Session, actor: Actor | None, action: str, *, object_type: str = "",
           object_id: object = "", detail: dict[str, Any] | None = None,
           now: datetime | None = None) -> AuditLog:
    """Append one audit row chained to the previous one."""
    created = (now or utcnow()).replace(microsecond=0)
    detail = json.loads(json.dumps(_scrub(detail or {}), default=str))
    fields = dict(actor_id=actor.user_id if actor else None, actor_role=actor.role if actor else "",
                  session_id=actor.session_id if actor else "", action=action,
                  object_type=object_type, object_id=str(object_id or ""), detail=detail)
    prev = _last_hash(session)
    entry = AuditLog(created_at=created, updated_at=created, prev_hash=prev,
                     hash=row_hash(prev, created, **fields), **fields)
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: Session) -> int | None:
    """Return the id of the first row whose hash or link is wrong, or None when intact."""
    prev = GENESIS
    rows = session.execute(select(AuditLog).order_by(AuditLog.id)).scalars()
    for row in rows:
        expected = row_hash(prev, row.created_at, row.actor_id, row.actor_role, row.session_id,
                            row.action, row.object_type, row.object_id, row.detail)
        if row.prev_hash != prev or row.hash != expected:
            return row.id
        prev = row.hash
    return None
