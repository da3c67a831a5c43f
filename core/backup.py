"""Backups: the database and every evidence file in one .tar.gz with a manifest; verify, restore, prune.

Retention (what ``purge`` removes) lives in core/retention.py.

An archive holds ``database.sqlite`` (SQLite's online backup API, taken while the app may be
writing) or ``database.pgdump`` (``pg_dump --format=custom``), ``evidence/<xx>/<sha256>`` for every
stored file, and last ``manifest.json``: SHA-256 and size of every member, engine, schema revision,
creation time and row counts per table. The database is copied first and the evidence folder
walked afterwards: a file is always stored before the row naming it commits, so every file a row
of the snapshot names is in the archive (extra files are harmless: they are named by content).
Restores run with the app stopped; they verify the archive first and never overwrite data without
``force``, and with it keep a backup of what was there.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from datetime import datetime, timezone
from pathlib import Path

from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, func, inspect, make_url, select, table, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from core import audit, db
from core.access import Actor, require_role
from core.errors import NotFound, SecureSphereError, ValidationError
from core.models import utcnow

MANIFEST = "manifest.json"
DB_MEMBERS = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
EVIDENCE = "evidence"
BACKUPS = "backups"
FORMAT = 1
_STAMP = "%Y%m%d-%H%M%S"
_NAME = re.compile(r"securesphere-(\d{8}-\d{6})(?:-.*)?\.tar\.gz")
_CHUNK = 1024 * 1024


def engine_name(url: str) -> str:
    """'sqlite' or 'postgresql'."""
    return make_url(url).get_backend_name()


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database)


def _plain_engine(url: str):
    # Our own short-lived engine: no WAL switch on a copy, nothing left in core.db's pools.
    return create_engine(url, poolclass=NullPool)


def _describe(connection: Connection) -> tuple[str | None, dict[str, int]]:
    """(schema revision, rows per table) as this connection sees the database."""
    revision = MigrationContext.configure(connection).get_current_revision()
    names = sorted(inspect(connection).get_table_names())
    return revision, {n: connection.scalar(select(func.count()).select_from(table(n))) for n in names}


# --- PostgreSQL tools ---------------------------------------------------------------------------

def pg_tool(name: str) -> str:
    """Path of pg_dump/pg_restore: next to the newest installed server, else on PATH."""
    def major(path: Path) -> int:
        return int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=major, reverse=True)
    tool = str(found[0]) if found else shutil.which(name)
    if not tool:
        raise SecureSphereError(f"{name} not found; install it with: apt-get install postgresql-client")
    return tool


def _pg_env(url: str, folder: Path) -> dict[str, str]:
    """libpq variables for the URL; a password goes to a private passfile, never on a command line."""
    parsed = make_url(url)
    env = dict(os.environ, PGDATABASE=parsed.database or "")
    values = {"PGHOST": parsed.host or parsed.query.get("host"), "PGPORT": parsed.port,
              "PGUSER": parsed.username}
    env.update({k: str(v) for k, v in values.items() if v})
    if parsed.password:
        passfile = folder / ".pgpass"
        secret = parsed.password.replace("\\", "\\\\").replace(":", "\\:")
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"*:*:*:*:{secret}\n")
        env["PGPASSFILE"] = str(passfile)
    return env


def _run(argv: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout or "no output").strip().splitlines()
        raise SecureSphereError(f"{Path(argv[0]).name} failed: {lines[-1] if lines else ''}")


# --- making a backup ----------------------------------------------------------------------------

def _sqlite_snapshot(url: str, copy: Path) -> tuple[str | None, dict[str, int]]:
    source = _sqlite_path(url)
    if not source.is_file():
        raise SecureSphereError(f"no SQLite database at {source}")
    src = sqlite3.connect(source, timeout=db.BUSY_TIMEOUT_MS / 1000)
    dst = sqlite3.connect(copy)
    try:
        src.backup(dst)  # one step under one read transaction: a consistent snapshot while others write
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        src.close()
        dst.close()
    engine = _plain_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as connection:
            return _describe(connection)
    finally:
        engine.dispose()


def _pg_snapshot(url: str, dump: Path) -> tuple[str | None, dict[str, int]]:
    engine = _plain_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            # pg_dump reads the very snapshot the counts were taken in, so the manifest matches.
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            described = _describe(connection)
            _run([pg_tool("pg_dump"), "--format=custom", "--no-password", f"--snapshot={snapshot}",
                  f"--file={dump}"], _pg_env(url, dump.parent))
            connection.rollback()
        return described
    finally:
        engine.dispose()


class _HashingReader:
    """Reads a file for tarfile while hashing what passes through."""

    def __init__(self, handle) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        """The next bytes of the file, hashed on their way through."""
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> dict:
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(os.fstat(handle.fileno()).st_mtime), 0o600
        reader = _HashingReader(handle)
        tar.addfile(info, reader)
    return {"sha256": reader.digest.hexdigest(), "size": size}


def _evidence_files(folder: Path):
    """(path, member name) of every regular file under the evidence folder; links are skipped."""
    for root, dirs, files in os.walk(folder):  # os.walk does not descend into linked folders
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if not path.is_symlink() and path.is_file() and not name.startswith(".upload-"):
                yield path, f"{EVIDENCE}/{path.relative_to(folder).as_posix()}"


def _write_archive(path: Path, dump: Path, evidence: Path, manifest: dict) -> None:
    members = {}
    with tarfile.open(path, "w:gz") as tar:
        members[dump.name] = _add_file(tar, dump, dump.name)
        for file, name in _evidence_files(evidence):
            members[name] = _add_file(tar, file, name)
        data = json.dumps(dict(manifest, members=members), indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(utcnow().timestamp()), 0o600
        tar.addfile(info, io.BytesIO(data))


def _default_path(data_dir: Path, suffix: str = "") -> Path:
    folder = Path(data_dir) / BACKUPS
    stem = f"securesphere-{utcnow().strftime(_STAMP)}{suffix}"
    path, n = folder / f"{stem}.tar.gz", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.tar.gz"
    return path


def make_backup(url: str, data_dir: Path, out: Path | None = None) -> Path:
    """Write one .tar.gz with the database, every evidence file and a manifest; returns its path."""
    target = Path(out) if out else _default_path(data_dir)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = engine_name(url)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as tmp:
        dump = Path(tmp) / DB_MEMBERS[engine]
        snapshot = _sqlite_snapshot if engine == "sqlite" else _pg_snapshot
        revision, tables = snapshot(url, dump)
        partial = Path(tmp) / "partial.tar.gz"
        partial.touch(mode=0o600)  # the archive holds password hashes: owner only
        _write_archive(partial, dump, Path(data_dir) / EVIDENCE,
                       {"format": FORMAT, "engine": engine, "schema_revision": revision,
                        "created_at": utcnow().isoformat(), "tables": tables})
        os.replace(partial, target)
    return target


# --- verifying ----------------------------------------------------------------------------------

def _unsafe(member: tarfile.TarInfo) -> str:
    parts = Path(member.name).parts
    if member.name.startswith(("/", "\\")) or ".." in parts or not parts:
        return f"{member.name!r}: unsafe member name"
    return "" if member.isfile() else f"{member.name!r}: not a regular file"


def _scan(tar: tarfile.TarFile) -> tuple[dict, dict | None, list[str]]:
    """(hash and size per member, parsed manifest, problems) from one pass over the archive."""
    found, manifest, problems = {}, None, []
    for member in tar:
        if problem := _unsafe(member):
            problems.append(problem)
            continue
        digest, stream = hashlib.sha256(), tar.extractfile(member)
        if member.name == MANIFEST:
            data = stream.read()
            manifest = json.loads(data)  # ValueError is caught by the caller
            continue
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
        found[member.name] = {"sha256": digest.hexdigest(), "size": member.size}
    return found, manifest, problems


def _compare(found: dict, manifest: dict) -> list[str]:
    listed = manifest.get("members") or {}
    problems = [f"{name}: missing from the archive" for name in listed if name not in found]
    problems += [f"{name}: content does not match the manifest (changed or damaged)"
                 for name in listed if name in found and found[name] != listed[name]]
    problems += [f"{name}: not in the manifest" for name in found if name not in listed]
    if DB_MEMBERS.get(manifest.get("engine")) not in listed:
        problems.append("the manifest names no database for its engine")
    return problems


def _check_database(tar: tarfile.TarFile, manifest: dict, folder: Path) -> list[str]:
    """SQLite: integrity_check and row counts on an extracted copy; PostgreSQL: pg_restore --list."""
    name = DB_MEMBERS[manifest["engine"]]
    tar.extract(name, folder, filter="data")
    if manifest["engine"] == "postgresql":
        _run([pg_tool("pg_restore"), "--list", str(folder / name)])
        return []
    connection = sqlite3.connect(folder / name)
    try:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    finally:
        connection.close()
    if result != ["ok"]:
        return [f"{name}: integrity check failed: {result[0]}"]
    engine = _plain_engine(f"sqlite:///{folder / name}")
    with engine.connect() as connection:
        _, tables = _describe(connection)
    engine.dispose()
    return [] if tables == manifest.get("tables") else [f"{name}: row counts differ from the manifest"]


def verify_backup(actor: Actor, path: Path) -> list[str]:
    """Problems found in a backup archive (member hashes, database integrity); empty when good."""
    require_role(actor, "admin")
    return _problems(path)


def _problems(path: Path) -> list[str]:
    # Unchecked: restore_backup verifies too, on behalf of the operator running the CLI.
    try:
        with tarfile.open(path, "r:gz") as tar, tempfile.TemporaryDirectory() as tmp:
            found, manifest, problems = _scan(tar)
            if manifest is None:
                return problems + [f"{MANIFEST} is missing"]
            problems += _compare(found, manifest)
            return problems or _check_database(tar, manifest, Path(tmp))
    except (OSError, EOFError, zlib.error, tarfile.TarError, ValueError, KeyError, AttributeError,
            TypeError) as exc:
        return [f"not a readable backup archive: {type(exc).__name__}: {exc}"]
    except sqlite3.DatabaseError as exc:
        return [f"the database in the archive is damaged: {exc}"]
    except SecureSphereError as exc:  # pg_restore could not read the dump, or is not installed
        return [f"the database in the archive could not be checked: {exc}"]


def read_manifest(path: Path) -> dict:
    """The manifest of a backup archive."""
    with tarfile.open(path, "r:gz") as tar:
        return json.loads(tar.extractfile(MANIFEST).read())


# --- restoring ----------------------------------------------------------------------------------

def _first_rows(url: str) -> str:
    """'' for an empty or missing database, else which table holds rows."""
    if engine_name(url) == "sqlite" and not _sqlite_path(url).exists():
        return ""
    engine = _plain_engine(url)
    try:
        with engine.connect() as connection:
            _, tables = _describe(connection)
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
    target = _sqlite_path(url)
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
    env = _pg_env(url, dump.parent)
    _run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--exit-on-error", "--no-password", f"--dbname={env['PGDATABASE']}", str(dump)], env)


def _restore_evidence(source: Path, target: Path) -> int:
    files = list(_evidence_files(source)) if source.is_dir() else []
    for path, name in files:
        _place(path, target / Path(name).relative_to(EVIDENCE))
    return len(files)


def restore_backup(path: Path, url: str, data_dir: Path, *, force: bool = False) -> dict:
    """Restore a verified backup into an empty target, or (force) over one after a safety backup."""
    problems = _problems(path)
    if problems:
        raise SecureSphereError(f"the backup failed verification: {problems[0]}")
    manifest = read_manifest(path)
    if manifest["engine"] != engine_name(url):
        raise ValidationError(f"the backup is of a {manifest['engine']} database, the target is not")
    occupied = _occupied(url, data_dir)
    if occupied and not force:
        raise SecureSphereError(f"{occupied}; use --force to replace it (a backup of it is taken first)")
    safety = make_backup(url, data_dir, _default_path(data_dir, "-pre-restore")) if occupied else None
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as tmp, \
            tarfile.open(path, "r:gz") as tar:
        tar.extractall(tmp, filter="data")  # refuses links, absolute and ".." names
        dump = Path(tmp) / DB_MEMBERS[manifest["engine"]]
        (_restore_sqlite if manifest["engine"] == "sqlite" else _restore_postgres)(url, dump)
        files = _restore_evidence(Path(tmp) / EVIDENCE, Path(data_dir) / EVIDENCE)
    return {"engine": manifest["engine"], "schema_revision": manifest["schema_revision"],
            "created_at": manifest["created_at"], "tables": manifest["tables"],
            "evidence_files": files, "safety_backup": safety}


# --- listing and pruning ------------------------------------------------------------------------

def list_backups(actor: Actor, data_dir: Path) -> list[dict]:
    """The backups in the data dir's backups folder, newest first."""
    require_role(actor, "admin")
    return _listed(data_dir)


def _listed(data_dir: Path) -> list[dict]:
    found = []
    for path in (Path(data_dir) / BACKUPS).glob("securesphere-*.tar.gz"):
        match, stat = _NAME.fullmatch(path.name), path.stat()
        created = (datetime.strptime(match.group(1), _STAMP).replace(tzinfo=timezone.utc) if match
                   else datetime.fromtimestamp(stat.st_mtime, timezone.utc))
        found.append(((created, stat.st_mtime_ns), {"path": path, "name": path.name,
                                                    "size_bytes": stat.st_size, "created": created}))
    return [entry for _, entry in sorted(found, key=lambda pair: pair[0], reverse=True)]


def prune_backups(data_dir: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups; returns the deleted paths."""
    if keep < 1:
        raise ValidationError("keep at least one backup (--keep 1 or more).")
    removed = [b["path"] for b in _listed(data_dir)[keep:]]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def take_backup(session: Session, actor: Actor, url: str, data_dir: Path,
                out: Path | None = None) -> Path:
    """An admin's backup (from the app or the CLI), recorded in the audit trail."""
    require_role(actor, "admin")
    path = make_backup(url, data_dir, out)
    audit.record(session, actor, "backup_created", object_type="backup", object_id=path.name,
                 detail={"bytes": path.stat().st_size})
    return path


def backup_bytes(actor: Actor, data_dir: Path, name: str) -> bytes:
    """The bytes of one listed backup, for an admin's download."""
    require_role(actor, "admin")
    known = {b["name"]: b for b in _listed(data_dir)}
    if name not in known:
        raise NotFound("No such backup.")
    return (Path(data_dir) / BACKUPS / name).read_bytes()
