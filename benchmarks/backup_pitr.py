"""PostgreSQL point-in-time figures for benchmarks.backup --postgres: on a throw-away cluster
(tests/support/postgres.py) with the synthetic data set (N products, 100 answers each), archiving
its WAL, a base backup before the data set and one after it (time, size), the copy offsite of
both with the WAL (encrypted, read back and checked; to SECURESPHERE_OFFSITE_REMOTE when set, else
an rclone local folder), and two recoveries to a point in time (rebuild, start, replay, promote)
timed end to end: from the newer base backup (little WAL to replay), and from the older one
(replaying all the WAL the data set wrote: how fast replay is).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from core import db, migrate
from core.dumps import plain_engine
from core.models import utcnow
from core.offsite import Offsite, from_env
from core.offsite_crypto import new_key, parse_key
from core.pitr import base_backup, setup_archiving
from core.pitr_offsite import push_pitr
from core.pitr_recover import recover
from core.synthetic import seed_synthetic
from tests.support.postgres import PgCluster, _chown_tree, free_port, start_cluster


def _server_owned(path: Path) -> None:
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        _chown_tree(path, pw.pw_uid, pw.pw_gid)


def _scalar(url: str, sql: str) -> Any:
    engine = plain_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            result = connection.execute(text(sql))
            return result.scalar_one() if result.returns_rows else None
    finally:
        engine.dispose()


def _archived(url: str) -> None:
    """Switch WAL segments and wait (with a deadline) until the current one is archived."""
    segment = _scalar(url, "SELECT pg_walfile_name(pg_switch_wal())")
    deadline = time.monotonic() + 120
    while _scalar(url, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < segment:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{segment} was not archived within 120 s")
        time.sleep(0.1)


def _recover(url: str, data: Path, wal: Path, rebuilt: PgCluster, when: Any) -> tuple[float, str]:
    rebuilt.base_dir.mkdir()
    _server_owned(rebuilt.base_dir)
    started = time.perf_counter()
    done = recover(url, data, wal, rebuilt.data_dir, when, port=rebuilt.port, timeout=1200)
    rebuilt.running = True
    return time.perf_counter() - started, done.replayed


def _mark(url: str) -> Any:
    """A committed row, then the moment after it (recovery to it stops at the next commit)."""
    _scalar(url, "INSERT INTO bench_mark DEFAULT VALUES RETURNING 1")
    when = utcnow()
    while utcnow() <= when:
        pass
    return when


def run(products: int) -> dict[str, Any]:
    """The figures, from a fresh cluster and the synthetic set of ``products`` products."""
    work = Path(tempfile.mkdtemp(prefix="securesphere-bench-pitr-", dir="/tmp"))
    work.chmod(0o755)
    cluster = start_cluster()
    rebuilt = [PgCluster(cluster.bin_dir, work / f"rebuilt-{n}", free_port()) for n in (1, 2)]
    try:
        url = cluster.create_database("bench")
        migrate.upgrade(url)
        wal, data = work / "wal", work / "data"
        wal.mkdir()
        _server_owned(wal)
        setup_archiving(url, wal, apply=True)
        db.dispose_all()
        cluster._pg_ctl("-w", "-m", "fast", "stop")
        cluster._start()
        _scalar(url, "CREATE TABLE bench_mark (at timestamptz DEFAULT now())")
        base_backup(url, data)  # before the data set: a recovery from it replays all its WAL
        lsn = "SELECT pg_current_wal_lsn()::text"
        before = _scalar(url, lsn)
        started = time.perf_counter()
        report = seed_synthetic(url, products=products)
        seed_s = time.perf_counter() - started
        seed_wal = int(_scalar(url, f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{before}')"))
        after_seed = _mark(url)
        db_bytes = int(_scalar(url, "SELECT pg_database_size(current_database())"))
        started = time.perf_counter()
        base = base_backup(url, data)
        base_s = time.perf_counter() - started
        base_bytes = sum(p.stat().st_size for p in base.folder.iterdir())
        between = _mark(url)
        _mark(url)
        _archived(url)
        wal_files = sorted(p for p in wal.iterdir() if not p.name.startswith("."))
        wal_bytes = sum(p.stat().st_size for p in wal_files)
        target = from_env() or Offsite(str(work / "remote"), parse_key(new_key()))
        started = time.perf_counter()
        copies = push_pitr(target, data, wal)
        push_s = time.perf_counter() - started
        sent = sum(c.size_bytes for c in copies)
        db.dispose_all()
        replay_s, _ = _recover(url, data, wal, rebuilt[0], after_seed)
        rebuilt[0].stop()
        recover_s, replayed = _recover(url, data, wal, rebuilt[1], between)
        return {
            "pg_answers": report.counts.get("questionnaire_responses", 0),
            "pg_seed_s": round(seed_s, 1),
            "pg_database_bytes": db_bytes,
            "pg_base_backup_s": round(base_s, 2),
            "pg_base_backup_bytes": base_bytes,
            "pg_base_to_database_ratio": round(base_bytes / db_bytes, 3),
            "pg_wal_files": len(wal_files),
            "pg_wal_bytes": wal_bytes,
            "pg_offsite_files": len(copies),
            "pg_offsite_bytes": sent,
            "pg_offsite_to_local_ratio": round(sent / (2 * base_bytes + wal_bytes), 3),
            "pg_offsite_push_s": round(push_s, 2),
            "pg_pitr_restore_s": round(recover_s, 2),
            "pg_restore_to_base_ratio": round(recover_s / base_s, 2),
            "pg_replayed": replayed,
            "pg_seed_wal_bytes": seed_wal,
            "pg_pitr_replay_seed_s": round(replay_s, 2),
            "pg_replay_mb_per_s": round(seed_wal / 1e6 / replay_s, 1),
        }
    finally:
        db.dispose_all()
        for cluster_copy in rebuilt:
            cluster_copy.stop()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
