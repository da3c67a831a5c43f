"""PostgreSQL point in time, for real: a throw-away cluster archiving its WAL, a pg_basebackup,
rows at t1, t2, t3, and a second cluster rebuilt to a moment between t2 and t3."""

import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core import db, migrate
from core.audit_chain import find_problem
from core.models import Organization, utcnow
from core.pitr import replayed
from tests.clirun import run
from tests.factories import make_org
from tests.support.postgres import PgCluster, _chown_tree, free_port, require_cluster

pytestmark = pytest.mark.postgres


def _server_owned(path: Path) -> None:
    """Hand a folder to the user the test server runs as (postgres when we are root)."""
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        _chown_tree(path, pw.pw_uid, pw.pw_gid)


def _until(check, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _archived_through(url: str) -> None:
    """Switch to a new WAL segment and wait until the one holding our writes is archived."""
    engine = db.get_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        segment = connection.execute(text("SELECT pg_walfile_name(pg_switch_wal())")).scalar_one()

        def done() -> bool:
            last = connection.execute(
                text("SELECT last_archived_wal FROM pg_stat_archiver")
            ).scalar_one()
            return bool(last) and last >= segment

        _until(done, f"archiving of {segment}")


def test_recovery_to_a_time_between_t2_and_t3(tmp_path, capsys, monkeypatch):
    work = Path(tempfile.mkdtemp(prefix="securesphere-pitr-", dir="/tmp"))
    work.chmod(0o755)
    wal, data = work / "wal", tmp_path / "data"
    wal.mkdir()
    _server_owned(wal)
    cluster = require_cluster()
    rebuilt: PgCluster | None = None
    try:
        url = cluster.create_database("pitr")
        migrate.upgrade(url)
        monkeypatch.setenv("SECURESPHERE_DATABASE_URL", url)
        monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(data))
        code, out, _ = run(capsys, "backup", "--setup-archiving", "--wal-dir", str(wal))
        assert code == 0 and "archive_mode = 'on'" in out and "restart" in out
        code, out, err = run(
            capsys, "backup", "--setup-archiving", "--wal-dir", str(wal), "--apply"
        )
        assert code == 0 and "restart PostgreSQL now" in out, err
        db.dispose_all()
        cluster._pg_ctl("-w", "-m", "fast", "stop")
        cluster._start()
        code, out, err = run(capsys, "backup", "--base")
        assert code == 0 and "base backup written" in out, err
        make_org(url, "t1")
        make_org(url, "t2")
        between = utcnow()
        _until(lambda: utcnow() > between, "the clock to move on")
        make_org(url, "t3")
        _archived_through(url)
        db.dispose_all()

        rebuilt = PgCluster(cluster.bin_dir, work / "rebuilt", free_port())
        rebuilt.base_dir.mkdir()
        code, out, err = run(
            capsys,
            "restore",
            "--to",
            between.isoformat(),
            "--pgdata",
            str(rebuilt.data_dir),
            "--wal-dir",
            str(wal),
        )
        assert code == 0 and "replays base-" in out, err
        (rebuilt.base_dir / "sock").mkdir()
        _server_owned(rebuilt.base_dir)
        rebuilt._start()
        again = rebuilt.url("pitr")
        line = _until(lambda: "promoted" in (r := replayed(again)) and r, "promotion")
        assert "last transaction replayed committed at" in line
        monkeypatch.setenv("SECURESPHERE_DATABASE_URL", again)
        code, out, err = run(capsys, "restore", "--replayed")
        assert code == 0 and out.startswith("last transaction replayed committed at"), err
        last = datetime.strptime(out.split(" at ")[1][:26], "%Y-%m-%d %H:%M:%S.%f")
        assert last.replace(tzinfo=UTC) <= between
        with db.reading(again) as s:
            names = set(s.scalars(select(Organization.name)))
            assert {"t1", "t2"} <= names and "t3" not in names
            assert find_problem(s) is None
    finally:
        db.dispose_all()
        if rebuilt is not None:
            rebuilt.stop()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
