"""Setting up: init, stats, create-user, settings."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

from sqlalchemy import func, select

from core import db, migrate
from core.access import ROLES, SYSTEM
from core.banks.frameworks import shipped_banks
from core.banks.store import import_bank
from core.config import Settings
from core.demo import build_demo, demo_exists
from core.errors import SecureSphereError
from core.mappings.shipped import import_shipped
from core.models import Assessment, Base
from core.organizations import organization_id_named
from core.settings import SETTINGS, ensure_defaults, get_settings, parse_setting, update_setting
from core.users import create_user


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    """Create or upgrade the schema, load shipped banks and optionally the demo data."""
    migrate.upgrade(settings.database_url)
    banks = shipped_banks()
    with db.transaction(settings.database_url) as session:
        ensure_defaults(session)
        created = [b.key for b in banks if import_bank(session, SYSTEM, b)[1]]
        mappings = import_shipped(session)
        demo = args.demo and not demo_exists(session)
        passwords = (
            build_demo(
                session,
                data_dir=settings.data_dir,
                password=settings.demo_password,
                rounds=settings.bcrypt_rounds,
            )
            if demo
            else {}
        )
    print(
        f"schema at revision {migrate.current_revision(settings.database_url)}; "
        f"banks imported: {len(created)} new, {len(banks) - len(created)} unchanged; "
        f"mappings imported: {mappings} new"
    )
    if passwords and not settings.demo_password:
        print("demo accounts created; passwords (also in the data dir, demo_passwords.txt):")
        for user, password in passwords.items():
            print(f"  {user}: {password}")
    elif passwords:
        print("demo accounts created with SECURESPHERE_DEMO_PASSWORD")
    elif args.demo:
        print("demo data already present; nothing changed")
    return 0


@dataclass(frozen=True)
class DatabaseStats:
    """What ``stats`` prints: engine, size, rows per table and assessments per status."""

    engine: str
    database_bytes: int
    tables: dict[str, int]
    assessments_by_status: dict[str, int]


def collect_stats(settings: Settings) -> DatabaseStats:
    """Row counts of every table, assessments by status, database size and engine."""
    with db.reading(settings.database_url) as session:
        tables = {
            name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in sorted(Base.metadata.tables.items())
        }
        statuses = dict(
            session.execute(
                select(Assessment.status, func.count()).group_by(Assessment.status)
            ).all()
        )
        size = db.database_size(session)
        engine = session.get_bind().dialect.name
    return DatabaseStats(engine, size, tables, statuses)


def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    """Print table row counts and a status summary."""
    if migrate.current_revision(settings.database_url) is None:
        raise SecureSphereError("the database is empty; run: python -m core.cli init")
    stats = collect_stats(settings)
    if args.json:
        print(json.dumps(asdict(stats), sort_keys=True))
        return 0
    print(f"engine: {stats.engine}, size: {stats.database_bytes / 1024:.0f} KiB")
    for name, count in stats.tables.items():
        print(f"  {name:<26}{count:>10}")
    for status, count in sorted(stats.assessments_by_status.items()):
        print(f"  status {status:<19}{count:>10}")
    return 0


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    """Create an account with a one-time password that must be changed at first sign-in."""
    with db.transaction(settings.database_url) as session:
        org_id = organization_id_named(session, args.organization)
        account = create_user(
            session,
            SYSTEM,
            username=args.username,
            name=args.name or args.username,
            role=args.role,
            email=args.email,
            organization_id=org_id,
            rounds=settings.bcrypt_rounds,
        )
    print(
        f"created {args.role} {args.username!r}; one-time password (shown once, "
        f"must be changed at first sign-in): {account.one_time_password}"
    )
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add init, stats, create-user and settings."""
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
    conf = sub.add_parser("settings", help="list run-time settings, or: settings KEY VALUE")
    conf.add_argument("key", nargs="?")
    conf.add_argument("value", nargs="?")
    conf.set_defaults(handler=cmd_settings)
