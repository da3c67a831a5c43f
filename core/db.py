"""Engine and sessions: SQLite in WAL mode with immediate write transactions, or PostgreSQL."""

from __future__ import annotations

import os
import random
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from sqlite3 import Connection as SQLiteConnection
from typing import Any

from sqlalchemy import URL, Connection, Engine, Executable, create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from core.errors import ConfigError

BUSY_TIMEOUT_MS = 10_000
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
LOCK_RETRY_SECONDS = 60
_engines: dict[str, Engine] = {}
_factories: dict[tuple[str, bool], sessionmaker[Session]] = {}


# psycopg prepares a statement on the server from its fifth run on a connection, and PostgreSQL
# then moves to a generic plan, blind to the bound values: for the dashboards' review cutoff
# that reads every waiting assessment by the status index instead of the overdue ones by
# (status, submitted_at) (0.5 against 5 ms at 3M answers). Every run is planned for its values.
PG_CONNECT_ARGS = {"options": "-c plan_cache_mode=force_custom_plan"}


def get_engine(url: str) -> Engine:
    """One engine per database URL per process, configured for our durability rules."""
    if url not in _engines:
        _engines[url] = _create(url)
    return _engines[url]


def _create(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        extra = {} if "options" in parsed.query else PG_CONNECT_ARGS
        return create_engine(url, pool_pre_ping=True, connect_args=extra)
    _private_sqlite_file(sqlite_path(parsed))
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_private_dir(path: Path) -> None:
    """Create a folder only its owner can enter (mode 700 whatever the umask); an existing one
    is left as it is (it may be /tmp)."""
    if not path.is_dir():
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        os.chmod(path, PRIVATE_DIR)


def sqlite_path(url: str | URL) -> Path:
    """The database file a SQLite URL names."""
    database = make_url(url).database
    if not database:  # config refuses these; a URL built elsewhere must name a file too
        raise ConfigError("a SQLite database URL must name a file")
    return Path(database)


def sqlite_files(path: Path) -> list[Path]:
    """The database file and the -wal and -shm files SQLite keeps beside it."""
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _private_sqlite_file(path: Path) -> None:
    # The database holds every tenant's answers and the password hashes: owner only. Creating
    # the file first means SQLite never makes it with the default umask, and SQLite gives new
    # -wal and -shm files the database file's mode.
    make_private_dir(path.parent)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for existing in (p for p in sqlite_files(path) if p.exists()):
        if stat.S_IMODE(existing.stat().st_mode) & 0o077:
            with suppress(PermissionError):  # not ours to change; health names it
                os.chmod(existing, PRIVATE_FILE)  # left loose by an older version


def _sqlite_connect(dbapi_connection: SQLiteConnection, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy, not the sqlite3 module, emit BEGIN so we can choose IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS:d}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A deferred transaction that reads and then writes fails with "database is locked"
    # under concurrent writers; writers take the lock up front instead.
    if conn.get_execution_options().get("read_only"):
        conn.exec_driver_sql("BEGIN DEFERRED")
        return
    # SQLite's busy handler polls ever more slowly, so a writer that has waited long loses to
    # newer ones; past the busy timeout we keep trying with short random pauses instead.
    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.01, 0.05))


def _factory(url: str, read_only: bool) -> sessionmaker[Session]:
    key = (url, read_only)
    if key not in _factories:
        engine = get_engine(url)
        bind = engine.execution_options(read_only=True) if read_only else engine
        _factories[key] = sessionmaker(bind=bind, expire_on_commit=False)
    return _factories[key]


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back whole on any error."""
    with _factory(url, False).begin() as session:
        yield session


@contextmanager
def reading(url: str) -> Iterator[Session]:
    """A read-only unit of work that does not take SQLite's write lock."""
    with _factory(url, True).begin() as session:
        yield session


def rows_of(session: Session, statement: Executable) -> list[tuple[Any, ...]]:
    """A statement's rows as the driver returns them (plain tuples, no result processing): for
    the few reads of many small rows of plain numbers and strings (no dates, JSON or Decimal
    conversions wanted), where making Row objects costs more than the query."""
    result = session.connection().execute(statement)
    try:
        rows = list(result.cursor.fetchall())
    finally:
        result.close()
    return rows


def dispose_all() -> None:
    """Close every pooled connection (tests, restore)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _factories.clear()


def database_size(session: Session) -> int:
    """Bytes used by the database (SQLite file pages or PostgreSQL database size)."""
    if session.get_bind().dialect.name == "sqlite":
        pages = session.execute(text("PRAGMA page_count")).scalar_one()
        size = session.execute(text("PRAGMA page_size")).scalar_one()
        return int(pages) * int(size)
    return int(session.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


# The dashboards' read model follows every unit of work through session listeners.
from core import read_model as _read_model  # noqa: E402, F401
