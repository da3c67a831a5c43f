"""Audit retention: the oldest rows go, after a signed checkpoint row vouches for them.

Retention (:func:`checkpoint_and_purge`) may only cut rows off the *start*, and only after appending
a checkpoint row (action ``audit_checkpoint``) whose detail holds the id and hash of the last row
deleted and an HMAC-SHA256 over both, keyed with the process cookie key. The first remaining row's
``prev_hash`` then equals that recorded hash, which is how core/audit_chain.py accepts a chain that
no longer starts at the genesis hash. Without the key a checkpoint is only checked for shape; with
it a checkpoint somebody wrote by hand is refused. Rotating the cookie key makes older checkpoints
fail the keyed check: keep the old key, or purge again, which leaves one new checkpoint.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.access import SYSTEM
from core.audit import CHECKPOINT, record
from core.models import AuditLog


def checkpoint_mac(key: bytes, last_id: int, last_hash: str) -> str:
    """HMAC-SHA256 (hex) that signs a checkpoint's record of the last purged row."""
    return hmac.new(key, f"{last_id}:{last_hash}".encode(), hashlib.sha256).hexdigest()


class Purgeable(NamedTuple):
    """The rows a purge would delete: the id of the last one (None for none) and how many."""

    last_id: int | None
    row_count: int


def purgeable(session: Session, *, before: datetime) -> Purgeable:
    """What a purge of the rows older than ``before`` would delete.

    Only a prefix of the chain can go, so a row newer than ``before`` stops the purge there."""
    first_kept = session.scalar(select(func.min(AuditLog.id)).where(AuditLog.created_at >= before))
    stmt = select(func.max(AuditLog.id), func.count()).select_from(AuditLog)
    if first_kept is not None:
        stmt = stmt.where(AuditLog.id < first_kept)
    last_id, count = session.execute(stmt).one()
    return Purgeable(last_id, count)


def checkpoint_and_purge(
    session: Session, *, before: datetime, key: bytes, now: datetime | None = None
) -> int:
    """Delete the audit rows older than ``before``, after appending a signed checkpoint; returns how many."""
    last_id, count = purgeable(session, before=before)
    if last_id is None:
        return 0
    last_hash = session.execute(select(AuditLog.hash).where(AuditLog.id == last_id)).scalar_one()
    record(
        session,
        SYSTEM,
        CHECKPOINT,
        object_type="audit_log",
        object_id=last_id,
        now=now,
        detail={
            "last_deleted_id": last_id,
            "last_deleted_hash": last_hash,
            "deleted_count": count,
            "before": before.isoformat(),
            "hmac": checkpoint_mac(key, last_id, last_hash),
        },
    )
    session.execute(delete(AuditLog).where(AuditLog.id <= last_id))
    return count
