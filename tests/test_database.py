"""The database layer: migrations match the models, SQLite durability settings, UTC times."""

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from core import db, migrate
from core.models import Organization, Product


def test_models_and_migrations_agree(db_url):
    assert migrate.current_revision(db_url) == migrate.head_revision()
    assert migrate.drift(db_url) == []


def test_upgrade_twice_changes_nothing(db_url):
    migrate.upgrade(db_url)
    assert migrate.current_revision(db_url) == migrate.head_revision()


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(sqlite_url):
    with db.transaction(sqlite_url) as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_write_transactions_take_the_lock_at_begin(sqlite_url):
    path = sqlite_url.removeprefix("sqlite:///")
    with db.transaction(sqlite_url) as s:
        s.execute(text("SELECT 1"))  # a read only: a deferred BEGIN would hold no lock yet
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_read_transactions_do_not_block_writers(sqlite_url):
    path = sqlite_url.removeprefix("sqlite:///")
    with db.reading(sqlite_url) as s:
        s.execute(text("SELECT 1"))
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()


def test_foreign_keys_are_enforced(db_url):
    with pytest.raises(IntegrityError), db.transaction(db_url) as s:
        s.add(Product(organization_id=999_999, name="Orphan"))
        s.flush()


def test_a_failed_transaction_leaves_nothing_behind(db_url):
    with pytest.raises(RuntimeError), db.transaction(db_url) as s:
        s.add(Organization(name="Half done"))
        s.flush()
        raise RuntimeError("boom")
    with db.reading(db_url) as s:
        assert s.scalar(select(Organization).where(Organization.name == "Half done")) is None


def test_timestamps_come_back_as_aware_utc(db_url):
    moment = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    with db.transaction(db_url) as s:
        s.add(Organization(name="Timely", created_at=moment, updated_at=moment))
    with db.reading(db_url) as s:
        org = s.scalar(select(Organization).where(Organization.name == "Timely"))
    assert org.created_at == moment and org.created_at.tzinfo is not None
