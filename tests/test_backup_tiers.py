"""Frequent backups: taken when due, thinned out by the retention tiers, restored to a time."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from core import db
from core.access import SYSTEM
from core.backup import BACKUPS, _listed
from core.backup_tiers import Tiers, prune_tiered
from core.config import load_settings
from core.models import Organization, utcnow
from core.settings import update_setting
from tests.clirun import run
from tests.factories import make_org

STAMP = "%Y%m%d-%H%M%S"


def _touch(folder: Path, when: datetime) -> Path:
    path = folder / f"securesphere-{when:{STAMP}}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_tiers_keep_all_of_a_day_hourly_for_a_week_daily_for_a_month(tmp_path):
    now = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
    folder = tmp_path / BACKUPS
    for k in range(40 * 24 * 4):  # every 15 minutes for 40 days, 7 minutes off the hour
        _touch(folder, now - timedelta(minutes=7 + 15 * k))
    removed = prune_tiered(tmp_path, Tiers(24, 7, 30), now)
    left = [entry.created for entry in _listed(tmp_path)]
    # 96 from the last 24 hours, 144 hours' newest for the rest of the week, then the newest of
    # each of the 23 days back to 30 days ago.
    assert len(left) == 96 + 144 + 23 and len(removed) == 3840 - len(left)
    assert left[0] == now - timedelta(minutes=7)
    assert min(left) >= now - timedelta(days=30)
    day = [c for c in left if c.date() == datetime(2026, 6, 10).date()]
    assert day == [datetime(2026, 6, 10, 23, 53, tzinfo=UTC)]
    hour = [c for c in left if c.date() == datetime(2026, 6, 25).date() and c.hour == 9]
    assert hour == [datetime(2026, 6, 25, 9, 53, tzinfo=UTC)]


def test_the_newest_backup_is_kept_however_old(tmp_path):
    now = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
    old = _touch(tmp_path / BACKUPS, now - timedelta(days=100))
    older = _touch(tmp_path / BACKUPS, now - timedelta(days=101))
    assert prune_tiered(tmp_path, Tiers(24, 7, 30), now) == [older] and old.exists()


def _written(out: str) -> Path:
    return Path(out.split("backup written: ")[1].split(" (")[0])


def test_backup_if_due_follows_the_interval_and_prunes_by_the_tiers(cli_db, capsys):
    assert run(capsys, "init")[0] == 0
    data = load_settings().data_dir
    stale = _touch(data / BACKUPS, utcnow() - timedelta(days=60))
    code, out, err = run(capsys, "backup", "--if-due")
    assert code == 0 and "backup written" in out and f"removed {stale}" in out, err
    first = _written(out)
    code, out, _ = run(capsys, "backup", "--if-due")
    assert code == 0 and out.startswith("not due") and "every 15 min" in out
    # The newest backup 20 minutes old: due at the default 15, not once the setting says 30.
    aged = first.with_name(f"securesphere-{utcnow() - timedelta(minutes=20):{STAMP}}.tar.gz")
    first.rename(aged)
    with db.transaction(cli_db) as s:
        update_setting(s, SYSTEM, "backup_interval_minutes", 30)
    assert run(capsys, "backup", "--if-due")[1].startswith("not due")
    with db.transaction(cli_db) as s:
        update_setting(s, SYSTEM, "backup_interval_minutes", 15)
    code, out, _ = run(capsys, "backup", "--if-due")
    assert code == 0 and "backup written" in out and aged.exists()  # still within the tiers
    _touch(data / BACKUPS, utcnow() - timedelta(days=45))
    code, out, _ = run(capsys, "backups", "prune")
    assert code == 0 and out.count("removed") == 1 and len(_listed(data)) == 2


def _names(url: str) -> set[str]:
    with db.reading(url) as s:
        return set(s.scalars(select(Organization.name)))


def test_restore_to_a_time_uses_the_newest_backup_before_it(cli_db, capsys):
    assert run(capsys, "init")[0] == 0
    _one = run(capsys, "restore", "--to", utcnow().isoformat())
    assert _one[0] == 1 and "no backup taken before" in _one[2]
    make_org(cli_db, "t1")
    assert run(capsys, "backup")[0] == 0
    make_org(cli_db, "t2")
    code, out, _ = run(capsys, "backup")
    second = _written(out)
    between = utcnow()
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while utcnow() <= between and datetime.now(UTC) < deadline:  # strictly after, however fast
        pass
    make_org(cli_db, "t3")
    assert run(capsys, "backup")[0] == 0  # may share second's name stamp: its manifest decides
    assert {"t1", "t2", "t3"} <= _names(cli_db)
    code, out, err = run(capsys, "restore", "--to", between.isoformat(), "--force")
    assert code == 0, err
    assert "recovery point: " in out and second.name in out and "restored" in out
    names = _names(cli_db)
    assert {"t1", "t2"} <= names and "t3" not in names
    assert run(capsys, "audit-verify")[0] == 0
    both = run(capsys, "restore", str(second), "--to", between.isoformat())
    assert both[0] == 1 and "not both" in both[2]
