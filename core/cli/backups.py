"""The offsite part of ``backups``: list, push, verify-offsite, fetch, prune there, offsite-key."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from core.backup_tiers import Tiers, point_before
from core.cli.pitr import offsite_lines, wal_dir
from core.config import Settings
from core.errors import SecureSphereError
from core.offsite import (
    Offsite,
    OffsiteCopy,
    fetch,
    from_env,
    list_offsite,
    prune_offsite,
    push,
    verify_copy,
)
from core.offsite_crypto import new_key

OFFSITE_ACTIONS = ("push", "verify-offsite", "fetch", "offsite-key")


def _target() -> Offsite:
    target = from_env()
    if target is None:
        raise SecureSphereError(
            "no offsite remote: set SECURESPHERE_OFFSITE_REMOTE (rclone remote)"
        )
    return target


def _line(copy: OffsiteCopy) -> str:
    verified = f"verified {copy.verified_at:%Y-%m-%d %H:%M:%S} UTC" if copy.verified_at else ""
    return (
        f"{copy.created:%Y-%m-%d %H:%M:%S} UTC  {copy.size_bytes / 1024:>10.0f} KiB  offsite  "
        f"{copy.state:<10}  {copy.name}  {verified}".rstrip()
    )


def list_lines() -> list[str]:
    """The offsite copies for ``backups list``; none when no remote is set."""
    target = from_env()
    return [_line(copy) for copy in list_offsite(target)] if target else []


def fetch_before(settings: Settings, when: datetime) -> list[str]:
    """With no local backup before ``when``: fetch the newest verified offsite copies taken
    before it (up to three) until one's data is all from before it; what was fetched."""
    target = from_env()
    if target is None:
        return []
    fetched = []
    candidates = [c for c in list_offsite(target) if c.state == "verified" and c.created <= when]
    for copy in candidates[:3]:
        fetched.append(str(fetch(target, copy.name, settings.data_dir)))
        if point_before(settings.data_dir, when) is not None:
            break
    return fetched


def after_backup(data_dir: Path, tiers: Tiers) -> list[str]:
    """With a remote set: copy every backup without a verified offsite copy there (the newest
    just taken, and any an earlier cut upload left), timed, then prune there by the tiers; and
    the PostgreSQL base backups and WAL archive files not there yet."""
    target = from_env()
    if target is None:
        return []
    started = time.monotonic()
    copies = push(target, data_dir)
    lines = [
        f"offsite copy verified: {target.at(c.name)}.enc ({c.size_bytes / 1024:.0f} KiB)"
        for c in copies
    ]
    if copies:
        lines.append(
            f"offsite: {len(copies)} copied and checked in {time.monotonic() - started:.1f} s"
        )
    lines += [f"removed offsite {name}" for name in prune_offsite(target, tiers)]
    return lines + offsite_lines(data_dir, wal_dir(data_dir), None)


def run(settings: Settings, args: argparse.Namespace, tiers: Callable[[], Tiers]) -> int:
    """Run one offsite action of ``backups``."""
    if args.action == "offsite-key":
        print(new_key())
        return 0
    target = _target()
    if args.action == "push":
        for copy in push(target, settings.data_dir):
            print(f"offsite copy verified: {copy.name}")
        for name in prune_offsite(target, tiers()):
            print(f"removed offsite {name}")
        for line in offsite_lines(settings.data_dir, wal_dir(settings.data_dir), tiers()):
            print(line)
        return 0
    names = [args.name] if args.name else [c.name for c in list_offsite(target)]
    if args.action == "fetch":
        if not args.name:
            raise SecureSphereError("name the backup to fetch (see: backups list)")
        print(f"fetched and checked: {fetch(target, args.name, settings.data_dir)}")
        return 0
    problems = [problem for name in names if (problem := verify_copy(target, name))]
    if problems:
        raise SecureSphereError("; ".join(problems))
    print(f"offsite copies ok: {len(names)}")
    return 0


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the offsite actions under ``backups``."""
    actions.add_parser("push", help="copy every backup without a verified offsite copy there")
    ver = actions.add_parser("verify-offsite", help="read offsite copies back and check them")
    ver.add_argument("name", nargs="?", help="one backup (default: all)")
    got = actions.add_parser("fetch", help="download and check an offsite copy into backups/")
    got.add_argument("name", nargs="?")
    actions.add_parser("offsite-key", help="print a new key for SECURESPHERE_OFFSITE_KEY")
