"""PostgreSQL point in time for ``backup`` and ``restore``: --setup-archiving, --base, --pgdata."""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path

from core.config import Settings
from core.dumps import engine_name
from core.errors import SecureSphereError
from core.labels import as_utc
from core.pitr import base_backup, prepare_recovery, replayed, setup_archiving


def _wal_dir(settings: Settings, args: argparse.Namespace) -> Path:
    given = args.wal_dir or os.environ.get("SECURESPHERE_WAL_ARCHIVE", "")
    return Path(given) if given else Path(settings.data_dir) / "wal"


def backup(settings: Settings, args: argparse.Namespace) -> int:
    """``backup --setup-archiving [--apply]`` or ``backup --base``."""
    if engine_name(settings.database_url) != "postgresql":
        raise SecureSphereError("point-in-time recovery is for PostgreSQL; SQLite uses --if-due")
    if args.setup_archiving:
        lines = setup_archiving(settings.database_url, _wal_dir(settings, args), apply=args.apply)
        print("\n".join(lines))
        return 0
    done = base_backup(settings.database_url, settings.data_dir)
    print(f"base backup written: {done.folder} (started {done.started:%Y-%m-%d %H:%M:%S} UTC)")
    return 0


def restore(settings: Settings, args: argparse.Namespace) -> int:
    """``restore --to TIME --pgdata DIR``: a data directory that replays up to TIME; or
    ``restore --replayed``: what the configured (rebuilt) cluster replayed."""
    if args.replayed:
        print(replayed(settings.database_url))
        return 0
    if not args.to:
        raise SecureSphereError("--pgdata needs --to TIME")
    when = as_utc(datetime.fromisoformat(args.to))
    target = Path(args.pgdata)
    base = prepare_recovery(settings.data_dir, _wal_dir(settings, args), target, when)
    print(
        f"{target} replays {base.folder.name} (started {base.started:%Y-%m-%d %H:%M:%S} UTC) and "
        f"the WAL archive up to {when:%Y-%m-%d %H:%M:%S} UTC, then promotes; start it with: "
        f"pg_ctl -D {target} start (as the server's user), then run health against it"
    )
    return 0


def register_backup(back: argparse.ArgumentParser) -> None:
    """Add --setup-archiving, --apply, --base and --wal-dir to ``backup``."""
    back.add_argument(
        "--setup-archiving",
        action="store_true",
        help="PostgreSQL: print the settings for WAL archiving (--apply sets them)",
    )
    back.add_argument("--apply", action="store_true", help="with --setup-archiving: ALTER SYSTEM")
    back.add_argument("--base", action="store_true", help="PostgreSQL: a pg_basebackup for PITR")
    back.add_argument("--wal-dir", help="WAL archive folder (default: data dir/wal)")


def register_restore(res: argparse.ArgumentParser) -> None:
    """Add --pgdata (and --wal-dir) to ``restore``."""
    res.add_argument("--pgdata", help="PostgreSQL: rebuild a data directory at --to TIME here")
    res.add_argument("--wal-dir", help="WAL archive folder (default: data dir/wal)")
    res.add_argument(
        "--replayed",
        action="store_true",
        help="PostgreSQL: the last transaction a rebuild replayed",
    )
