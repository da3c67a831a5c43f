"""PostgreSQL point in time, for real: a throw-away cluster archiving its WAL, a pg_basebackup,
rows at t1, t2, t3, and a second cluster rebuilt, started and promoted by ``restore`` at a moment
between t2 and t3; from the local archive, and from the offsite copy (sshd SFTP) alone."""

import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from core import db, migrate
from core.audit_chain import find_problem
from core.backup_tiers import Tiers
from core.models import Organization, utcnow
from core.offsite import from_env
from core.offsite_crypto import MAGIC
from core.pitr import base_backups, replayed
from core.pitr_offsite import prune_local, prune_pitr_offsite
from tests.clirun import run
from tests.factories import make_org
from tests.support.postgres import PgCluster, _chown_tree, free_port, require_cluster
from tests.support.sftp import serving

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


class World:
    """An archiving throw-away cluster with a base backup and rows t1, t2 (before ``between``)
    and t3 (after it), all archived; ``rebuild`` is where a second cluster is restored."""

    def __init__(self, work: Path, data: Path, capsys, monkeypatch) -> None:
        self.work, self.data, self.capsys = work, data, capsys
        self.wal = work / "wal"
        self.wal.mkdir()
        _server_owned(self.wal)
        self.cluster = require_cluster()
        self.rebuilt = PgCluster(self.cluster.bin_dir, work / "rebuilt", free_port())
        self.rebuilt.base_dir.mkdir()
        _server_owned(self.rebuilt.base_dir)  # restore runs the server as this folder's owner
        self.url = self.cluster.create_database("pitr")
        migrate.upgrade(self.url)
        monkeypatch.setenv("SECURESPHERE_DATABASE_URL", self.url)
        monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(data))
        monkeypatch.setenv("SECURESPHERE_WAL_ARCHIVE", str(self.wal))

    def archiving(self) -> None:
        code, out, _ = run(self.capsys, "backup", "--setup-archiving")
        assert code == 0 and "archive_mode = 'on'" in out and "restart" in out
        code, out, err = run(self.capsys, "backup", "--setup-archiving", "--apply")
        assert code == 0 and "restart PostgreSQL now" in out, err
        db.dispose_all()
        self.cluster._pg_ctl("-w", "-m", "fast", "stop")
        self.cluster._start()

    def rows(self, before=("t1", "t2"), after="t3") -> datetime:
        """t1, t2, the moment between, t3; archived. Returns the moment."""
        for name in before:
            make_org(self.url, name)
        between = utcnow()
        _until(lambda: utcnow() > between, "the clock to move on")
        make_org(self.url, after)
        _archived_through(self.url)
        db.dispose_all()
        return between

    def restore(self, when: datetime) -> tuple[int, str, str]:
        return run(
            self.capsys,
            "restore",
            "--to",
            when.isoformat(),
            "--pgdata",
            str(self.rebuilt.data_dir),
            "--port",
            str(self.rebuilt.port),
            "--timeout",
            "120",
        )

    def fresh_rebuild(self) -> None:
        """Stop the rebuilt cluster and make room for another."""
        self.rebuilt.stop()
        self.rebuilt = PgCluster(self.cluster.bin_dir, self.work / "rebuilt-2", free_port())
        self.rebuilt.base_dir.mkdir()
        _server_owned(self.rebuilt.base_dir)

    def check_rebuilt(self, between: datetime, out: str, held=("t1", "t2"), gone="t3") -> None:
        """Started and promoted by restore: t1 and t2, not t3; the audit chain verifies."""
        self.rebuilt.running = True
        assert "promoted in" in out and "WAL replayed up to LSN " in out
        assert "the server: recovery stopping before commit of transaction " in out
        again = self.rebuilt.url("pitr")
        assert "(promoted, WAL replayed up to LSN" in replayed(again)
        last = datetime.strptime(out.split("committed at ")[1][:26], "%Y-%m-%d %H:%M:%S.%f")
        assert last.replace(tzinfo=UTC) <= between
        with db.reading(again) as s:
            names = set(s.scalars(select(Organization.name)))
            assert set(held) <= names and gone not in names
            assert find_problem(s) is None

    def close(self) -> None:
        db.dispose_all()
        self.rebuilt.stop()
        self.cluster.stop()


@pytest.fixture
def world(tmp_path, capsys, monkeypatch):
    work = Path(tempfile.mkdtemp(prefix="securesphere-pitr-", dir="/tmp"))
    work.chmod(0o755)
    built = None
    try:
        built = World(work, tmp_path / "data", capsys, monkeypatch)
        yield built
    finally:
        if built is not None:
            built.close()
        shutil.rmtree(work, ignore_errors=True)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_recovery_to_a_time_between_t2_and_t3(world, capsys, monkeypatch):
    world.archiving()
    before_base = utcnow()
    code, out, err = run(capsys, "backup", "--base")
    assert code == 0 and "base backup written" in out, err
    between = world.rows()
    # Before the oldest base backup: refused, nothing written.
    code, _, err = world.restore(before_base)
    assert code == 1 and "is before the oldest base backup (base-" in err
    assert not world.rebuilt.data_dir.exists()
    # Past the end of the archive: the server stops short of the target; restore stops it and
    # leaves nothing that looks like a data directory.
    code, _, err = world.restore(utcnow() + timedelta(seconds=1))
    assert code == 1 and "recovery failed" in err and "stopped and emptied" in err, err
    assert "recovery ended before configured recovery target was reached" in err
    assert not world.rebuilt.data_dir.exists() and _port_free(world.rebuilt.port)
    code, out, err = world.restore(between)
    assert code == 0 and "rebuilt from base-" in out, err
    world.check_rebuilt(between, out)
    with monkeypatch.context() as m:
        m.setenv("SECURESPHERE_DATABASE_URL", world.rebuilt.url("pitr"))
        code, out, err = run(capsys, "restore", "--replayed")
        assert code == 0 and out.startswith("last transaction replayed committed at"), err
    # The promoted rebuild archives its new timeline's history into the same folder; a later
    # rebuild from a newer base backup of the source still follows the source's timeline.
    _until(lambda: list(world.wal.glob("00000002.history")), "the rebuild's timeline history")
    world.fresh_rebuild()
    code, out, err = run(capsys, "backup", "--base")
    assert code == 0, err
    later = world.rows(before=("t4",), after="t5")
    code, out, err = world.restore(later)
    assert code == 0 and "rebuilt from base-" in out, err
    world.check_rebuilt(later, out, held=("t1", "t2", "t3", "t4"), gone="t5")


def _remote_names(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_recovery_from_the_offsite_copy_alone(world, capsys, monkeypatch, tmp_path):
    with serving(tmp_path / "sftp", monkeypatch) as sftp:
        world.archiving()
        code, out, err = run(capsys, "backup", "--base")
        assert code == 0 and "offsite copy verified: " in out, err
        between = world.rows()
        code, out, err = run(capsys, "backups", "push")
        assert code == 0 and "base backup and WAL files" in out, err
        remote = sftp.root / "pitr"
        sealed = list(remote.rglob("*.enc"))
        assert any(p.parent.name == "wal" for p in sealed) and all(
            p.read_bytes().startswith(MAGIC) for p in sealed
        )
        # The machine is lost: local base backups and WAL archive gone, only the remote is left.
        shutil.rmtree(world.data / "pitr")
        for path in world.wal.iterdir():
            path.unlink()
        code, out, err = world.restore(between)
        assert code == 0 and "fetched from offsite and checked: base-" in out, err
        world.check_rebuilt(between, out)
        # Pruned by the tiers: a second base backup, then two hours on with an hour's tier only
        # the newest base is kept, and only the WAL from its first segment on.
        first = base_backups(world.data)[0]
        code, out, err = run(capsys, "backup", "--base")
        assert code == 0, err
        newest = base_backups(world.data)[0]
        assert first.start_wal < newest.start_wal
        later, tiers = utcnow() + timedelta(hours=2), Tiers(1, 0, 0)
        target = from_env()
        assert target is not None
        removed = prune_pitr_offsite(target, tiers, later)
        assert any(name.startswith(f"{first.folder.name}/") for name in removed)
        names = _remote_names(remote)
        assert not any(n.startswith(first.folder.name) for n in names)
        assert f"{newest.folder.name}/backup.json.enc" in names
        segments = [n[4:28] for n in names if n.startswith("wal/") and n[4:28].isalnum()]
        assert newest.start_wal in segments
        assert all(s[8:] >= newest.start_wal[8:] for s in segments if len(s) == 24)
        assert any(first.folder.name in r for r in prune_local(world.data, world.wal, tiers, later))
        assert [b.folder.name for b in base_backups(world.data)] == [newest.folder.name]
        local = [p.name for p in world.wal.iterdir() if p.name[:24].isalnum()]
        assert newest.start_wal in local
        assert all(n[8:24] >= newest.start_wal[8:24] for n in local if "history" not in n)
