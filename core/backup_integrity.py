"""Checking a backup archive: every member against the manifest's SHA-256 and size, no unsafe
member names, and the database inside it (SQLite integrity_check and row counts, or pg_restore
--list for a PostgreSQL dump)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import IO, Any

from core.access import Actor, require_role
from core.backup import DB_MEMBERS, FORMAT, MANIFEST, ArchiveMember, Manifest
from core.dumps import describe, pg_tool, plain_engine, run_tool
from core.errors import SecureSphereError

_CHUNK = 1024 * 1024


def _unsafe(member: tarfile.TarInfo) -> str:
    parts = Path(member.name).parts
    if member.name.startswith(("/", "\\")) or ".." in parts or not parts:
        return f"{member.name!r}: unsafe member name"
    return "" if member.isfile() else f"{member.name!r}: not a regular file"


def _open(tar: tarfile.TarFile, member: tarfile.TarInfo | str) -> IO[bytes]:
    stream = tar.extractfile(member)
    if stream is None:
        raise ValueError(f"{member}: not a regular file")
    return stream


def _parse(data: bytes) -> dict[str, Any]:
    manifest = json.loads(data)  # ValueError is caught by the caller
    if not isinstance(manifest, dict):
        raise ValueError(f"{MANIFEST} is not a JSON object")
    return manifest


def _scan(
    tar: tarfile.TarFile,
) -> tuple[dict[str, ArchiveMember], dict[str, Any] | None, list[str]]:
    """(hash and size per member, parsed manifest, problems) from one pass over the archive."""
    found: dict[str, ArchiveMember] = {}
    manifest: dict[str, Any] | None = None
    problems: list[str] = []
    for member in tar:
        if problem := _unsafe(member):
            problems.append(problem)
            continue
        digest, stream = hashlib.sha256(), _open(tar, member)
        if member.name == MANIFEST:
            manifest = _parse(stream.read())
            continue
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
        found[member.name] = ArchiveMember(sha256=digest.hexdigest(), size=member.size)
    return found, manifest, problems


def _compare(found: dict[str, ArchiveMember], manifest: dict[str, Any]) -> list[str]:
    listed = manifest.get("members") or {}
    problems = [f"{name}: missing from the archive" for name in listed if name not in found]
    problems += [
        f"{name}: content does not match the manifest (changed or damaged)"
        for name in listed
        if name in found and found[name] != listed[name]
    ]
    problems += [f"{name}: not in the manifest" for name in found if name not in listed]
    if DB_MEMBERS.get(str(manifest.get("engine"))) not in listed:
        problems.append("the manifest names no database for its engine")
    return problems


def _check_database(tar: tarfile.TarFile, manifest: dict[str, Any], folder: Path) -> list[str]:
    """SQLite: integrity_check and row counts on an extracted copy; PostgreSQL: pg_restore --list."""
    name = DB_MEMBERS[manifest["engine"]]
    tar.extract(name, folder, filter="data")
    if manifest["engine"] == "postgresql":
        run_tool([pg_tool("pg_restore"), "--list", str(folder / name)])
        return []
    copy = sqlite3.connect(folder / name)
    try:
        result = [row[0] for row in copy.execute("PRAGMA integrity_check")]
    finally:
        copy.close()
    if result != ["ok"]:
        return [f"{name}: integrity check failed: {result[0]}"]
    engine = plain_engine(f"sqlite:///{folder / name}")
    with engine.connect() as connection:
        tables = describe(connection).tables
    engine.dispose()
    return (
        [] if tables == manifest.get("tables") else [f"{name}: row counts differ from the manifest"]
    )


def verify_backup(actor: Actor, path: Path) -> list[str]:
    """Problems found in a backup archive (member hashes, database integrity); empty when good."""
    require_role(actor, "admin")
    return archive_problems(path)


def archive_problems(path: Path) -> list[str]:
    """What verify_backup finds, without the role check."""
    # Unchecked: restore_backup verifies too, on behalf of the operator running the CLI.
    try:
        with tarfile.open(path, "r:gz") as tar, tempfile.TemporaryDirectory() as tmp:
            found, manifest, problems = _scan(tar)
            if manifest is None:
                return problems + [f"{MANIFEST} is missing"]
            problems += _compare(found, manifest)
            return problems or _check_database(tar, manifest, Path(tmp))
    except (
        OSError,
        EOFError,
        zlib.error,
        tarfile.TarError,
        ValueError,
        KeyError,
        AttributeError,
        TypeError,
    ) as exc:
        return [f"not a readable backup archive: {type(exc).__name__}: {exc}"]
    except sqlite3.DatabaseError as exc:
        return [f"the database in the archive is damaged: {exc}"]
    except SecureSphereError as exc:  # pg_restore could not read the dump, or is not installed
        return [f"the database in the archive could not be checked: {exc}"]


def read_manifest(path: Path) -> Manifest:
    """The manifest of a backup archive."""
    with tarfile.open(path, "r:gz") as tar:
        data = _parse(_open(tar, MANIFEST).read())
    return Manifest(
        format=int(data.get("format", FORMAT)),
        engine=str(data["engine"]),
        schema_revision=data["schema_revision"],
        created_at=str(data["created_at"]),
        tables=dict(data["tables"]),
        members=dict(data["members"]),
    )
