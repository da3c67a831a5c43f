"""Restoring a verified backup: the database and the evidence files, with the app stopped.

Never overwrites data without ``force``, and with it keeps a backup of what was there.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core import db
from core.backup import DB_MEMBERS, EVIDENCE, default_path, evidence_files, make_backup
from core.backup_integrity import archive_problems, read_manifest
from core.db import sqlite_path
from core.dumps import describe, engine_name, pg_env, pg_tool, plain_engine, run_tool
from core.errors import SecureSphereError, ValidationError


@dataclass(frozen=True)
class RestoreReport:
    """What a restore put back, and where the data it replaced was saved first (if any)."""

    engine: str
    schema_revision: str | None
    created_at: str  # when the backup was taken, ISO 8601
    tables: dict[str, int]  # rows per table
    evidence_files: int
    safety_backup: Path | None


def _first_rows(url: str) -> str:
    """'' for an empty or missing database, else which table holds rows."""
    if engine_name(url) == "sqlite" and not sqlite_path(url).exists():
        return ""
    engine = plain_engine(url)
    try:
        with engine.connect() as connection:
            tables = describe(connection).tables
    finally:
        engine.dispose()
    full = [f"{name} ({count} rows)" for name, count in tables.items() if count]
    return f"the target database is not empty: {full[0]}" if full else ""


def _occupied(url: str, data_dir: Path) -> str:
    evidence = Path(data_dir) / EVIDENCE
    if evidence.is_dir() and any(p.is_file() or p.is_symlink() for p in evidence.rglob("*")):
        return f"the evidence folder {evidence} is not empty"
    return _first_rows(url)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _place(source: Path, target: Path) -> None:
    """Copy a file into place atomically: a reader sees the old file or the whole new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(source, staged)
    _fsync(staged)
    os.replace(staged, target)
    _fsync(target.parent)


def _restore_sqlite(url: str, dump: Path) -> None:
    target = sqlite_path(url)
    db.dispose_all()
    if target.exists():
        # Leaving WAL mode needs the only connection: refuses while the app still has it open,
        # and folds the -wal file in so no stale log is replayed over the restored file.
        connection = sqlite3.connect(target, timeout=2)
        try:
            mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except sqlite3.OperationalError:
            mode = "busy"
        finally:
            connection.close()
        if mode != "delete":
            raise SecureSphereError("the database is in use; stop the app before restoring")
    _place(dump, target)


def _restore_postgres(url: str, dump: Path) -> None:
    db.dispose_all()
    env = pg_env(url, dump.parent)
    run_tool(
        [
            pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={env['PGDATABASE']}",
            str(dump),
        ],
        env,
    )


def _restore_evidence(source: Path, target: Path) -> int:
    files = list(evidence_files(source)) if source.is_dir() else []
    for file in files:
        _place(file.path, target / Path(file.name).relative_to(EVIDENCE))
    return len(files)


def restore_backup(path: Path, url: str, data_dir: Path, *, force: bool = False) -> RestoreReport:
    """Restore a verified backup into an empty target, or (force) over one after a safety backup."""
    problems = archive_problems(path)
    if problems:
        raise SecureSphereError(f"the backup failed verification: {problems[0]}")
    manifest = read_manifest(path)
    if manifest.engine != engine_name(url):
        raise ValidationError(f"the backup is of a {manifest.engine} database, the target is not")
    occupied = _occupied(url, data_dir)
    if occupied and not force:
        raise SecureSphereError(
            f"{occupied}; use --force to replace it (a backup of it is taken first)"
        )
    safety = (
        make_backup(url, data_dir, default_path(data_dir, "-pre-restore")) if occupied else None
    )
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as tmp,
        tarfile.open(path, "r:gz") as tar,
    ):
        tar.extractall(tmp, filter="data")  # refuses links, absolute and ".." names
        dump = Path(tmp) / DB_MEMBERS[manifest.engine]
        (_restore_sqlite if manifest.engine == "sqlite" else _restore_postgres)(url, dump)
        files = _restore_evidence(Path(tmp) / EVIDENCE, Path(data_dir) / EVIDENCE)
    return RestoreReport(
        manifest.engine,
        manifest.schema_revision,
        manifest.created_at,
        manifest.tables,
        files,
        safety,
    )
