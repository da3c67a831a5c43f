"""Checking the audit trail's hash chain: the first bad row, and what is wrong with it.

:func:`find_problem` walks the rows in id order and names the first bad one:

* a changed row no longer matches its own hash: that row is named;
* a deleted row leaves the next row linking to a hash that is gone: the next row is named;
* an inserted row is either malformed (its own hash or link is wrong: it is named), or well formed,
  in which case the row after it links past it to an earlier row: the inserted row is named.

A chain that no longer starts at the genesis hash is accepted where a remaining checkpoint
(core/audit_checkpoint.py) vouches for the rows purged before it.
"""

from __future__ import annotations

import hmac
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import CHECKPOINT, GENESIS, content_hash
from core.audit_checkpoint import checkpoint_mac
from core.models import AuditLog

# How far back an inserted row is looked for when a link breaks; bounds memory on long trails.
_LOOKBACK = 64


@dataclass(frozen=True)
class ChainProblem:
    """The first bad audit row and what is wrong with it."""

    row_id: int
    reason: str

    def __str__(self) -> str:
        return f"audit row {self.row_id}: {self.reason}"


def _signature_ok(row: AuditLog, key: bytes) -> bool:
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
    starts: dict[str, int] = {}
    for detail in session.scalars(select(AuditLog.detail).where(AuditLog.action == CHECKPOINT)):
        try:
            starts[str(detail["last_deleted_hash"])] = int(detail["last_deleted_id"])
        except (KeyError, TypeError, ValueError):
            continue  # a malformed checkpoint vouches for nothing
    return starts


def _start_problem(first: AuditLog, starts: dict[str, int]) -> ChainProblem | None:
    """A chain may start at the genesis hash, or where a remaining checkpoint says rows were purged."""
    if first.prev_hash == GENESIS or starts.get(first.prev_hash, first.id) < first.id:
        return None
    return ChainProblem(
        first.id,
        "the trail starts with a link to a row that is gone and no "
        "checkpoint vouches for it: rows were deleted from the start",
    )


def _link_problem(row: AuditLog, prev: AuditLog, recent: Iterable[tuple[int, str]]) -> ChainProblem:
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
    prev: AuditLog | None = None
    recent: deque[tuple[int, str]] = deque(maxlen=_LOOKBACK)
    starts = _vouched_starts(session)
    for row in session.execute(
        select(AuditLog).order_by(AuditLog.id).execution_options(yield_per=1000)
    ).scalars():
        if row.hash != content_hash(row):
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
