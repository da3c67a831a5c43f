"""Retention: remove sign-in attempts, webhook delivery attempts, withdrawn evidence and audit
rows past their settings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from core import audit, audit_checkpoint
from core.access import Actor, require_role
from core.backup import EVIDENCE
from core.models import EvidenceFile, SignInAttempt, WebhookAttempt, utcnow
from core.settings import get_settings


@dataclass(frozen=True)
class PurgeReport:
    """What a purge removed (or, in a dry run, would remove)."""

    sign_in_attempts: int
    webhook_attempts: int
    evidence_rows: list[int]  # ids of the withdrawn evidence rows
    evidence_files: list[str]  # SHA-256 of the stored files no remaining row names
    audit_rows: int
    dry_run: bool


def _purge_rows(
    session: Session,
    actor: Actor,
    column: InstrumentedAttribute[datetime],
    before: datetime,
    dry_run: bool,
    now: datetime,
) -> int:
    """Delete the rows of `column`'s table older than `before`, with one audit row saying how
    many ("<table>_purged")."""
    table = column.class_.__table__
    old = column < before
    count = session.execute(select(func.count()).select_from(table).where(old)).scalar_one()
    if count and not dry_run:
        session.execute(delete(table).where(old))
        audit.record(
            session,
            actor,
            f"{table.name}_purged",
            object_type=table.name,
            detail={"count": count, "before": before.isoformat()},
            now=now,
        )
    return count


def _purge_evidence(
    session: Session, actor: Actor, data_dir: Path, before: datetime, dry_run: bool, now: datetime
) -> tuple[list[int], list[str]]:
    rows = session.execute(
        select(EvidenceFile.id, EvidenceFile.sha256).where(
            EvidenceFile.is_active.is_(False), EvidenceFile.deleted_at < before
        )
    ).all()
    ids, digests = [r.id for r in rows], {r.sha256 for r in rows}
    # A blob goes only when no remaining row, active or withdrawn, still names its content.
    shared = set(
        session.scalars(
            select(EvidenceFile.sha256).where(
                EvidenceFile.sha256.in_(digests), EvidenceFile.id.not_in(ids)
            )
        )
    )
    blobs = sorted(d for d in digests - shared if re.fullmatch(r"[0-9a-f]{64}", d))
    if ids and not dry_run:
        session.execute(delete(EvidenceFile).where(EvidenceFile.id.in_(ids)))
        audit.record(
            session,
            actor,
            "evidence_purged",
            object_type="evidence",
            detail={"ids": ids, "files_removed": len(blobs), "before": before.isoformat()},
            now=now,
        )
        session.flush()
        # Unlinked while this transaction holds the write lock, so no upload of the same content
        # sits between storing its file and committing its row. Should the commit still fail, only
        # withdrawn rows (never served) are left naming a missing file.
        for digest in blobs:
            (Path(data_dir) / EVIDENCE / digest[:2] / digest).unlink(missing_ok=True)
    return ids, blobs


def purge_expired(
    session: Session,
    actor: Actor,
    *,
    data_dir: Path,
    key: bytes,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Remove what the retention settings let go: sign-in and webhook delivery attempts,
    withdrawn evidence, audit rows."""
    require_role(actor, "admin")
    now = now or utcnow()
    conf = get_settings(session)
    # Throttling counts recent failures: never purge the last day, whatever the setting says.
    sign_in_days = max(1, int(conf.get("retention_sign_in_days", 90)))
    evidence_days = int(conf.get("retention_evidence_days", 365))
    audit_days = int(conf.get("retention_audit_days", 0))
    hook_days = int(conf.get("retention_webhook_attempts_days", 30))
    sign_ins = _purge_rows(
        session, actor, SignInAttempt.created_at, now - timedelta(days=sign_in_days), dry_run, now
    )
    hooks = _purge_rows(
        session, actor, WebhookAttempt.attempted_at, now - timedelta(days=hook_days), dry_run, now
    )
    ids, blobs = _purge_evidence(
        session, actor, data_dir, now - timedelta(days=evidence_days), dry_run, now
    )
    audit_rows = 0
    if audit_days > 0:  # 0 keeps the audit trail forever
        before = now - timedelta(days=audit_days)
        audit_rows = (
            audit_checkpoint.purgeable(session, before=before).row_count
            if dry_run
            else audit_checkpoint.checkpoint_and_purge(session, before=before, key=key, now=now)
        )
    return PurgeReport(sign_ins, hooks, ids, blobs, audit_rows, dry_run)
