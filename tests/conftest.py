"""Shared fixtures: databases built from the real migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import os
import shutil

import pytest
from hypothesis import settings as hypothesis_settings
from psycopg import sql

from core import db, migrate
from core.access import SYSTEM
from core.banks.frameworks import shipped_banks
from core.banks.store import import_bank
from core.cli import main
from core.mappings.shipped import import_shipped
from core.settings import ensure_defaults, update_setting
from tests.apptest import DEMO_PASSWORD
from tests.support.browser import screenshot
from tests.support.postgres import require_cluster

# Property tests check results, never timings: a loaded CI machine must not fail one for taking
# longer than Hypothesis' default 200 ms per example (speed is measured in benchmarks/).
hypothesis_settings.register_profile("securesphere", deadline=None)
hypothesis_settings.load_profile("securesphere")

_counter = itertools.count()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, keep a screenshot of every page it had open (in
    tests/artifacts/failed-*), taken before its fixtures close them."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or item.get_closest_marker("browser") is None:
        return
    pages = [
        page
        for value in item.funcargs.values()
        for context in getattr(value, "contexts", [])
        for page in getattr(context, "pages", [])
    ]
    for n, page in enumerate(pages):
        try:
            path = screenshot(page, f"failed-{item.name}-{n}")
        except Exception as exc:  # a crashed page must not hide the test's own failure
            report.sections.append(("screenshot", f"page {n}: {exc}"))
        else:
            report.sections.append(("screenshot", str(path)))


@pytest.fixture(autouse=True)
def _keep_umask():
    """app.py (through AppTest) and core.cli.main set the process umask to 077; restore it so a
    later test's helper (a socket dir other users must enter) sees the usual one."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


def _prepare(url: str) -> None:
    """Migrate to head, store default settings, the shipped banks and mappings: what `init`
    does."""
    migrate.upgrade(url)
    with db.transaction(url) as session:
        ensure_defaults(session)
        for bank in shipped_banks():
            import_bank(session, SYSTEM, bank)
        import_shipped(session)
        # As in the demo: the tests sign in as every role without an authenticator app; the
        # second-factor tests require it themselves.
        update_setting(session, SYSTEM, "second_factor_roles", [])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    _prepare(url)
    db.get_engine(url).dispose()
    return path


@pytest.fixture(scope="session")
def pg_cluster():
    cluster = require_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def pg_template(pg_cluster):
    url = pg_cluster.create_database("template_ss")
    _prepare(url)
    db.get_engine(url).dispose()
    db.dispose_all()
    return "template_ss"


def _sqlite_url(tmp_path, template) -> str:
    path = tmp_path / "securesphere.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def _pg_url(request) -> str:
    cluster = request.getfixturevalue("pg_cluster")
    template = request.getfixturevalue("pg_template")
    name = f"t{next(_counter)}"
    with cluster._admin_connect() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    request.addfinalizer(lambda: cluster.drop_database(name))
    return cluster.url(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, sqlite_template):
    """A migrated database with the shipped banks, on each engine in turn."""
    url = _sqlite_url(tmp_path, sqlite_template) if request.param == "sqlite" else _pg_url(request)
    yield url
    db.dispose_all()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_db(request, tmp_path, sqlite_template):
    """Like db_url, but a fresh migrated database at every call (one per Hypothesis example)."""
    counter = itertools.count()

    def make() -> str:
        db.dispose_all()  # the previous example's connections
        if request.param == "postgresql":
            return _pg_url(request)
        folder = tmp_path / f"example{next(counter)}"
        folder.mkdir()
        return _sqlite_url(folder, sqlite_template)

    yield make
    db.dispose_all()


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    """A migrated SQLite database only (for SQLite-specific behaviour)."""
    url = _sqlite_url(tmp_path, sqlite_template)
    yield url
    db.dispose_all()


@pytest.fixture
def env(monkeypatch, tmp_path):
    """Point SECURESPHERE_* at a temporary data dir; returns a setter for the database URL."""
    monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SECURESPHERE_BCRYPT_ROUNDS", "4")
    monkeypatch.delenv("SECURESPHERE_COOKIE_KEY", raising=False)
    monkeypatch.delenv("SECURESPHERE_DEMO_PASSWORD", raising=False)

    def use(url: str) -> None:
        monkeypatch.setenv("SECURESPHERE_DATABASE_URL", url)

    return use


@pytest.fixture
def cli_db(env, tmp_path):
    """An empty SQLite database the CLI is pointed at through the environment."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env(url)
    yield url
    db.dispose_all()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    """The demo database built by `init --demo`, once per test module."""
    tmp = tmp_path_factory.mktemp("pages")
    url = f"sqlite:///{tmp / 'demo.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SECURESPHERE_DATABASE_URL", url)
        mp.setenv("SECURESPHERE_DATA_DIR", str(tmp / "data"))
        mp.setenv("SECURESPHERE_DEMO_PASSWORD", DEMO_PASSWORD)
        mp.setenv("SECURESPHERE_BCRYPT_ROUNDS", "4")
        assert main(["init", "--demo"]) == 0
        yield url, tmp
    db.dispose_all()


@pytest.fixture
def app_env(demo_url, monkeypatch):
    """Point the app at the module's demo database; returns its URL."""
    url, tmp = demo_url
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", url)
    monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(tmp / "data"))
    monkeypatch.setenv("SECURESPHERE_BCRYPT_ROUNDS", "4")
    return url
