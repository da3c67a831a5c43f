"""PostgreSQL recovery to a point in time: continuous archiving of WAL segments into a folder,
base backups with pg_basebackup, and a cluster directory rebuilt to replay up to a moment.

``setup_archiving`` prints (or, for a cluster we own, applies with ALTER SYSTEM) the settings;
``archive_mode`` needs a server restart. ``base_backup`` writes ``base-<time>/`` (pg_basebackup
tar format, compressed, its WAL included) with ``backup.json``. ``prepare_recovery`` unpacks the
newest base backup taken before the target time into a new data directory with
``recovery_target_time``; started, the server replays the archive up to that moment and promotes.
``replayed`` then says when the last transaction it replayed committed.
"""

from __future__ import annotations

import json
import os
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
_STAMP = "%Y%m%d-%H%M%S"


def archive_settings(wal_dir: Path) -> dict[str, str]:
    """The server settings for continuous archiving into ``wal_dir``."""
    folder = str(Path(wal_dir).resolve())
    return {
        "wal_level": "replica",
        "archive_mode": "on",
        "archive_command": f"test ! -f '{folder}/%f' && cp '%p' '{folder}/%f'",
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
    """One base backup: its folder and the time it started (UTC)."""

    folder: Path
    started: datetime


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
    (partial / "backup.json").write_text(json.dumps({"started": started.isoformat()}))
    os.replace(partial, folder)
    return BaseBackup(folder, started)


def base_backups(data_dir: Path) -> list[BaseBackup]:
    """The base backups, newest first."""
    found = []
    for folder in (Path(data_dir) / BASES).glob("base-*"):
        info = json.loads((folder / "backup.json").read_text())
        found.append(BaseBackup(folder, as_utc(datetime.fromisoformat(info["started"]))))
    return sorted(found, key=lambda b: b.started, reverse=True)


def prepare_recovery(data_dir: Path, wal_dir: Path, target: Path, when: datetime) -> BaseBackup:
    """Unpack the newest base backup started before ``when`` into the empty ``target`` and set it
    to replay the WAL archive up to ``when``, then promote; the base backup used."""
    when = as_utc(when)
    base = next((b for b in base_backups(data_dir) if b.started < when), None)
    if base is None:
        raise SecureSphereError(f"no base backup started before {when:%Y-%m-%d %H:%M:%S} UTC")
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
        )
    (target / "recovery.signal").touch()
    return base


def replayed(url: str) -> str:
    """When the last transaction the rebuilt cluster replayed committed, as a line to print."""
    engine = plain_engine(url)
    try:
        with engine.connect() as connection:
            last = connection.execute(text("SELECT pg_last_xact_replay_timestamp()")).scalar_one()
            recovering = connection.execute(text("SELECT pg_is_in_recovery()")).scalar_one()
    finally:
        engine.dispose()
    state = "still replaying" if recovering else "promoted"
    when = f"{as_utc(last):%Y-%m-%d %H:%M:%S.%f} UTC" if last else "none replayed"
    return f"last transaction replayed committed at {when} ({state})"
