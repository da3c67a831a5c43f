"""Health check and structured logging."""

import io
import json
import logging
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from core import db
from core.health import check_health
from core.logs import configure_logging
from tests.apptest import APP
from tests.clirun import run


def test_health_is_ok_on_a_migrated_database(db_url):
    assert check_health(db_url) == (True, "ok")


def test_health_names_missing_migrations_on_an_empty_sqlite_file(tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    ok, reason = check_health(f"sqlite:///{path}")
    db.dispose_all()
    assert not ok and reason.startswith("migrations") and "init" in reason


@pytest.mark.postgres
def test_health_names_missing_migrations_on_an_empty_postgres_database(pg_cluster):
    url = pg_cluster.create_database("health_empty")
    try:
        ok, reason = check_health(url)
    finally:
        db.dispose_all()
        pg_cluster.drop_database("health_empty")
    assert not ok and reason.startswith("migrations")


def test_health_names_a_database_behind_the_code(sqlite_url):
    with db.transaction(sqlite_url) as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    ok, reason = check_health(sqlite_url)
    assert not ok and reason.startswith("migrations") and "0001" in reason


def test_health_does_not_create_a_missing_sqlite_file(tmp_path):
    ok, reason = check_health(f"sqlite:///{tmp_path / 'nowhere' / 'x.db'}")
    assert not ok and reason.startswith("database") and not (tmp_path / "nowhere").exists()


def test_health_reports_an_unreachable_server_without_its_password():
    url = "postgresql+psycopg://ops:s3cret-pw@127.0.0.1:1/securesphere?connect_timeout=2"
    ok, reason = check_health(url)
    db.dispose_all()
    assert not ok and reason.startswith("database:") and "s3cret-pw" not in reason
    assert "\n" not in reason


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    """The usual default umask (022), under which plain file creation is world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def fresh_paths(monkeypatch, tmp_path, loose_umask):
    """A database and a data dir in folders that do not exist yet."""
    database, data = tmp_path / "db" / "securesphere.db", tmp_path / "data"
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(data))
    monkeypatch.setenv("SECURESPHERE_BCRYPT_ROUNDS", "4")
    monkeypatch.delenv("SECURESPHERE_COOKIE_KEY", raising=False)
    yield database, data
    db.dispose_all()


def _assert_private(database, data):
    with db.get_engine(f"sqlite:///{database}").begin() as connection:  # a writer: -wal and -shm
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (x)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        wal, shm = db.sqlite_files(database)[1:]
        assert wal.exists() and shm.exists()
        modes = {p.name: _mode(p) for p in (database, wal, shm, data / ".cookie_key")}
    assert modes == dict.fromkeys(modes, 0o600)
    assert (_mode(database.parent), _mode(data)) == (0o700, 0o700)


def test_init_creates_the_database_and_data_dir_for_the_owner_only(fresh_paths, capsys):
    code, _out, err = run(capsys, "init", "--demo")
    assert code == 0, err
    _assert_private(*fresh_paths)


def test_the_app_creates_the_database_and_data_dir_for_the_owner_only(fresh_paths):
    from streamlit.testing.v1 import AppTest

    AppTest.from_file(APP, default_timeout=30).run()  # refuses the empty database, after opening it
    _assert_private(*fresh_paths)


def test_opening_an_older_world_readable_database_makes_it_private(sqlite_url, loose_umask):
    path = make_url(sqlite_url).database
    os.chmod(path, 0o644)
    db.dispose_all()
    db.get_engine(sqlite_url)
    assert _mode(Path(path)) == 0o600


def test_health_warns_about_readable_private_files_but_still_passes(fresh_paths, capsys):
    database, data = fresh_paths
    assert run(capsys, "init")[0] == 0
    code, out, err = run(capsys, "health")
    assert (code, out.strip(), err) == (0, "ok", "")
    (data / "backups").mkdir(mode=0o700)
    backup = data / "backups" / "securesphere-x.tar.gz"
    backup.write_bytes(b"x")
    for path, mode in [
        (database, 0o644),
        (data / ".cookie_key", 0o640),
        (backup, 0o604),
        (data, 0o755),
    ]:
        os.chmod(path, mode)
    db.dispose_all()  # as a fresh `health` process would, which opens the database itself
    code, out, err = run(capsys, "health")
    assert code == 0 and out.strip() == "ok"
    warned = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert [line.split()[1] for line in warned] == [
        str(data),
        str(data / ".cookie_key"),
        str(backup),
        str(database),
    ]
    assert "mode 644" in warned[-1] and f"chmod 600 {database}" in warned[-1]


@pytest.fixture
def log_stream():
    root, stream = logging.getLogger(), io.StringIO()
    level = root.level
    configure_logging(stream=stream)
    handler = configure_logging(stream=stream)  # twice: still one handler, one line per record
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_log_lines_are_json_with_time_level_logger_message_and_extras(log_stream):
    logging.getLogger("securesphere.test").info(
        "backup %s written", "x.tar.gz", extra={"size_bytes": 1234, "engine": "sqlite"}
    )
    [line] = _lines(log_stream)
    assert line["level"] == "INFO" and line["logger"] == "securesphere.test"
    assert line["message"] == "backup x.tar.gz written" and line["time"].endswith("+00:00")
    assert line["size_bytes"] == 1234 and line["engine"] == "sqlite"


def test_secret_named_keys_are_redacted_at_any_depth(log_stream):
    secrets = {
        "password": "hunter2-hunter2",
        "session_token": "tok-123456",
        "cookie_key": "ck-abcdef",
        "client_secret": "cs-999",
        "password_hash": "$2b$12$xyz",
    }
    logging.getLogger("securesphere.test").warning(
        "sign-in",
        extra={
            **secrets,
            "username": "alice",
            "request": {"headers": {"Cookie": "c=1"}, "path": "/"},
            "items": [{"token": "t-in-a-list"}],
        },
    )
    [line] = _lines(log_stream)
    output = log_stream.getvalue()
    assert all(line[key] == "[redacted]" for key in secrets)
    assert line["request"] == {"headers": {"Cookie": "[redacted]"}, "path": "/"}
    assert line["items"] == [{"token": "[redacted]"}] and line["username"] == "alice"
    assert not any(value in output for value in [*secrets.values(), "c=1", "t-in-a-list"])


def test_exceptions_are_one_json_line_too(log_stream):
    try:
        raise RuntimeError("disk full")
    except RuntimeError:
        logging.getLogger("securesphere.test").exception("backup failed")
    [line] = _lines(log_stream)
    assert line["level"] == "ERROR" and "RuntimeError: disk full" in line["exception"]
