"""The database as one file: SQLite's online backup copy or pg_dump, its revision and row counts.

Also the PostgreSQL client tools (pg_dump, pg_restore) that backup and restore run.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import NamedTuple

from alembic.migration import MigrationContext
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    func,
    inspect,
    make_url,
    select,
    table,
    text,
)
from sqlalchemy.pool import NullPool

from core import db
from core.errors import SecureSphereError


def engine_name(url: str) -> str:
    """'sqlite' or 'postgresql'."""
    return make_url(url).get_backend_name()


class DatabaseState(NamedTuple):
    """What a backup's manifest records of its database: schema revision and rows per table."""

    revision: str | None
    tables: dict[str, int]


def plain_engine(url: str) -> Engine:
    """A pool-less engine for one copy, check or restore."""
    # Our own short-lived engine: no WAL switch on a copy, nothing left in core.db's pools.
    return create_engine(url, poolclass=NullPool)


def describe(connection: Connection) -> DatabaseState:
    """Schema revision and rows per table, as this connection sees the database."""
    revision = MigrationContext.configure(connection).get_current_revision()
    names = sorted(inspect(connection).get_table_names())
    count = select(func.count())
    return DatabaseState(
        revision, {n: connection.execute(count.select_from(table(n))).scalar_one() for n in names}
    )


# --- PostgreSQL tools ---------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """Path of pg_dump/pg_restore: next to the newest installed server, else on PATH."""

    def major(path: Path) -> int:
        return int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0

    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=major, reverse=True)
    tool = str(found[0]) if found else shutil.which(name)
    if not tool:
        raise SecureSphereError(
            f"{name} not found; install it with: apt-get install postgresql-client"
        )
    return tool


def pg_env(url: str, folder: Path) -> dict[str, str]:
    """libpq variables for the URL; a password goes to a private passfile, never on a command line."""
    parsed = make_url(url)
    env = dict(os.environ, PGDATABASE=parsed.database or "")
    values = {
        "PGHOST": parsed.host or parsed.query.get("host"),
        "PGPORT": parsed.port,
        "PGUSER": parsed.username,
    }
    env.update({k: str(v) for k, v in values.items() if v})
    if parsed.password:
        passfile = folder / ".pgpass"
        secret = parsed.password.replace("\\", "\\\\").replace(":", "\\:")
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"*:*:*:*:{secret}\n")
        env["PGPASSFILE"] = str(passfile)
    return env


def run_tool(argv: list[str], env: dict[str, str] | None = None) -> None:
    """Run a client tool; a failure raises with its last line of output."""
    result = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout or "no output").strip().splitlines()
        raise SecureSphereError(f"{Path(argv[0]).name} failed: {lines[-1] if lines else ''}")


# --- copying the database -----------------------------------------------------------------------


def sqlite_snapshot(url: str, copy: Path) -> DatabaseState:
    """Copy a live SQLite database to one file; the state of the copy."""
    source = db.sqlite_path(url)
    if not source.is_file():
        raise SecureSphereError(f"no SQLite database at {source}")
    src = sqlite3.connect(source, timeout=db.BUSY_TIMEOUT_MS / 1000)
    dst = sqlite3.connect(copy)
    try:
        src.backup(
            dst
        )  # one step under one read transaction: a consistent snapshot while others write
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        src.close()
        dst.close()
    engine = plain_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as connection:
            return describe(connection)
    finally:
        engine.dispose()


def pg_snapshot(url: str, dump: Path) -> DatabaseState:
    """pg_dump into one file; the state of the very snapshot dumped."""
    engine = plain_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            # pg_dump reads the very snapshot the counts were taken in, so the manifest matches.
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            described = describe(connection)
            run_tool(
                [
                    pg_tool("pg_dump"),
                    "--format=custom",
                    "--no-password",
                    f"--snapshot={snapshot}",
                    f"--file={dump}",
                ],
                pg_env(url, dump.parent),
            )
            connection.rollback()
        return described
    finally:
        engine.dispose()
