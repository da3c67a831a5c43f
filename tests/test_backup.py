"""Backups: taken while writers work, verified, restored elsewhere row for row, on both engines."""

import hashlib
import io
import json
import random
import sqlite3
import tarfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import assessments, audit, audit_chain, db, demo_content, evidence, responses
from core.access import SYSTEM, Actor
from core.backup import list_backups, make_backup, prune_backups
from core.backup_integrity import read_manifest, verify_backup
from core.banks.store import load_bank
from core.demo_content import attach_evidence, demo_answers
from core.errors import AccessDenied, SecureSphereError, ValidationError
from core.models import AuditLog, Base, EvidenceFile, Organization
from core.organizations import create_organization
from core.responses import AnswerInput
from core.restore import restore_backup
from core.settings import SETTINGS, update_setting
from tests.factories import baseline_id, make_actor, make_org, make_product

WRITERS = 2


def _world(url: str, data: Path) -> dict:
    """A client with two answered assessments and their evidence files."""
    org = make_org(url)
    client = make_actor(url, "client", org)
    bank_id, ids = baseline_id(url), []
    for name in ("Web Shop", "Mobile App"):
        product = make_product(url, client, name)
        with db.transaction(url) as s:
            a = assessments.start_assessment(
                s, client, product_id=product, questionnaire_id=bank_id
            )
            bank = load_bank(s, bank_id)
            answers = demo_answers(bank, 0.7, random.Random(len(ids)))
            responses.save_answers(s, client, a.id, answers)
            attach_evidence(s, client, a.id, bank, answers, data)
            ids.append(a.id)
    with db.transaction(url) as s:  # the first writer keeps uploading for as long as it runs
        for limit in ("evidence_max_per_answer", "evidence_max_per_assessment"):
            update_setting(s, SYSTEM, limit, SETTINGS[limit].high)
    keys = [
        q.key
        for q in bank.questions
        if q.type == "yes_no"
        and not q.condition
        and q.key not in {c.condition.question for c in bank.questions if c.condition}
    ]
    return {"client": client, "ids": ids, "keys": keys}


def _write(url, world, index, data, stop, committed, errors) -> None:
    """Keep saving answers (and, on the first writer, new evidence files) until told to stop."""
    aid, n = world["ids"][index], 0
    while not stop.is_set():
        n += 1
        key = world["keys"][n % len(world["keys"])]
        try:
            with db.transaction(url) as s:
                responses.save_answers(
                    s, world["client"], aid, {key: AnswerInput(value="yes" if n % 2 else "no")}
                )
                if index == 0 and n % 3 == 0:
                    evidence.add_evidence(
                        s,
                        world["client"],
                        aid,
                        question_key=key,
                        filename=f"live-{n}.pdf",
                        data_dir=data,
                        data=demo_content.sample_pdf(f"live upload {n}"),
                    )
        except Exception as exc:  # any error here is one a user would have seen
            errors.append(repr(exc))
            return
        committed[index] += 1


def _saves(url: str, ids: list[int]) -> list[int]:
    with db.reading(url) as s:
        return [
            s.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == "answers_saved", AuditLog.object_id == str(aid))
            )
            for aid in ids
        ]


def _tables(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, ordered by primary key."""
    with db.reading(url) as s:
        return {
            t.name: [tuple(r) for r in s.execute(select(t).order_by(*t.primary_key.columns))]
            for t in Base.metadata.sorted_tables
        }


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _target(request, tmp_path: Path, name: str) -> str:
    """An empty database of the test's engine: a new SQLite file or a new PostgreSQL database."""
    if request.node.callspec.params["db_url"] == "sqlite":
        return f"sqlite:///{tmp_path / name}.db"
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.create_database(f"{name}_{id(request)}")
    request.addfinalizer(lambda: (db.dispose_all(), cluster.drop_database(f"{name}_{id(request)}")))
    return url


def _backup_under_load(url: str, data: Path, world: dict) -> tuple[Path, list, list, list]:
    stop, committed, errors = threading.Event(), Counter(), []
    threads = [
        threading.Thread(target=_write, args=(url, world, i, data, stop, committed, errors))
        for i in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    _wait_for(lambda: errors or min(committed[i] for i in range(WRITERS)) >= 5)
    low = [committed[i] for i in range(WRITERS)]
    archive = make_backup(url, data)
    high = [committed[i] for i in range(WRITERS)]
    # The backup blocked no one: every writer commits again after it.
    _wait_for(lambda: errors or all(committed[i] > high[i] for i in range(WRITERS)))
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(committed[i] > high[i] for i in range(WRITERS)), (high, dict(committed))
    return archive, low, high, committed


def _wait_for(condition, seconds: float = 20) -> None:
    """Poll until the condition holds or the deadline passes (the caller asserts the outcome)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_round_trip_while_two_writers_keep_saving(db_url, tmp_path, request):
    data = tmp_path / "data"
    world = _world(db_url, data)
    before = _saves(db_url, world["ids"])
    archive, low, high, committed = _backup_under_load(db_url, data, world)
    assert sum(high) > sum(low), (low, high)  # writes committed while the backup ran
    assert verify_backup(SYSTEM, archive) == []
    target, restored = _target(request, tmp_path, "snapshot"), tmp_path / "restored"
    done = restore_backup(archive, target, restored)
    assert done.safety_backup is None and done.tables == read_manifest(archive).tables
    # A consistent snapshot: every writer's commits up to some point, each with its audit row.
    saved = [
        after - base for after, base in zip(_saves(target, world["ids"]), before, strict=False)
    ]
    assert all(lo <= n <= hi + 1 for lo, n, hi in zip(low, saved, high, strict=False)), (
        low,
        saved,
        high,
    )
    print(
        f"writers at backup start {low}, in the snapshot {saved}, at its end {high}, "
        f"in all {dict(committed)}"
    )
    with db.reading(target) as s:
        assert audit_chain.find_problem(s) is None
        rows = s.execute(select(EvidenceFile.storage_key, EvidenceFile.sha256)).all()
    assert rows and all(
        hashlib.sha256((restored / "evidence" / key).read_bytes()).hexdigest() == sha
        for key, sha in rows
    )

    # Quiet now: a second round trip must give back every table row for row and every file.
    archive = make_backup(db_url, data)
    target, restored = _target(request, tmp_path, "quiet"), tmp_path / "restored2"
    restore_backup(archive, target, restored)
    assert _tables(target) == _tables(db_url)
    assert _files(restored / "evidence") == _files(data / "evidence")


def test_a_restored_database_takes_new_rows(db_url, tmp_path, request):
    data = tmp_path / "data"
    _world(db_url, data)
    target = _target(request, tmp_path, "again")
    restore_backup(make_backup(db_url, data), target, tmp_path / "restored")
    with db.transaction(target) as s:  # sequences came back too: no duplicate ids
        create_organization(s, SYSTEM, name="After the restore", industry="Retail")
        audit.record(s, SYSTEM, "after_restore")
    with db.reading(target) as s:
        assert audit_chain.find_problem(s) is None


def _rewrite(archive: Path, out: Path, change) -> Path:
    """Copy an archive member by member, letting `change(name, data)` alter (or drop: None) each."""
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = change(member.name, src.extractfile(member).read())
            if data is not None:
                info = tarfile.TarInfo(member.name)
                info.size = len(data)
                dst.addfile(info, io.BytesIO(data))
    return out


@pytest.fixture
def archive(sqlite_url, tmp_path):
    data = tmp_path / "data"
    _world(sqlite_url, data)
    return make_backup(sqlite_url, data)


def test_a_changed_evidence_file_fails_verification(archive, tmp_path):
    def flip(name, data):
        return data.replace(b"Evidence", b"Evidenze") if name.startswith("evidence/") else data

    problems = verify_backup(SYSTEM, _rewrite(archive, tmp_path / "bad.tar.gz", flip))
    assert problems and all("does not match the manifest" in p for p in problems)


def test_a_missing_or_extra_member_fails_verification(archive, tmp_path):
    first = next(n for n in read_manifest(archive).members if n.startswith("evidence/"))
    dropped = _rewrite(archive, tmp_path / "dropped.tar.gz", lambda n, d: None if n == first else d)
    assert verify_backup(SYSTEM, dropped) == [f"{first}: missing from the archive"]
    no_manifest = _rewrite(
        archive, tmp_path / "nm.tar.gz", lambda n, d: None if n == "manifest.json" else d
    )
    assert "manifest.json is missing" in verify_backup(SYSTEM, no_manifest)


def test_a_damaged_database_fails_verification_even_with_a_matching_manifest(archive, tmp_path):
    def damage(name, data):
        if name == "database.sqlite":
            return data[: len(data) // 2]
        if name == "manifest.json":
            manifest = json.loads(data)
            cut = damage.db[: len(damage.db) // 2]
            manifest["members"]["database.sqlite"] = {
                "sha256": hashlib.sha256(cut).hexdigest(),
                "size": len(cut),
            }
            return json.dumps(manifest).encode()
        return data

    with tarfile.open(archive) as tar:
        damage.db = tar.extractfile("database.sqlite").read()
    problems = verify_backup(SYSTEM, _rewrite(archive, tmp_path / "half.tar.gz", damage))
    assert len(problems) == 1 and "database" in problems[0]


def test_a_truncated_archive_is_not_readable(archive, tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[:-2000])
    assert "not a readable backup archive" in verify_backup(SYSTEM, cut)[0]


def test_member_names_that_escape_are_refused(archive, tmp_path):
    bad = tmp_path / "escape.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(bad, "w:gz") as dst:
        for member in src:
            dst.addfile(member, src.extractfile(member))
        evil = tarfile.TarInfo("../../escaped.txt")
        evil.size = 3
        dst.addfile(evil, io.BytesIO(b"bad"))
        link = tarfile.TarInfo("evidence/ab/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        dst.addfile(link)
    problems = verify_backup(SYSTEM, bad)
    assert any("unsafe member name" in p for p in problems)
    assert any("not a regular file" in p for p in problems)
    with pytest.raises(SecureSphereError, match="failed verification"):
        restore_backup(bad, f"sqlite:///{tmp_path / 'new.db'}", tmp_path / "new")
    assert not (tmp_path.parent / "escaped.txt").exists() and not (tmp_path / "new.db").exists()


def test_restore_refuses_a_non_empty_target_without_force(sqlite_url, tmp_path):
    data = tmp_path / "data"
    _world(sqlite_url, data)
    archive = make_backup(sqlite_url, data)
    make_org(sqlite_url, "Joined after the backup")
    with pytest.raises(SecureSphereError, match=r"not empty.*--force"):
        restore_backup(archive, sqlite_url, data)
    with pytest.raises(SecureSphereError, match="not empty"):  # evidence alone is enough
        restore_backup(archive, f"sqlite:///{tmp_path / 'empty.db'}", data)
    with db.reading(sqlite_url) as s:
        assert s.scalar(select(Organization).where(Organization.name == "Joined after the backup"))


def test_forced_restore_keeps_a_safety_copy_first(db_url, tmp_path):
    data = tmp_path / "data"
    _world(db_url, data)
    archive = make_backup(db_url, data)
    make_org(db_url, "Joined after the backup")
    latest = _tables(db_url)
    done = restore_backup(archive, db_url, data, force=True)
    safety = done.safety_backup
    assert (
        safety.exists()
        and verify_backup(SYSTEM, safety) == []
        and safety.parent == data / "backups"
    )
    with db.reading(db_url) as s:
        assert (
            s.scalar(select(Organization).where(Organization.name == "Joined after the backup"))
            is None
        )
    restore_backup(safety, db_url, data, force=True)  # and the safety copy brings it back
    assert _tables(db_url) == latest


def test_restore_refuses_a_sqlite_database_still_in_use(sqlite_url, tmp_path):
    data = tmp_path / "data"
    archive = make_backup(sqlite_url, data)
    app = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))  # the app, still running
    app.execute("SELECT 1 FROM alembic_version").fetchall()
    try:
        with pytest.raises(SecureSphereError, match="in use"):
            restore_backup(archive, sqlite_url, data, force=True)
    finally:
        app.close()


def test_restore_refuses_a_backup_of_the_other_engine(archive, tmp_path):
    with pytest.raises(ValidationError, match="sqlite"):
        restore_backup(archive, "postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path / "x")


def test_archive_is_private_and_holds_what_the_manifest_says(archive):
    assert archive.stat().st_mode & 0o077 == 0
    manifest = read_manifest(archive)
    assert manifest.engine == "sqlite" and manifest.schema_revision
    assert manifest.tables["evidence_files"] > 0 and manifest.created_at
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[-1] == "manifest.json" and set(names[:-1]) == set(manifest.members)
    assert "database.sqlite" in names


def test_prune_keeps_the_newest(sqlite_url, tmp_path):
    data = tmp_path / "data"
    made = [make_backup(sqlite_url, data) for _ in range(4)]
    assert [b.path for b in list_backups(SYSTEM, data)] == made[::-1]
    assert sorted(prune_backups(data, 2)) == sorted(made[:2])
    assert [b.path for b in list_backups(SYSTEM, data)] == made[:1:-1]
    assert prune_backups(data, 5) == []
    with pytest.raises(ValidationError):
        prune_backups(data, 0)


@pytest.mark.parametrize("role", ["client", "lead_reviewer", "security_manager", "analyst"])
def test_only_admins_list_and_verify_backups(sqlite_url, tmp_path, role):
    data = tmp_path / "data"
    archive = make_backup(sqlite_url, data)
    actor = Actor(1, "someone", role, organization_id=1 if role == "client" else None)
    with pytest.raises(AccessDenied):
        list_backups(actor, data)
    with pytest.raises(AccessDenied):
        verify_backup(actor, archive)
