"""Offsite copies: every backup encrypted (core/offsite_crypto.py), copied with rclone to the remote
``SECURESPHERE_OFFSITE_REMOTE`` names (``remote:path``, any rclone backend), read back and checked,
and pruned there by the same tiers as the local ones.

On the remote a backup ``X.tar.gz`` is ``X.tar.gz.enc`` and, once read back and checked,
``X.tar.gz.enc.json``: its hashes and size, signed with the key. A copy without a record that opens
under the key (an upload cut short, a failed check) is never counted as verified.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.backup import _NAME, _STAMP, BackupFile, _listed
from core.backup_tiers import Tiers, kept
from core.errors import SecureSphereError
from core.models import utcnow
from core.offsite_crypto import decrypt_stream, encrypt_file, open_record, parse_key, sign_record

SEALED = ".enc"
RECORD = ".enc.json"


@dataclass(frozen=True)
class Offsite:
    """Where offsite copies go and the key they are encrypted with."""

    remote: str  # rclone's remote:path
    key: bytes
    attempts: int = 3

    def at(self, name: str) -> str:
        """The rclone path of one file on the remote."""
        return f"{self.remote.rstrip('/')}/{name}"

    def under(self, folder: str) -> Offsite:
        """The same remote and key, in a folder of it."""
        return Offsite(self.at(folder), self.key, self.attempts)


@dataclass(frozen=True)
class OffsiteCopy:
    """One backup on the remote and its state: verified, unverified (cut short or not checked)."""

    name: str  # the backup's name, X.tar.gz
    size_bytes: int
    created: datetime
    state: str
    verified_at: datetime | None


def from_env(environ: Mapping[str, str] | None = None) -> Offsite | None:
    """The offsite target from SECURESPHERE_OFFSITE_REMOTE and _KEY; None when no remote is set."""
    env = os.environ if environ is None else environ
    remote = env.get("SECURESPHERE_OFFSITE_REMOTE", "").strip()
    if not remote:
        return None
    return Offsite(remote, parse_key(env.get("SECURESPHERE_OFFSITE_KEY", "")))


def rclone(*args: str, stdin: bytes | None = None, missing_ok: bool = False) -> bytes:
    """Run rclone; its output, or an error with its last line (``missing_ok``: nothing when the
    folder or file is not there, rclone's exit codes 3 and 4)."""
    tool = shutil.which("rclone")
    if not tool:
        raise SecureSphereError("rclone not found; install it with: apt-get install rclone")
    result = subprocess.run(
        [tool, "--retries", "1", "--low-level-retries", "2", "--contimeout", "10s", *args],
        input=stdin,
        capture_output=True,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )
    if result.returncode in (3, 4) and missing_ok:
        return b""
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines() or ["no output"]
        raise SecureSphereError(f"rclone {args[0]} failed: {lines[-1]}")
    return result.stdout


def _created(name: str) -> datetime:
    match = _NAME.fullmatch(name)
    if not match:
        return datetime.fromtimestamp(0, UTC)
    return datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)


def _records(target: Offsite, folder: Path, recursive: bool) -> dict[str, dict[str, Any]]:
    depth = [] if recursive else ["--max-depth", "1"]
    rclone("copy", target.remote, str(folder), "--include", f"*{RECORD}", *depth)
    found = {}
    for path in folder.rglob(f"*{RECORD}"):
        record = open_record(path.read_bytes(), target.key)
        if record is not None:
            found[path.relative_to(folder).as_posix().removesuffix(RECORD)] = record
    return found


def list_offsite(target: Offsite, recursive: bool = False) -> list[OffsiteCopy]:
    """The copies on the remote with their state, newest first (``recursive``: in its folders
    too, each named by its path under the remote)."""
    depth = ["--recursive"] if recursive else []
    files = json.loads(
        rclone("lsjson", target.remote, "--files-only", *depth, missing_ok=True) or b"[]"
    )
    if not files:
        return []
    with tempfile.TemporaryDirectory(prefix="securesphere-offsite-") as tmp:
        records = _records(target, Path(tmp), recursive)
    copies = []
    for entry in files:
        name = str(entry["Path"])
        if not name.endswith(SEALED):
            continue
        backup, size = name.removesuffix(SEALED), int(entry["Size"])
        record = records.get(backup)
        good = record is not None and int(record["size"]) == size
        at = datetime.fromisoformat(str(record["verified_at"])) if record and good else None
        copies.append(
            OffsiteCopy(backup, size, _created(backup), "verified" if good else "unverified", at)
        )
    return sorted(copies, key=lambda c: (c.created, c.name), reverse=True)


def _read_back(target: Offsite, name: str, into: Path) -> tuple[str, str, int]:
    """Download one copy and decrypt it into ``into``: (plain SHA-256, sealed SHA-256, size)."""
    tool = shutil.which("rclone") or "rclone"
    with subprocess.Popen(
        [tool, "--retries", "1", "--low-level-retries", "2", "cat", target.at(name + SEALED)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    ) as proc:
        assert proc.stdout is not None
        try:
            sealed = decrypt_stream(proc.stdout, into, target.key)
        finally:
            proc.stdout.read()
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SecureSphereError(f"rclone cat failed: {err.strip().splitlines()[-1:]}")
    return sealed.plain_sha256, sealed.sealed_sha256, sealed.size


def upload(target: Offsite, backup: Path, name: str = "") -> OffsiteCopy:
    """Encrypt one backup, copy it to the remote (as ``name``, default its file name; retried),
    read it back and check its hashes, then write its signed record; raises if every attempt
    fails."""
    name = name or backup.name
    with tempfile.TemporaryDirectory(dir=backup.parent, prefix=".offsite-") as tmp:
        sealed_path = Path(tmp) / (Path(name).name + SEALED)
        sealed = encrypt_file(backup, sealed_path, target.key)
        problem = ""
        for attempt in range(target.attempts):
            if attempt:
                time.sleep(min(2**attempt, 30))  # back off before retrying a failed upload
            try:
                rclone("copyto", str(sealed_path), target.at(name + SEALED))
                back = _read_back(target, name, Path(tmp) / "read-back")
            except SecureSphereError as exc:
                problem = str(exc)
                continue
            if back != sealed:
                problem = "the copy read back does not match what was sent"
                continue
            now = utcnow()
            record = {
                "plain_sha256": sealed.plain_sha256,
                "sealed_sha256": sealed.sealed_sha256,
                "size": sealed.size,
                "verified_at": now.isoformat(),
            }
            rclone("rcat", target.at(name + RECORD), stdin=sign_record(record, target.key))
            return OffsiteCopy(name, sealed.size, _created(name), "verified", now)
    raise SecureSphereError(
        f"offsite copy of {name} failed after {target.attempts} tries: {problem}"
    )


def push(target: Offsite, data_dir: Path) -> list[OffsiteCopy]:
    """Upload every local backup without a verified offsite copy; the copies made."""
    verified = {c.name for c in list_offsite(target) if c.state == "verified"}
    return [upload(target, b.path) for b in reversed(_listed(data_dir)) if b.name not in verified]


def verify_copy(target: Offsite, name: str, into: Path | None = None) -> str:
    """'' when the copy on the remote matches its signed record, else the problem. With ``into``
    the decrypted archive is kept there."""
    raw = rclone("cat", target.at(name + RECORD), missing_ok=True)
    record = open_record(raw, target.key) if raw else None
    with tempfile.TemporaryDirectory(prefix="securesphere-offsite-") as tmp:
        if record is None:
            return f"{name}: no verified record on the remote (upload cut short or never checked)"
        try:
            back = _read_back(target, name, into or Path(tmp) / "copy")
        except SecureSphereError as exc:
            return f"{name}: {exc}"
    if (back[0], back[1], back[2]) != (
        record["plain_sha256"],
        record["sealed_sha256"],
        int(record["size"]),
    ):
        return f"{name}: the copy on the remote does not match its hashes"
    return ""


def fetch(target: Offsite, name: str, data_dir: Path) -> Path:
    """Download and check one offsite copy into the local backups folder; its path."""
    return fetch_into(target, name, Path(data_dir) / "backups")


def fetch_into(target: Offsite, name: str, folder: Path) -> Path:
    """Download and check one offsite copy into ``folder`` under its file name (staged under a
    dot name, so a failed or cut fetch leaves nothing that looks whole); its path."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    final = folder / Path(name).name
    staged = folder / f".{final.name}.fetching"
    problem = verify_copy(target, name, staged)
    if problem:
        staged.unlink(missing_ok=True)
        raise SecureSphereError(problem)
    os.replace(staged, final)
    return final


def prune_offsite(target: Offsite, tiers: Tiers, now: datetime | None = None) -> list[str]:
    """Delete the remote copies the tiers do not keep (counting verified copies only)."""
    copies = [c for c in list_offsite(target) if c.state == "verified"]
    as_files = [BackupFile(Path(c.name), c.name, c.size_bytes, c.created) for c in copies]
    keep = {b.name for b in kept(as_files, tiers, now or utcnow())}
    removed = [c.name for c in copies if c.name not in keep]
    for name in removed:
        rclone("deletefile", target.at(name + RECORD))
        rclone("deletefile", target.at(name + SEALED))
    return removed


def newest_verified_age(target: Offsite, now: datetime | None = None) -> timedelta | None:
    """How old the newest verified offsite copy's backup is; None when there is none."""
    verified = [c for c in list_offsite(target) if c.state == "verified"]
    return (now or utcnow()) - verified[0].created if verified else None
