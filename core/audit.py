"""Append-only, hash-chained audit trail, written in the caller's transaction.

Rows in the words people read are core/audit_labels.py.

Design
------
Every row stores ``prev_hash`` (the hash of the row before it, or 64 zeros for the first row ever)
and ``hash``, a SHA-256 over its own content and ``prev_hash``. :func:`find_problem` walks the rows
in id order and names the first bad one:

* a changed row no longer matches its own hash: that row is named;
* a deleted row leaves the next row linking to a hash that is gone: the next row is named;
* an inserted row is either malformed (its own hash or link is wrong: it is named), or well formed,
  in which case the row after it links past it to an earlier row: the inserted row is named.

The chain has no secret, so someone who can write the database can still rewrite the whole tail
consistently, or cut rows off the end; the chain proves nothing against that, backups do.

Retention (:func:`checkpoint_and_purge`) may only cut rows off the *start*, and only after appending
a checkpoint row (action ``audit_checkpoint``) whose detail holds the id and hash of the last row
deleted and an HMAC-SHA256 over both, keyed with the process cookie key. The first remaining row's
``prev_hash`` then equals that recorded hash, which is how :func:`find_problem` accepts a chain that
no longer starts at the genesis hash. Without the key a checkpoint is only checked for shape; with
it a checkpoint somebody wrote by hand is refused. Rotating the cookie key makes older checkpoints
fail the keyed check: keep the old key, or purge again, which leaves one new checkpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from core.access import SYSTEM, Actor, require_role
from core.audit_labels import readable_row  # noqa: F401 - pages/admin_audit.py reads audit.readable_row
from core.errors import ValidationError
from core.models import AuditLog, User, utcnow

GENESIS = "0" * 64
CHECKPOINT = "audit_checkpoint"
MAX_PAGE_SIZE = 500
# Never let these reach an audit row, whatever a caller passes in "detail".
SECRET_FIELDS = {"password", "password_hash", "token", "cookie", "cookie_key", "otp"}
# How far back an inserted row is looked for when a link breaks; bounds memory on long trails.
_LOOKBACK = 64
_HEAD = "audit_head"  # session.info: (transaction, hash of the row it appended last)


def row_hash(
    prev_hash: str,
    created_at: datetime,
    actor_id: int | None,
    actor_role: str,
    session_id: str,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict,
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


def _scrub(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        k: ("[redacted]" if k in SECRET_FIELDS else _scrub(v) if isinstance(v, dict) else v)
        for k, v in detail.items()
    }


def _innermost(session: Session):
    return session.get_nested_transaction() or session.get_transaction()


def _last_hash(session: Session) -> str:
    # The lock below holds until the transaction ends, so the row this transaction appended last
    # is still the chain's head: one read per transaction. A savepoint reads afresh (a rollback
    # to it would take its rows away).
    known = session.info.get(_HEAD)
    if known is not None and known[0] is _innermost(session):
        return known[1]
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
    detail = json.loads(json.dumps(_scrub(detail or {}), default=str))
    fields = dict(
        actor_id=actor.user_id if actor else None,
        actor_role=actor.role if actor else "",
        session_id=session_ref(actor.session_id) if actor else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        detail=detail,
    )
    prev = _last_hash(session)
    entry = AuditLog(
        created_at=created,
        updated_at=created,
        prev_hash=prev,
        hash=row_hash(prev, created, **fields),
        **fields,
    )
    session.add(entry)
    session.flush()
    session.info[_HEAD] = (_innermost(session), entry.hash)
    return entry


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    """The first bad audit row and what is wrong with it."""

    row_id: int
    reason: str

    def __str__(self) -> str:
        return f"audit row {self.row_id}: {self.reason}"


def checkpoint_mac(key: bytes, last_id: int, last_hash: str) -> str:
    """HMAC-SHA256 (hex) that signs a checkpoint's record of the last purged row."""
    return hmac.new(key, f"{last_id}:{last_hash}".encode(), hashlib.sha256).hexdigest()


def _content_ok(row) -> bool:
    return row.hash == row_hash(
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


def _signature_ok(row, key: bytes) -> bool:
    detail = row.detail or {}
    try:
        expected = checkpoint_mac(
            key, int(detail["last_deleted_id"]), str(detail["last_deleted_hash"])
        )
    except (KeyError, TypeError, ValueError):
        return False
    return hmac.compare_digest(expected, str(detail.get("hmac", "")))


def _vouched_starts(session: Session) -> dict[str, int]:
    """Hash of the last purged row -> its id, as recorded by each remaining checkpoint."""
    starts = {}
    for detail in session.scalars(select(AuditLog.detail).where(AuditLog.action == CHECKPOINT)):
        try:
            starts[str(detail["last_deleted_hash"])] = int(detail["last_deleted_id"])
        except (KeyError, TypeError, ValueError):
            continue  # a malformed checkpoint vouches for nothing
    return starts


def _start_problem(first, starts: dict[str, int]) -> ChainProblem | None:
    """A chain may start at the genesis hash, or where a remaining checkpoint says rows were purged."""
    if first.prev_hash == GENESIS or starts.get(first.prev_hash, first.id) < first.id:
        return None
    return ChainProblem(
        first.id,
        "the trail starts with a link to a row that is gone and no "
        "checkpoint vouches for it: rows were deleted from the start",
    )


def _link_problem(row, prev, recent: Iterable[tuple[int, str]]) -> ChainProblem:
    """Explain a broken link: a well-formed row slipped in before this one, or rows were deleted."""
    seen = list(recent)
    for index, (_, older_hash) in enumerate(seen[:-1]):
        if older_hash == row.prev_hash:
            inserted = seen[index + 1][0]
            return ChainProblem(
                inserted,
                f"inserted after the fact: row {row.id} links past it to row {seen[index][0]}",
            )
    return ChainProblem(
        row.id,
        f"its link does not match row {prev.id} before it: a row between "
        f"them was deleted (or row {prev.id} was rewritten)",
    )


def find_problem(session: Session, key: bytes | None = None) -> ChainProblem | None:
    """The first bad row of the trail with the reason, or None when the chain is intact."""
    prev, recent, starts = None, deque(maxlen=_LOOKBACK), _vouched_starts(session)
    for row in session.execute(
        select(AuditLog).order_by(AuditLog.id).execution_options(yield_per=1000)
    ).scalars():
        if not _content_ok(row):
            return ChainProblem(row.id, "its content does not match its hash: the row was changed")
        if prev is None:
            problem = _start_problem(row, starts)
            if problem:
                return problem
        elif row.prev_hash != prev.hash:
            return _link_problem(row, prev, recent)
        if key is not None and row.action == CHECKPOINT and not _signature_ok(row, key):
            return ChainProblem(
                row.id,
                "checkpoint signature does not verify: a forged checkpoint "
                "(or the cookie key changed)",
            )
        prev = row
        recent.append((row.id, row.hash))
    return None


def verify_chain(session: Session, key: bytes | None = None) -> int | None:
    """Return the id of the first row whose hash or link is wrong, or None when intact."""
    problem = find_problem(session, key)
    return problem.row_id if problem else None


# --- retention ----------------------------------------------------------------------------------


def purgeable(session: Session, *, before: datetime) -> tuple[int | None, int]:
    """(id of the last row a purge before this time would delete, how many rows), or (None, 0).

    Only a prefix of the chain can go, so a row newer than ``before`` stops the purge there."""
    first_kept = session.scalar(select(func.min(AuditLog.id)).where(AuditLog.created_at >= before))
    stmt = select(func.max(AuditLog.id), func.count()).select_from(AuditLog)
    if first_kept is not None:
        stmt = stmt.where(AuditLog.id < first_kept)
    last_id, count = session.execute(stmt).one()
    return last_id, int(count)


def checkpoint_and_purge(
    session: Session, *, before: datetime, key: bytes, now: datetime | None = None
) -> int:
    """Delete the audit rows older than ``before``, after appending a signed checkpoint; returns how many."""
    last_id, count = purgeable(session, before=before)
    if last_id is None:
        return 0
    last_hash = session.scalar(select(AuditLog.hash).where(AuditLog.id == last_id))
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


# --- reading ------------------------------------------------------------------------------------


def audit_actions(session: Session) -> list[str]:
    """Every action name present in the trail, for filter options."""
    return list(session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))


def list_audit(
    session: Session,
    actor: Actor,
    *,
    action: str | None = None,
    actor_id: int | None = None,
    object_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[dict], int]:
    """One page of audit rows, newest first, and the total matching (admins only)."""
    require_role(actor, "admin")
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"page must be 1 or more and page_size 1 to {MAX_PAGE_SIZE}.")
    conditions = [
        c
        for c in (
            AuditLog.action == action if action else None,
            AuditLog.actor_id == actor_id if actor_id is not None else None,
            AuditLog.object_type == object_type if object_type else None,
            AuditLog.created_at >= since if since else None,
            AuditLog.created_at < until if until else None,
        )
        if c is not None
    ]
    total = session.scalar(select(func.count()).select_from(AuditLog).where(*conditions))
    stmt = (
        select(
            AuditLog.id,
            AuditLog.created_at,
            AuditLog.actor_id,
            User.username,
            AuditLog.actor_role,
            AuditLog.action,
            AuditLog.object_type,
            AuditLog.object_id,
            AuditLog.detail,
        )
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(*conditions)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return [dict(r._mapping) for r in session.execute(stmt)], int(total)
