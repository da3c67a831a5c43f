"""Operations: backup, verify, restore, backups, purge, health, audit-verify."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from core import db, migrate
from core.access import SYSTEM
from core.audit import record
from core.audit_chain import find_problem
from core.backup import list_backups, prune_backups, take_backup
from core.backup_integrity import read_manifest, verify_backup
from core.backup_tiers import Tiers, is_due, newest_age, point_before, prune_tiered
from core.cli import backups as offsite_cli
from core.cli import pitr as pitr_cli
from core.config import Settings
from core.errors import SecureSphereError
from core.health import check_health, loose_permissions, offsite_health
from core.labels import as_utc
from core.models import AuditLog
from core.restore import restore_backup
from core.retention import purge_expired
from core.settings import get_settings


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """Write a backup archive of the database and evidence files, recorded in the audit trail."""
    if args.setup_archiving or args.base:
        return pitr_cli.backup(settings, args, lambda: _tiers(settings))
    started = time.monotonic()
    with db.reading(settings.database_url) as session:
        conf = get_settings(session)
    interval, tiers = int(conf.get("backup_interval_minutes", 15)), Tiers.from_settings(conf)
    if args.if_due and not is_due(settings.data_dir, interval):
        age = newest_age(settings.data_dir)
        minutes = age.total_seconds() / 60 if age else 0.0
        print(f"not due: the newest backup is {minutes:.0f} min old (every {interval} min)")
    else:
        with db.transaction(settings.database_url) as session:
            path = take_backup(
                session,
                SYSTEM,
                settings.database_url,
                settings.data_dir,
                Path(args.out) if args.out else None,
            )
        print(
            f"backup written: {path} ({path.stat().st_size / 1024:.0f} KiB, "
            f"{time.monotonic() - started:.1f} s)"
        )
        if args.if_due:
            for removed in prune_tiered(settings.data_dir, tiers):
                print(f"removed {removed}")
    if args.if_due:  # outside any transaction: an upload never holds the database
        for line in offsite_cli.after_backup(settings.data_dir, tiers):
            print(line)  # with a remote: the new copy, and any an earlier run could not upload
    return 0


def cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Check a backup archive: member hashes and database integrity."""
    problems = verify_backup(SYSTEM, Path(args.path))
    if problems:
        raise SecureSphereError(f"{args.path} failed verification: " + "; ".join(problems))
    manifest = read_manifest(Path(args.path))
    print(
        f"backup ok: {args.path} ({manifest.engine}, schema {manifest.schema_revision}, "
        f"{len(manifest.members)} files, taken {manifest.created_at})"
    )
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Restore a verified backup (named, or the newest before --to TIME) into the configured
    database and data dir."""
    if args.pgdata or args.replayed:
        return pitr_cli.restore(settings, args)
    if bool(args.path) == bool(args.to):
        raise SecureSphereError("name a backup PATH or give --to TIME, not both")
    if args.to:
        try:
            when = as_utc(datetime.fromisoformat(args.to))
        except ValueError as exc:
            raise SecureSphereError(f"--to {args.to!r}: not an ISO 8601 time") from exc
        point = point_before(settings.data_dir, when)
        if point is None:
            for fetched in offsite_cli.fetch_before(settings, when):
                print(f"fetched from offsite and checked: {fetched}")
            point = point_before(settings.data_dir, when)
        if point is None:
            raise SecureSphereError(f"no backup taken before {when:%Y-%m-%d %H:%M:%S} UTC")
        path = point.backup.path
        print(
            f"recovery point: {point.created_at:%Y-%m-%d %H:%M:%S} UTC from {path.name}; what "
            f"was written after it, up to {when:%Y-%m-%d %H:%M:%S} UTC, is not in it"
        )
    else:
        path = Path(args.path)
    done = restore_backup(path, settings.database_url, settings.data_dir, force=args.force)
    # The restored trail is the backup's, unchanged; the restore itself is the next row on it.
    with db.transaction(settings.database_url) as session:
        record(
            session,
            SYSTEM,
            "backup_restored",
            object_type="backup",
            object_id=path.name[:64],
            detail={"taken_at": done.created_at, "safety_backup": str(done.safety_backup or "")},
        )
    if done.safety_backup:
        print(f"the previous data was backed up first to {done.safety_backup}")
    print(
        f"restored {sum(done.tables.values())} rows in {len(done.tables)} tables and "
        f"{done.evidence_files} evidence files (schema {done.schema_revision})"
    )
    if done.schema_revision != migrate.head_revision():
        print("the backup is from an older version: run python -m core.cli init to upgrade it")
    return 0


def _tiers(settings: Settings) -> Tiers:
    with db.reading(settings.database_url) as session:
        return Tiers.from_settings(get_settings(session))


def cmd_backups(settings: Settings, args: argparse.Namespace) -> int:
    """List the backups in the data dir, or prune all but the newest N (or by the tiers)."""
    if args.action in offsite_cli.OFFSITE_ACTIONS:
        return offsite_cli.run(settings, args, lambda: _tiers(settings))
    if args.action == "prune":
        if args.keep is None:
            removed = prune_tiered(settings.data_dir, _tiers(settings))
        else:
            removed = prune_backups(settings.data_dir, args.keep)
        print("\n".join(f"removed {path}" for path in removed) or "nothing to remove")
        return 0
    for entry in list_backups(SYSTEM, settings.data_dir):
        print(
            f"{entry.created:%Y-%m-%d %H:%M:%S} UTC  {entry.size_bytes / 1024:>10.0f} KiB  "
            f"{entry.path}"
        )
    for line in offsite_cli.list_lines():
        print(line)
    return 0


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    """Remove sign-in and webhook attempts, withdrawn evidence and audit rows past their retention."""
    opener = db.reading if args.dry_run else db.transaction
    with opener(settings.database_url) as session:
        done = purge_expired(
            session,
            SYSTEM,
            data_dir=settings.data_dir,
            dry_run=args.dry_run,
            key=settings.cookie_key.encode(),
        )
    print(
        f"{'would remove' if args.dry_run else 'removed'}: {done.sign_in_attempts} sign-in "
        f"attempts, {done.webhook_attempts} webhook delivery attempts, "
        f"{len(done.evidence_rows)} withdrawn evidence rows and "
        f"{len(done.evidence_files)} of their files, {done.audit_rows} audit rows"
    )
    return 0


def cmd_health(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 with "ok" when the database answers and is migrated, else 1 with the reason;
    files others may read are warned about on stderr without failing."""
    warnings = loose_permissions(
        settings.database_url, settings.data_dir
    )  # before opening fixes them
    health = check_health(settings.database_url)
    if not health.ok:
        raise SecureSphereError(health.reason)
    with db.reading(settings.database_url) as session:
        max_hours = int(get_settings(session).get("offsite_max_age_hours", 6))
    offsite = offsite_health(max_hours)
    if offsite is not None and not offsite.ok:
        warnings.append(f"warning: {offsite.reason}")
    for warning in warnings:
        print(warning, file=sys.stderr)
    print(health.reason)
    if offsite is not None and offsite.ok:
        print(offsite.reason)
    return 0


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Walk the audit hash chain (and checkpoint signatures); name the first bad row."""
    with db.reading(settings.database_url) as session:
        problem = find_problem(session, settings.cookie_key.encode())
        rows = session.scalar(select(func.count()).select_from(AuditLog))
    if problem:
        raise SecureSphereError(f"audit trail broken at {problem}")
    print(f"audit trail intact: {rows} rows")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add backup, verify, restore, backups, purge, health and audit-verify."""
    back = sub.add_parser("backup", help="back up the database and evidence files to one archive")
    back.add_argument(
        "--out", help="archive path (default: data dir/backups/securesphere-TIME.tar.gz)"
    )
    back.add_argument(
        "--if-due",
        action="store_true",
        help="only when the newest backup is backup_interval_minutes old; then prune by the tiers",
    )
    pitr_cli.register_backup(back)
    back.set_defaults(handler=cmd_backup)
    ver = sub.add_parser("verify", help="check a backup archive")
    ver.add_argument("path")
    ver.set_defaults(handler=cmd_verify)
    res = sub.add_parser("restore", help="restore a backup (stop the app first)")
    res.add_argument("path", nargs="?", help="the archive (or use --to)")
    res.add_argument("--to", help="UTC time (ISO 8601): restore the newest backup taken before it")
    res.add_argument("--force", action="store_true", help="replace existing data (backed up first)")
    pitr_cli.register_restore(res)
    res.set_defaults(handler=cmd_restore)
    bks = sub.add_parser("backups", help="list backups, or prune old ones")
    bks_sub = bks.add_subparsers(dest="action", required=True)
    bks_sub.add_parser("list", help="newest first")
    prune = bks_sub.add_parser("prune", help="delete all but the newest N, or by the tiers")
    prune.add_argument("--keep", type=int, help="keep the newest N (default: the retention tiers)")
    offsite_cli.register(bks_sub)
    bks.set_defaults(handler=cmd_backups)
    purge = sub.add_parser("purge", help="remove data past its retention period")
    purge.add_argument("--dry-run", action="store_true", help="show what would go, remove nothing")
    purge.set_defaults(handler=cmd_purge)
    sub.add_parser("health", help="exit 0 when the database answers and is migrated").set_defaults(
        handler=cmd_health
    )
    sub.add_parser("audit-verify", help="check the audit trail's hash chain").set_defaults(
        handler=cmd_audit_verify
    )
