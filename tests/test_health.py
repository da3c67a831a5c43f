"""Health check and structured logging."""
import io
import json
import logging
import sqlite3

import pytest
from sqlalchemy import text

from core import db
from core.health import check_health
from core.logs import configure_logging


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
    logging.getLogger("securesphere.test").info("backup %s written", "x.tar.gz",
                                                extra={"size_bytes": 1234, "engine": "sqlite"})
    [line] = _lines(log_stream)
    assert line["level"] == "INFO" and line["logger"] == "securesphere.test"
    assert line["message"] == "backup x.tar.gz written" and line["time"].endswith("+00:00")
    assert line["size_bytes"] == 1234 and line["engine"] == "sqlite"


def test_secret_named_keys_are_redacted_at_any_depth(log_stream):
    secrets = {"password": "hunter2-hunter2", "session_token": "tok-123456",
               "cookie_key": "ck-abcdef", "client_secret": "cs-999", "password_hash": "$2b$12$xyz"}
    logging.getLogger("securesphere.test").warning(
        "sign-in", extra={**secrets, "username": "alice",
                          "request": {"headers": {"Cookie": "c=1"}, "path": "/"},
                          "items": [{"token": "t-in-a-list"}]})
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
