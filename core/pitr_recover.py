"""Recovery to a point in time, run to the end: rebuild a data directory (core/pitr.py), start
PostgreSQL on it, wait until it has replayed the WAL archive up to the target and promoted, and
say what it replayed.

The server listens on 127.0.0.1:``port`` only (no Unix socket), so a rebuild can run next to the
cluster it came from. When we are root it runs as the owner of the data directory's parent
folder (PostgreSQL refuses to run as root). Any failure (the server stopping, recovery ending
before the target, the deadline) stops the server and removes what was unpacked: nothing
half-built is left that looks like a data directory.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError

from core.dumps import pg_tool, plain_engine
from core.errors import SecureSphereError
from core.pitr import BaseBackup, base_backups, base_before, prepare_recovery, replayed, too_early

LOG = "recovery.log"
Owner = tuple[int, int] | None  # (uid, gid) to hand files to, None when we are not root


@dataclass(frozen=True)
class Recovered:
    """A finished recovery: the base backup, where the server listens, what it replayed."""

    base: BaseBackup
    url: str
    replayed: str  # core.pitr.replayed's line
    stopped: str  # the server's own line on where it stopped replaying, or ''


def owner_of(folder: Path) -> Owner:
    """When we are root: the owner of ``folder`` (files we write for the server go to them)."""
    if os.geteuid() != 0:
        return None
    stat = folder.stat()
    return stat.st_uid, stat.st_gid


def give(path: Path, owner: Owner) -> None:
    """Hand a file, or a folder and everything in it, to ``owner`` (nothing when None)."""
    if owner is None:
        return
    os.chown(path, *owner)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), *owner)


def _server_owner(target: Path) -> Owner:
    parent = target.absolute().parent
    owner = owner_of(parent)
    if owner is not None and owner[0] == 0:
        raise SecureSphereError(
            f"PostgreSQL refuses to run as root: give {parent} to the server's user first "
            f"(chown postgres {parent})"
        )
    return owner


def _pg_ctl(target: Path, owner: Owner, *args: str, timeout: float = 60) -> str:
    """Run pg_ctl on ``target`` (as ``owner`` when we are root); its output, or raise."""
    argv = [pg_tool("pg_ctl"), "-D", str(target), *args]
    if owner is not None:
        argv = ["runuser", "-u", pwd.getpwuid(owner[0]).pw_name, "--", *argv]
    result = subprocess.run(
        argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout, cwd="/"
    )
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
        raise SecureSphereError(f"pg_ctl {args[-1]} failed: {lines[-1]}")
    return result.stdout


def _server_said(target: Path, *marks: str) -> str:
    """The server log's last line holding one of ``marks``, from the mark on ('' if none)."""
    try:
        lines = (target / LOG).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        for mark in marks:
            if mark in line:
                return line[line.index(mark) :].strip()
    return ""


def _config_files(target: Path) -> None:
    """Debian keeps postgresql.conf and pg_hba.conf in /etc/postgresql, so its base backups have
    none: the rebuild then gets minimal ones (local peer, 127.0.0.1 with a password)."""
    if not (target / "postgresql.conf").exists():
        (target / "postgresql.conf").write_text(
            "# written by restore --pgdata: none was backed up\n"
        )
    if not (target / "pg_hba.conf").exists():
        (target / "pg_hba.conf").write_text(
            "local all all peer\nhost all all 127.0.0.1/32 scram-sha-256\n"
        )
    (target / "pg_ident.conf").touch()


def _until_promoted(url: str, target: Path, deadline: float) -> str:
    """Poll the server until it has left recovery; replayed's line. Raises if it stops."""
    engine = plain_engine(url)
    try:
        while True:
            if not (target / "postmaster.pid").exists():
                raise SecureSphereError("the server stopped before recovery finished")
            try:
                with engine.connect() as connection:
                    recovering = connection.execute(text("SELECT pg_is_in_recovery()")).scalar()
            except DBAPIError:
                recovering = True  # not accepting connections yet
            if not recovering:
                return replayed(url)
            if time.monotonic() > deadline:
                raise SecureSphereError("still replaying at the deadline (--timeout)")
            time.sleep(0.2)
    finally:
        engine.dispose()


def _discard(target: Path, owner: Owner, existed: bool) -> None:
    """Stop a server left on ``target`` and remove what was unpacked there."""
    if (target / "postmaster.pid").exists():
        # it may have died on its own between the check and the stop
        with contextlib.suppress(SecureSphereError, subprocess.TimeoutExpired):
            _pg_ctl(target, owner, "-w", "-m", "immediate", "stop")
    if not existed:
        shutil.rmtree(target, ignore_errors=True)
        return
    for child in target.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def recover(
    url: str,
    data_dir: Path,
    wal_dir: Path,
    target: Path,
    when: datetime,
    *,
    port: int,
    timeout: float,
) -> Recovered:
    """Rebuild ``target`` at ``when``, start it on 127.0.0.1:``port`` and wait (up to ``timeout``
    seconds) until it has replayed up to ``when`` and promoted."""
    deadline = time.monotonic() + timeout
    owner = _server_owner(target)
    bases = base_backups(data_dir)
    if base_before(bases, when) is None:
        raise too_early(bases, when)
    if target.exists() and any(target.iterdir()):
        raise SecureSphereError(f"{target} is not empty")
    existed = target.exists()
    rebuilt = make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    try:
        base = prepare_recovery(data_dir, wal_dir, target, when)
        _config_files(target)
        give(target, owner)
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        wait = str(max(1, int(deadline - time.monotonic())))
        _pg_ctl(target, owner, "-w", "-t", wait, "-l", str(target / LOG), "-o", options, "start")
        line = _until_promoted(rebuilt, target, deadline)
        stopped = _server_said(target, "recovery stopping")
    except BaseException as exc:
        said = _server_said(target, "FATAL:", "PANIC:")
        _discard(target, owner, existed)
        if not isinstance(exc, Exception):
            raise
        server = f"; the server said: {said}" if said else ""
        raise SecureSphereError(
            f"recovery failed: {exc}{server}; {target} was stopped and emptied"
        ) from exc
    return Recovered(base, rebuilt, line, stopped)
