"""PostgreSQL recovery to a point in time: continuous archiving of WAL segments into a folder,
base backups with pg_basebackup, and a cluster directory rebuilt to replay up to a moment.

``setup_archiving`` prints (or, for a cluster we own, applies with ALTER SYSTEM) the settings;
``archive_mode`` needs a server restart. ``base_backup`` writes ``base-<time>/`` (pg_basebackup
tar format, compressed, its WAL included) with ``backup.json`` (when it started and finished,
and the first WAL segment it needs). ``prepare_recovery`` unpacks the newest base backup finished
before the target time into a new data directory with ``recovery_target_time``; started
(core/pitr_recover.py), the server replays the archive up to that moment and promotes.
``replayed`` then says when the last transaction it replayed committed.
"""

from __future__ import annotations

import json
import os
import re
import tarfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from core.dumps import pg_env, pg_tool, plain_engine, run_tool
from core.errors import SecureSphereError
from core.labels import as_utc
from core.models import utcnow

BASES = "pitr"
INFO = "backup.json"
_STAMP = "%Y%m%d-%H%M%S"
_START = re.compile(r"START WAL LOCATION: \S+ \(file ([0-9A-F]{24})\)")


def archive_settings(wal_dir: Path) -> dict[str, str]:
    """The server settings for continuous archiving into ``wal_dir``."""
    folder = str(Path(wal_dir).resolve())
    return {
        "wal_level": "replica",
        "archive_mode": "on",
        # Copied under a dot name and renamed: the offsite push never reads a segment half
        # written, and a copy cut short is redone on the server's next try. Group-readable, for
        # a backup job in the folder's group.
        "archive_command": (
            f"test ! -f '{folder}/%f' && cp '%p' '{folder}/.%f.tmp' && "
            f"chmod 640 '{folder}/.%f.tmp' && mv '{folder}/.%f.tmp' '{folder}/%f'"
        ),
        "archive_timeout": "60",
    }


def setup_archiving(url: str, wal_dir: Path, *, apply: bool) -> list[str]:
    """The commands that turn archiving on (applied with ALTER SYSTEM when ``apply``)."""
    wanted = archive_settings(wal_dir)
    lines = [f"ALTER SYSTEM SET {key} = '{value}';" for key, value in wanted.items()]
    if not apply:
        return [
            f"mkdir -m 700 -p {Path(wal_dir).resolve()} (owned by the PostgreSQL server's user)",
            *lines,
            "then restart PostgreSQL (archive_mode takes effect on restart)",
        ]
    Path(wal_dir).mkdir(mode=0o700, parents=True, exist_ok=True)  # WAL holds every row
    engine = plain_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            current = connection.execute(text("SHOW archive_mode")).scalar_one()
            for key, value in wanted.items():
                connection.execute(
                    text(f"ALTER SYSTEM SET {key} = '{value.replace(chr(39), chr(39) * 2)}'")
                )
            connection.execute(text("SELECT pg_reload_conf()"))
    finally:
        engine.dispose()
    done = [f"applied: {line}" for line in lines]
    if current != "on":
        done.append("restart PostgreSQL now: archive_mode takes effect on restart")
    return done


@dataclass(frozen=True)
class BaseBackup:
    """One base backup: its folder, when it started and finished (UTC), and the first WAL segment
    a recovery from it needs ('' when not recorded)."""

    folder: Path
    started: datetime
    finished: datetime
    start_wal: str = ""

    def info(self) -> dict[str, str]:
        """What ``backup.json`` holds."""
        return {
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "start_wal": self.start_wal,
        }


def read_info(folder: Path, raw: str) -> BaseBackup:
    """A base backup from its folder and the text of its ``backup.json``."""
    info = json.loads(raw)
    started = as_utc(datetime.fromisoformat(info["started"]))
    finished = as_utc(datetime.fromisoformat(info.get("finished") or info["started"]))
    return BaseBackup(folder, started, finished, str(info.get("start_wal", "")))


def _start_segment(base_tar: Path) -> str:
    """The first WAL segment the base backup needs, from its backup_label."""
    with tarfile.open(base_tar) as tar:
        for member in tar:  # pg_basebackup writes backup_label first
            if member.name.removeprefix("./") == "backup_label":
                handle = tar.extractfile(member)
                match = _START.search(handle.read().decode() if handle else "")
                return match.group(1) if match else ""
    return ""


def base_backup(url: str, data_dir: Path) -> BaseBackup:
    """pg_basebackup into ``data_dir/pitr/base-<time>/``; the archive replays from it."""
    started = utcnow()
    root = Path(data_dir) / BASES
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = root / f"base-{started:{_STAMP}}"
    partial = root / f".{folder.name}.partial"
    env = pg_env(url, root)
    run_tool(
        [
            pg_tool("pg_basebackup"),
            f"--pgdata={partial}",
            "--format=tar",
            "--gzip",
            "--wal-method=fetch",
            "--checkpoint=fast",
            "--no-password",
            f"--label=securesphere {started.isoformat()}",
        ],
        env,
    )
    done = BaseBackup(folder, started, utcnow(), _start_segment(partial / "base.tar.gz"))
    (partial / INFO).write_text(json.dumps(done.info()))
    os.replace(partial, folder)
    return done


def base_backups(data_dir: Path) -> list[BaseBackup]:
    """The base backups, newest first."""
    found = []
    for folder in (Path(data_dir) / BASES).glob("base-*"):
        found.append(read_info(folder, (folder / INFO).read_text()))
    return sorted(found, key=lambda b: b.started, reverse=True)


def base_before(bases: list[BaseBackup], when: datetime) -> BaseBackup | None:
    """The newest base backup (of ``bases``, newest first) that finished before ``when``."""
    return next((b for b in bases if b.finished < as_utc(when)), None)


def too_early(bases: list[BaseBackup], when: datetime) -> SecureSphereError:
    """The error for a time no base backup finished before."""
    asked = f"{as_utc(when):%Y-%m-%d %H:%M:%S} UTC"
    if not bases:
        return SecureSphereError(
            f"no base backup to recover to {asked}: take one with backup --base"
        )
    oldest = bases[-1]
    return SecureSphereError(
        f"{asked} is before the oldest base backup ({oldest.folder.name}, finished "
        f"{oldest.finished:%Y-%m-%d %H:%M:%S} UTC): recovery can reach no earlier than that"
    )


def prepare_recovery(data_dir: Path, wal_dir: Path, target: Path, when: datetime) -> BaseBackup:
    """Unpack the newest base backup finished before ``when`` into the empty ``target`` and set it
    to replay the WAL archive up to ``when``, then promote; the base backup used."""
    when = as_utc(when)
    bases = base_backups(data_dir)
    base = base_before(bases, when)
    if base is None:
        raise too_early(bases, when)
    if target.exists() and any(target.iterdir()):
        raise SecureSphereError(f"{target} is not empty")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tarfile.open(base.folder / "base.tar.gz") as tar:
        tar.extractall(target, filter="tar")
    wal_tar = base.folder / "pg_wal.tar.gz"
    if wal_tar.exists():
        with tarfile.open(wal_tar) as tar:
            tar.extractall(target / "pg_wal", filter="tar")
    folder = str(Path(wal_dir).resolve())
    with open(target / "postgresql.auto.conf", "a") as conf:
        conf.write(
            f'\nrestore_command = \'cp "{folder}/%f" "%p"\'\n'
            f"recovery_target_time = '{when.isoformat()}'\n"
            "recovery_target_action = 'promote'\n"
            # The base backup's own timeline: a rebuild made next to its running source archives
            # its new timeline into the same folder, and 'latest' would follow that one
            "recovery_target_timeline = 'current'\n"
        )
    (target / "recovery.signal").touch()
    return base


def replayed(url: str) -> str:
    """When the last transaction the rebuilt cluster replayed committed and how far it replayed
    the WAL, as a line to print."""
    engine = plain_engine(url)
    try:
        with engine.connect() as connection:
            last, lsn, recovering = connection.execute(
                text(
                    "SELECT pg_last_xact_replay_timestamp(), pg_last_wal_replay_lsn(), "
                    "pg_is_in_recovery()"
                )
            ).one()
    finally:
        engine.dispose()
    state = "still replaying" if recovering else "promoted"
    when = f"{as_utc(last):%Y-%m-%d %H:%M:%S.%f} UTC" if last else "none replayed"
    upto = f", WAL replayed up to LSN {lsn}" if lsn else ""
    return f"last transaction replayed committed at {when} ({state}{upto})"
