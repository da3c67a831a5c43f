"""Command line: python -m core.cli <command>. Exit 0 on success, 1 with one line on stderr on error."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from sqlalchemy import func, select

from core import db, schema
from core.access import SYSTEM
from core.banks.store import import_bank
from core.banks.frameworks import load_bank_source, shipped_banks
from core.banks.store import list_questionnaires, load_bank
from core.banks.yaml_io import dump_bank
from core.config import Settings, load_settings
from core.demo import build_demo, demo_exists
from core.errors import SecureSphereError
from core.logs import configure_logging
from core.models import ROLES, Assessment, Base
from core.settings import SETTINGS, ensure_defaults, get_settings, parse_setting, update_setting
from core.organizations import organization_by_name
from core.snapshots import recompute_scores
from core.users import create_user


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    """Create or upgrade the schema, load shipped banks and optionally the demo data."""
    schema.upgrade(settings.database_url)
    banks = shipped_banks()
    with db.transaction(settings.database_url) as session:
        ensure_defaults(session)
        created = [b.key for b in banks if import_bank(session, SYSTEM, b)[1]]
        demo = args.demo and not demo_exists(session)
        passwords = build_demo(session, data_dir=settings.data_dir, password=settings.demo_password,
                               rounds=settings.bcrypt_rounds) if demo else {}
    print(f"schema at revision {schema.current_revision(settings.database_url)}; "
          f"banks imported: {len(created)} new, {len(banks) - len(created)} unchanged")
    if passwords and not settings.demo_password:
        print("demo accounts created; passwords (also in the data dir, demo_passwords.txt):")
        for user, password in passwords.items():
            print(f"  {user}: {password}")
    elif passwords:
        print("demo accounts created with SECURESPHERE_DEMO_PASSWORD")
    elif args.demo:
        print("demo data already present; nothing changed")
    return 0


def collect_stats(settings: Settings) -> dict:
    """Row counts of every table, assessments by status, database size and engine."""
    with db.reading(settings.database_url) as session:
        tables = {name: session.scalar(select(func.count()).select_from(table))
                  for name, table in sorted(Base.metadata.tables.items())}
        statuses = dict(session.execute(select(Assessment.status, func.count())
                                        .group_by(Assessment.status)).all())
        size = db.database_size(session)
        engine = session.get_bind().dialect.name
    return {"engine": engine, "database_bytes": size, "tables": tables,
            "assessments_by_status": statuses}


def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    """Print table row counts and a status summary."""
    if schema.current_revision(settings.database_url) is None:
        raise SecureSphereError("the database is empty; run: python -m core.cli init")
    stats = collect_stats(settings)
    if args.json:
        print(json.dumps(stats, sort_keys=True))
        return 0
    print(f"engine: {stats['engine']}, size: {stats['database_bytes'] / 1024:.0f} KiB")
    for name, count in stats["tables"].items():
        print(f"  {name:<26}{count:>10}")
    for status, count in sorted(stats["assessments_by_status"].items()):
        print(f"  status {status:<19}{count:>10}")
    return 0


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    """Create an account with a one-time password that must be changed at first sign-in."""
    with db.transaction(settings.database_url) as session:
        org_id = None
        if args.organization:
            org = organization_by_name(session, args.organization)
            if org is None:
                raise SecureSphereError(f"no organisation named {args.organization!r}")
            org_id = org.id
        _, password = create_user(session, SYSTEM, username=args.username,
                                  name=args.name or args.username, role=args.role,
                                  email=args.email, organization_id=org_id,
                                  rounds=settings.bcrypt_rounds)
    print(f"created {args.role} {args.username!r}; one-time password (shown once, "
          f"must be changed at first sign-in): {password}")
    return 0


def cmd_import_bank(settings: Settings, args: argparse.Namespace) -> int:
    """Import a YAML bank, OSCAL catalog or ASVS CSV; --dry-run previews without writing."""
    path = Path(args.path)
    if not path.is_file():
        raise SecureSphereError(f"no such file: {path}")
    bank = load_bank_source(path, path.read_bytes(), fmt=args.format, level=args.level)
    sections = ", ".join(f"{s.title} ({len(s.questions)})" for s in bank.sections)
    print(f"{bank.title} [{bank.key} v{bank.version}]: {len(bank.questions)} questions in "
          f"{len(bank.sections)} sections: {sections}")
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    with db.transaction(settings.database_url) as session:
        _, created = import_bank(session, SYSTEM, bank)
    print("imported" if created else "already present, unchanged")
    return 0


def cmd_export_bank(settings: Settings, args: argparse.Namespace) -> int:
    """Print a stored bank as YAML (newest version unless --version)."""
    with db.reading(settings.database_url) as session:
        versions = [q for q in list_questionnaires(session) if q["key"] == args.key
                    and (args.version is None or q["version"] == args.version)]
        if not versions:
            raise SecureSphereError(f"no bank {args.key!r}" + (f" version {args.version}" if args.version else ""))
        bank = load_bank(session, max(versions, key=lambda q: q["version"])["id"])
    sys.stdout.write(dump_bank(bank))
    return 0


def cmd_settings(settings: Settings, args: argparse.Namespace) -> int:
    """List settings, or change one (validated, audited, applied at once)."""
    if args.key is not None:
        if args.value is None:
            raise SecureSphereError("give a value too: settings KEY VALUE")
        with db.transaction(settings.database_url) as session:
            value = update_setting(session, SYSTEM, args.key, parse_setting(args.key, args.value))
        print(f"{args.key} = {json.dumps(value)}")
        return 0
    with db.reading(settings.database_url) as session:
        current = get_settings(session)
    for key, spec in SETTINGS.items():
        print(f"{key} = {json.dumps(current[key])}\n    {spec.help}")
    return 0


def cmd_recompute_scores(settings: Settings, args: argparse.Namespace) -> int:
    """Re-score every snapshotted assessment with today's bands; snapshot those that changed."""
    opener = db.reading if args.dry_run else db.transaction
    with opener(settings.database_url) as session:
        counts = recompute_scores(session, SYSTEM, dry_run=args.dry_run)
    print(f"checked {counts['checked']} assessments with snapshots; {counts['changed']} changed"
          + (" (dry run: nothing written)" if args.dry_run else " (a 'recompute' snapshot each)"))
    return 0


# Operations handlers import their modules here, not at the top of the file, so each command
# group stays in its own block of this shared file.
def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """Write a backup archive of the database and evidence files."""
    import time
    from core.backup import make_backup
    started = time.monotonic()
    path = make_backup(settings.database_url, settings.data_dir, Path(args.out) if args.out else None)
    print(f"backup written: {path} ({path.stat().st_size / 1024:.0f} KiB, "
          f"{time.monotonic() - started:.1f} s)")
    return 0


def cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Check a backup archive: member hashes and database integrity."""
    from core.backup import read_manifest, verify_backup
    problems = verify_backup(Path(args.path))
    if problems:
        raise SecureSphereError(f"{args.path} failed verification: " + "; ".join(problems))
    manifest = read_manifest(Path(args.path))
    print(f"backup ok: {args.path} ({manifest['engine']}, schema {manifest['schema_revision']}, "
          f"{len(manifest['members'])} files, taken {manifest['created_at']})")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Restore a verified backup into the configured database and data dir."""
    from core.audit import record
    from core.backup import restore_backup
    path = Path(args.path)
    done = restore_backup(path, settings.database_url, settings.data_dir, force=args.force)
    # The restored trail is the backup's, unchanged; the restore itself is the next row on it.
    with db.transaction(settings.database_url) as session:
        record(session, SYSTEM, "backup_restored", object_type="backup", object_id=path.name[:64],
               detail={"taken_at": done["created_at"], "safety_backup": str(done["safety_backup"] or "")})
    if done["safety_backup"]:
        print(f"the previous data was backed up first to {done['safety_backup']}")
    print(f"restored {sum(done['tables'].values())} rows in {len(done['tables'])} tables and "
          f"{done['evidence_files']} evidence files (schema {done['schema_revision']})")
    if done["schema_revision"] != schema.head_revision():
        print("the backup is from an older version: run python -m core.cli init to upgrade it")
    return 0


def cmd_backups(settings: Settings, args: argparse.Namespace) -> int:
    """List the backups in the data dir, or prune all but the newest N."""
    from core.backup import list_backups, prune_backups
    if args.action == "prune":
        removed = prune_backups(settings.data_dir, args.keep)
        print("\n".join(f"removed {path}" for path in removed) or "nothing to remove")
        return 0
    for entry in list_backups(settings.data_dir):
        print(f"{entry['created']:%Y-%m-%d %H:%M:%S} UTC  {entry['size_bytes'] / 1024:>10.0f} KiB  "
              f"{entry['path']}")
    return 0


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    """Remove sign-in attempts, withdrawn evidence and audit rows past their retention."""
    from core.retention import purge_expired
    opener = db.reading if args.dry_run else db.transaction
    with opener(settings.database_url) as session:
        done = purge_expired(session, SYSTEM, data_dir=settings.data_dir, dry_run=args.dry_run,
                             key=settings.cookie_key.encode())
    print(f"{'would remove' if args.dry_run else 'removed'}: {done['sign_in_attempts']} sign-in "
          f"attempts, {len(done['evidence_rows'])} withdrawn evidence rows and "
          f"{len(done['evidence_files'])} of their files, {done['audit_rows']} audit rows")
    return 0


def cmd_health(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 with "ok" when the database answers and is migrated, else 1 with the reason;
    files others may read are warned about on stderr without failing."""
    from core.health import check_health, loose_permissions
    warnings = loose_permissions(settings.database_url, settings.data_dir)  # before opening fixes them
    ok, reason = check_health(settings.database_url)
    if not ok:
        raise SecureSphereError(reason)
    for warning in warnings:
        print(warning, file=sys.stderr)
    print(reason)
    return 0


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Walk the audit hash chain (and checkpoint signatures); name the first bad row."""
    from core.audit import find_problem
    from core.models import AuditLog
    with db.reading(settings.database_url) as session:
        problem = find_problem(session, settings.cookie_key.encode())
        rows = session.scalar(select(func.count()).select_from(AuditLog))
    if problem:
        raise SecureSphereError(f"audit trail broken at {problem}")
    print(f"audit trail intact: {rows} rows")
    return 0


def cmd_seed_synthetic(settings: Settings, args: argparse.Namespace) -> int:
    """Build the synthetic benchmark data set (see core/synthetic.py) and print rows/s."""
    from core.synthetic import seed_synthetic
    url = args.url or settings.database_url
    done = seed_synthetic(url, products=args.products, questions=args.questions, seed=args.seed)
    print(f"synthetic data set: {done['organizations']} organisations, {done['products']} products, "
          f"{done['questionnaire_responses']:,} answers, {done['score_history']:,} snapshots, "
          f"{done['product_statuses']:,} status changes in {done['seconds']:.1f} s")
    print(f"answers: {done['answer_rows_per_s']:,.0f} rows/s; all rows: {done['rows_per_s']:,.0f} rows/s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per operation."""
    parser = argparse.ArgumentParser(prog="python -m core.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="create or upgrade the schema and load shipped banks")
    init.add_argument("--demo", action="store_true", help="also load the demo data")
    init.set_defaults(handler=cmd_init)
    stats = sub.add_parser("stats", help="row counts, statuses, size")
    stats.add_argument("--json", action="store_true", help="one JSON object")
    stats.set_defaults(handler=cmd_stats)
    user = sub.add_parser("create-user", help="create an account with a one-time password")
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True, choices=ROLES)
    user.add_argument("--name", default="")
    user.add_argument("--email", default="")
    user.add_argument("--organization", default="", help="organisation name (clients)")
    user.set_defaults(handler=cmd_create_user)
    imp = sub.add_parser("import-bank", help="import a YAML bank, OSCAL catalog or ASVS CSV")
    imp.add_argument("path")
    imp.add_argument("--format", choices=("yaml", "oscal", "asvs"), help="default: from the extension")
    imp.add_argument("--level", type=int, help="ASVS level to include (1-3)")
    imp.add_argument("--dry-run", action="store_true", help="preview only")
    imp.set_defaults(handler=cmd_import_bank)
    exp = sub.add_parser("export-bank", help="print a stored bank as YAML")
    exp.add_argument("key")
    exp.add_argument("--version", type=int)
    exp.set_defaults(handler=cmd_export_bank)
    conf = sub.add_parser("settings", help="list run-time settings, or: settings KEY VALUE")
    conf.add_argument("key", nargs="?")
    conf.add_argument("value", nargs="?")
    conf.set_defaults(handler=cmd_settings)
    # --- scoring commands (recompute-scores) ---
    rec = sub.add_parser("recompute-scores", help="re-score with today's bands; snapshot changes")
    rec.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
    rec.set_defaults(handler=cmd_recompute_scores)
    # --- operations commands (backup, verify, restore, backups, purge, health, audit-verify) ---
    back = sub.add_parser("backup", help="back up the database and evidence files to one archive")
    back.add_argument("--out", help="archive path (default: data dir/backups/securesphere-TIME.tar.gz)")
    back.set_defaults(handler=cmd_backup)
    ver = sub.add_parser("verify", help="check a backup archive")
    ver.add_argument("path")
    ver.set_defaults(handler=cmd_verify)
    res = sub.add_parser("restore", help="restore a backup (stop the app first)")
    res.add_argument("path")
    res.add_argument("--force", action="store_true", help="replace existing data (backed up first)")
    res.set_defaults(handler=cmd_restore)
    bks = sub.add_parser("backups", help="list backups, or prune old ones")
    bks_sub = bks.add_subparsers(dest="action", required=True)
    bks_sub.add_parser("list", help="newest first")
    prune = bks_sub.add_parser("prune", help="delete all but the newest N")
    prune.add_argument("--keep", type=int, required=True)
    bks.set_defaults(handler=cmd_backups)
    purge = sub.add_parser("purge", help="remove data past its retention period")
    purge.add_argument("--dry-run", action="store_true", help="show what would go, remove nothing")
    purge.set_defaults(handler=cmd_purge)
    sub.add_parser("health", help="exit 0 when the database answers and is migrated").set_defaults(
        handler=cmd_health)
    sub.add_parser("audit-verify", help="check the audit trail's hash chain").set_defaults(
        handler=cmd_audit_verify)
    # --- analytics commands (seed-synthetic) ---
    syn = sub.add_parser("seed-synthetic", help="build the synthetic benchmark data set (not for "
                                                "production: its rows carry no audit trail)")
    syn.add_argument("--products", type=int, default=10_000, help="products, one assessment each")
    syn.add_argument("--questions", type=int, default=100, help="questions in the synthetic bank")
    syn.add_argument("--seed", type=int, default=1, help="random seed")
    syn.add_argument("--url", help="database URL (default: SECURESPHERE_DATABASE_URL)")
    syn.set_defaults(handler=cmd_seed_synthetic)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors become a one-line message and exit code 1."""
    os.umask(0o077)  # every file the CLI writes (database, backups, keys) is the owner's only
    args = build_parser().parse_args(argv)
    configure_logging(level="WARNING")  # one JSON line per warning or error on stderr
    try:
        return args.handler(load_settings(), args)
    except SecureSphereError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a CLI user gets one line, not a traceback
        print(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
