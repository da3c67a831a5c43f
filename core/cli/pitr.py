"""PostgreSQL point in time for ``backup`` and ``restore``: --setup-archiving, --base, --pgdata;
and the base backups' and WAL archive's offsite copies for ``backup`` and ``backups push``."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from core.backup_tiers import Tiers
from core.config import Settings
from core.dumps import engine_name
from core.errors import SecureSphereError
from core.labels import as_utc
from core.offsite import from_env
from core.pitr import BASES, base_backup, base_backups, base_before, replayed, setup_archiving
from core.pitr_offsite import fetch_pitr, prune_local, prune_pitr_offsite, push_pitr, wal_files
from core.pitr_recover import recover


def wal_dir(data_dir: Path, given: str | None = None) -> Path:
    """The WAL archive folder: --wal-dir, else SECURESPHERE_WAL_ARCHIVE, else data dir/wal."""
    given = given or os.environ.get("SECURESPHERE_WAL_ARCHIVE", "")
    return Path(given) if given else Path(data_dir) / "wal"


def offsite_lines(data_dir: Path, wal: Path, tiers: Tiers | None) -> list[str]:
    """With a remote set and a base backup or WAL archive here: copy every base backup file and
    WAL file without a verified offsite copy there, timed; with ``tiers``, prune there too."""
    target = from_env()
    if target is None or not ((Path(data_dir) / BASES).is_dir() or wal_files(wal)):
        return []
    started = time.monotonic()
    copies = push_pitr(target, data_dir, wal)
    lines = []
    if copies:
        size = sum(c.size_bytes for c in copies) / 1024
        lines.append(
            f"offsite copy verified: {len(copies)} base backup and WAL files ({size:.0f} KiB) "
            f"in {time.monotonic() - started:.1f} s"
        )
    if tiers is not None:
        lines += [f"removed offsite pitr/{name}" for name in prune_pitr_offsite(target, tiers)]
    return lines


def backup(settings: Settings, args: argparse.Namespace, tiers: Callable[[], Tiers]) -> int:
    """``backup --setup-archiving [--apply]`` or ``backup --base`` (then prune by the tiers here
    and, with a remote, copy offsite and prune there)."""
    if engine_name(settings.database_url) != "postgresql":
        raise SecureSphereError("point-in-time recovery is for PostgreSQL; SQLite uses --if-due")
    wal = wal_dir(settings.data_dir, args.wal_dir)
    if args.setup_archiving:
        print("\n".join(setup_archiving(settings.database_url, wal, apply=args.apply)))
        return 0
    started = time.monotonic()
    done = base_backup(settings.database_url, settings.data_dir)
    size = sum(p.stat().st_size for p in done.folder.iterdir()) / 1024
    print(
        f"base backup written: {done.folder} ({size:.0f} KiB, "
        f"{time.monotonic() - started:.1f} s; started {done.started:%Y-%m-%d %H:%M:%S} UTC)"
    )
    keep = tiers()
    for removed in prune_local(settings.data_dir, wal, keep):
        print(f"removed {removed}")
    for line in offsite_lines(settings.data_dir, wal, keep):
        print(line)
    return 0


def restore(settings: Settings, args: argparse.Namespace) -> int:
    """``restore --to TIME --pgdata DIR``: rebuild DIR, start it, wait until it has replayed up
    to TIME and promoted, say what it replayed; or ``restore --replayed``: what the configured
    (rebuilt) cluster replayed."""
    if args.replayed:
        print(replayed(settings.database_url))
        return 0
    if not args.to:
        raise SecureSphereError("--pgdata needs --to TIME")
    try:
        when = as_utc(datetime.fromisoformat(args.to))
    except ValueError as exc:
        raise SecureSphereError(f"--to {args.to!r}: not an ISO 8601 time") from exc
    wal, target = wal_dir(settings.data_dir, args.wal_dir), Path(args.pgdata)
    remote = from_env()
    if remote is not None and base_before(base_backups(settings.data_dir), when) is None:
        fetched = fetch_pitr(remote, settings.data_dir, wal, when)
        if fetched:
            print(
                f"fetched from offsite and checked: {Path(fetched[0]).name} and "
                f"{len(fetched) - 1} WAL files into {wal}"
            )
    started = time.monotonic()
    done = recover(
        settings.database_url,
        settings.data_dir,
        wal,
        target,
        when,
        port=args.port,
        timeout=args.timeout,
    )
    print(
        f"{target} rebuilt from {done.base.folder.name} and the WAL archive, replayed up to "
        f"{when:%Y-%m-%d %H:%M:%S} UTC and promoted in {time.monotonic() - started:.1f} s; it "
        f"runs on 127.0.0.1:{args.port} (stop it with: pg_ctl -D {target} stop)"
    )
    print(done.replayed)
    if done.stopped:
        print(f"the server: {done.stopped}")
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
    """Add --pgdata, --port, --timeout, --wal-dir and --replayed to ``restore``."""
    res.add_argument("--pgdata", help="PostgreSQL: rebuild a data directory at --to TIME here")
    res.add_argument(
        "--port", type=int, default=5433, help="with --pgdata: port to start it on (5433)"
    )
    res.add_argument(
        "--timeout",
        type=float,
        default=3600,
        help="with --pgdata: seconds to wait for recovery to finish (3600)",
    )
    res.add_argument("--wal-dir", help="WAL archive folder (default: data dir/wal)")
    res.add_argument(
        "--replayed",
        action="store_true",
        help="PostgreSQL: the last transaction a rebuild replayed",
    )
