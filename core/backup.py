"""Backups: the database and every evidence file in one .tar.gz with a manifest; verify, list, prune.

Checking an archive lives in core/backup_integrity.py, restoring in core/restore.py, the database
copy itself (SQLite, pg_dump) in core/dumps.py, retention (what ``purge`` removes) in
core/retention.py.

An archive holds ``database.sqlite`` (SQLite's online backup API, taken while the app may be
writing) or ``database.pgdump`` (``pg_dump --format=custom``), ``evidence/<xx>/<sha256>`` for every
stored file, and last ``manifest.json``: SHA-256 and size of every member, engine, schema revision,
creation time and row counts per table. The database is copied first and the evidence folder
walked afterwards: a file is always stored before the row naming it commits, so every file a row
of the snapshot names is in the archive (extra files are harmless: they are named by content).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple, TypedDict

from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_role
from core.dumps import engine_name, pg_snapshot, sqlite_snapshot
from core.errors import NotFound, ValidationError
from core.models import utcnow

MANIFEST = "manifest.json"
DB_MEMBERS = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
EVIDENCE = "evidence"
BACKUPS = "backups"
FORMAT = 1
_STAMP = "%Y%m%d-%H%M%S"
_NAME = re.compile(r"securesphere-(\d{8}-\d{6})(?:-.*)?\.tar\.gz")


class ArchiveMember(TypedDict):
    """A member as the manifest lists it (JSON)."""

    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """What an archive says it holds: engine, schema revision, time taken, rows per table, and
    the SHA-256 and size of every member."""

    format: int
    engine: str
    schema_revision: str | None
    created_at: str  # ISO 8601
    tables: dict[str, int]
    members: dict[str, ArchiveMember]


class EvidenceMember(NamedTuple):
    """A stored evidence file and its name inside an archive (``evidence/<xx>/<sha256>``)."""

    path: Path
    name: str


@dataclass(frozen=True)
class BackupFile:
    """One archive in the data dir's backups folder."""

    path: Path
    name: str
    size_bytes: int
    created: datetime


# --- making a backup ----------------------------------------------------------------------------


class _HashingReader:
    """Reads a file for tarfile while hashing what passes through."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        """The next bytes of the file, hashed on their way through."""
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> ArchiveMember:
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(os.fstat(handle.fileno()).st_mtime), 0o600
        reader = _HashingReader(handle)
        tar.addfile(info, reader)
    return ArchiveMember(sha256=reader.digest.hexdigest(), size=size)


def evidence_files(folder: Path) -> Iterator[EvidenceMember]:
    """Every regular file under the evidence folder with its member name; links are skipped."""
    for root, dirs, files in os.walk(folder):  # os.walk does not descend into linked folders
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if not path.is_symlink() and path.is_file() and not name.startswith(".upload-"):
                yield EvidenceMember(path, f"{EVIDENCE}/{path.relative_to(folder).as_posix()}")


def _write_archive(path: Path, dump: Path, evidence: Path, manifest: dict[str, Any]) -> None:
    members: dict[str, ArchiveMember] = {}
    with tarfile.open(path, "w:gz") as tar:
        members[dump.name] = _add_file(tar, dump, dump.name)
        for file, name in evidence_files(evidence):
            members[name] = _add_file(tar, file, name)
        data = json.dumps(dict(manifest, members=members), indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(utcnow().timestamp()), 0o600
        tar.addfile(info, io.BytesIO(data))


def default_path(data_dir: Path, suffix: str = "") -> Path:
    """A new, unused archive path in the data dir's backups folder, named by the time."""
    folder = Path(data_dir) / BACKUPS
    stem = f"securesphere-{utcnow().strftime(_STAMP)}{suffix}"
    path, n = folder / f"{stem}.tar.gz", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.tar.gz"
    return path


def make_backup(url: str, data_dir: Path, out: Path | None = None) -> Path:
    """Write one .tar.gz with the database, every evidence file and a manifest; returns its path."""
    target = Path(out) if out else default_path(data_dir)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = engine_name(url)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as tmp:
        dump = Path(tmp) / DB_MEMBERS[engine]
        snapshot = sqlite_snapshot if engine == "sqlite" else pg_snapshot
        state = snapshot(url, dump)
        partial = Path(tmp) / "partial.tar.gz"
        partial.touch(mode=0o600)  # the archive holds password hashes: owner only
        _write_archive(
            partial,
            dump,
            Path(data_dir) / EVIDENCE,
            {
                "format": FORMAT,
                "engine": engine,
                "schema_revision": state.revision,
                "created_at": utcnow().isoformat(),
                "tables": state.tables,
            },
        )
        os.replace(partial, target)
    return target


# --- listing and pruning ------------------------------------------------------------------------


def list_backups(actor: Actor, data_dir: Path) -> list[BackupFile]:
    """The backups in the data dir's backups folder, newest first."""
    require_role(actor, "admin")
    return _listed(data_dir)


def _listed(data_dir: Path) -> list[BackupFile]:
    found: list[tuple[tuple[datetime, int], BackupFile]] = []
    for path in (Path(data_dir) / BACKUPS).glob("securesphere-*.tar.gz"):
        match, stat = _NAME.fullmatch(path.name), path.stat()
        created = (
            datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
            if match
            else datetime.fromtimestamp(stat.st_mtime, UTC)
        )
        found.append(
            ((created, stat.st_mtime_ns), BackupFile(path, path.name, stat.st_size, created))
        )
    return [entry for _, entry in sorted(found, key=lambda pair: pair[0], reverse=True)]


def prune_backups(data_dir: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups; returns the deleted paths."""
    if keep < 1:
        raise ValidationError("keep at least one backup (--keep 1 or more).")
    removed = [b.path for b in _listed(data_dir)[keep:]]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def take_backup(
    session: Session, actor: Actor, url: str, data_dir: Path, out: Path | None = None
) -> Path:
    """An admin's backup (from the app or the CLI), recorded in the audit trail."""
    require_role(actor, "admin")
    path = make_backup(url, data_dir, out)
    audit.record(
        session,
        actor,
        "backup_created",
        object_type="backup",
        object_id=path.name,
        detail={"bytes": path.stat().st_size},
    )
    return path


def backup_bytes(actor: Actor, data_dir: Path, name: str) -> bytes:
    """The bytes of one listed backup, for an admin's download."""
    require_role(actor, "admin")
    known = {b.name: b for b in _listed(data_dir)}
    if name not in known:
        raise NotFound("No such backup.")
    return (Path(data_dir) / BACKUPS / name).read_bytes()
