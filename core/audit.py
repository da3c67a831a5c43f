"""Append-only, hash-chained audit trail, written in the caller's transaction.

Every row stores ``prev_hash`` (the hash of the row before it, or 64 zeros for the first row ever)
and ``hash``, a SHA-256 over its own content and ``prev_hash``. The chain has no secret, so someone
who can write the database can still rewrite the whole tail consistently, or cut rows off the end;
the chain proves nothing against that, backups do.

Checking the chain is core/audit_chain.py, purging its oldest rows behind a signed checkpoint
core/audit_checkpoint.py, the admin listing core/audit_trail.py, rows in the words people read
core/audit_labels.py.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, SessionTransaction

from core.access import Actor
from core.models import AuditLog, utcnow

GENESIS = "0" * 64
CHECKPOINT = "audit_checkpoint"
# Never let these reach an audit row, whatever a caller passes in "detail".
SECRET_FIELDS = {"password", "password_hash", "token", "cookie", "cookie_key", "otp"}
_HEAD = "audit_head"  # session.info key of the _Head below


@dataclass(frozen=True)
class _Head:
    """The transaction that appended the chain's newest row, and that row's hash."""

    transaction: SessionTransaction | None
    hash: str


def row_hash(
    prev_hash: str,
    created_at: datetime,
    actor_id: int | None,
    actor_role: str,
    session_id: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any],
) -> str:
    """SHA-256 over the row's content and the previous row's hash."""
    payload = json.dumps(
        [
            prev_hash,
            created_at.isoformat(),
            actor_id,
            actor_role,
            session_id,
            action,
            object_type,
            object_id,
            detail,
        ],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def content_hash(row: AuditLog) -> str:
    """The hash a row must carry: over its stored content and its link."""
    return row_hash(
        row.prev_hash,
        row.created_at,
        row.actor_id,
        row.actor_role,
        row.session_id,
        row.action,
        row.object_type,
        row.object_id,
        row.detail,
    )


def _scrub(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        k: ("[redacted]" if k in SECRET_FIELDS else _scrub(v) if isinstance(v, dict) else v)
        for k, v in detail.items()
    }


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _last_hash(session: Session) -> str:
    # The lock below holds until the transaction ends, so the row this transaction appended last
    # is still the chain's head: one read per transaction. A savepoint reads afresh (a rollback
    # to it would take its rows away).
    known = session.info.get(_HEAD)
    if isinstance(known, _Head) and known.transaction is _innermost(session):
        return known.hash
    if session.get_bind().dialect.name == "postgresql":
        # Serialise chain appends across concurrent transactions (SQLite's BEGIN IMMEDIATE does it there).
        session.execute(text("SELECT pg_advisory_xact_lock(7311)"))
    last = session.scalar(select(AuditLog.hash).order_by(AuditLog.id.desc()).limit(1))
    return last or GENESIS


def session_ref(session_id: str) -> str:
    """A stable reference to a session for the trail; the session token itself is a secret."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:16] if session_id else ""


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    object_type: str = "",
    object_id: object = "",
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditLog:
    """Append one audit row chained to the previous one."""
    created = (now or utcnow()).replace(microsecond=0)
    entry = AuditLog(
        created_at=created,
        updated_at=created,
        prev_hash=_last_hash(session),
        actor_id=actor.user_id if actor else None,
        actor_role=actor.role if actor else "",
        session_id=session_ref(actor.session_id) if actor else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        detail=json.loads(json.dumps(_scrub(detail or {}), default=str)),
    )
    entry.hash = content_hash(entry)
    session.add(entry)
    session.flush()
    session.info[_HEAD] = _Head(_innermost(session), entry.hash)
    return entry
