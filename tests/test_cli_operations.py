"""Operations: backup, verify, restore, backups, purge, health and audit-verify, as main([...])."""

import random
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from core import (
    assessments,
    audit,
    audit_chain,
    audit_checkpoint,
    db,
    demo_content,
    evidence,
    responses,
)
from core.access import SYSTEM, Actor
from core.banks.store import load_bank
from core.config import load_settings
from core.demo_content import demo_answers
from core.errors import AccessDenied
from core.models import AuditLog, EvidenceFile, SignInAttempt, utcnow
from core.retention import purge_expired
from tests.clirun import run
from tests.factories import baseline_id, make_actor, make_org, make_product


def _one_line_error(result, message: str) -> None:
    code, _, err = result
    assert code == 1 and message in err and err.startswith("error: ") and err.count("\n") == 1, err


def test_health_before_and_after_init(cli_db, capsys, tmp_path):
    _one_line_error(run(capsys, "health"), "no SQLite file")
    Path(cli_db.removeprefix("sqlite:///")).touch()
    _one_line_error(run(capsys, "health"), "migrations")
    assert run(capsys, "init")[0] == 0
    assert run(capsys, "health")[:2] == (0, "ok\n")


def test_backup_list_verify_and_prune(cli_db, capsys, tmp_path):
    assert run(capsys, "init")[0] == 0
    code, out, err = run(capsys, "backup")
    assert code == 0 and "backup written" in out, err
    first = Path(out.split("backup written: ")[1].split(" (")[0])
    own = tmp_path / "elsewhere" / "mine.tar.gz"
    assert run(capsys, "backup", "--out", str(own))[0] == 0 and own.exists()
    assert run(capsys, "backup")[0] == 0
    code, out, _ = run(capsys, "backups", "list")
    assert code == 0 and len(out.splitlines()) == 2 and str(first) in out.splitlines()[1]
    code, out, _ = run(capsys, "verify", str(own))
    assert code == 0 and out.startswith("backup ok") and "sqlite" in out
    code, out, _ = run(capsys, "backups", "prune", "--keep", "1")
    assert code == 0 and out.strip() == f"removed {first}"
    _one_line_error(run(capsys, "backups", "prune", "--keep", "0"), "keep at least one")


def test_backup_from_the_cli_is_in_the_audit_trail(cli_db, capsys, tmp_path):
    assert run(capsys, "init")[0] == 0
    archive = tmp_path / "b.tar.gz"
    assert run(capsys, "backup", "--out", str(archive))[0] == 0
    with db.reading(cli_db) as s:
        last = s.scalar(select(AuditLog).order_by(AuditLog.id.desc()).limit(1))
    assert (last.action, last.object_id, last.actor_role) == ("backup_created", "b.tar.gz", "admin")
    assert last.detail == {"bytes": archive.stat().st_size}


def test_verify_names_what_is_wrong_in_one_line(cli_db, capsys, tmp_path):
    assert run(capsys, "init")[0] == 0
    archive = tmp_path / "b.tar.gz"
    assert run(capsys, "backup", "--out", str(archive))[0] == 0
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(bad, "w:gz") as dst:
        for member in src:
            if member.name != "database.sqlite":
                dst.addfile(member, src.extractfile(member))
    _one_line_error(run(capsys, "verify", str(bad)), "database.sqlite: missing from the archive")


def test_restore_needs_force_over_data_and_says_where_the_safety_copy_is(
    cli_db, capsys, tmp_path, monkeypatch
):
    assert run(capsys, "init")[0] == 0
    archive = tmp_path / "b.tar.gz"
    assert run(capsys, "backup", "--out", str(archive))[0] == 0
    _one_line_error(run(capsys, "restore", str(archive)), "use --force")
    code, out, err = run(capsys, "restore", str(archive), "--force")
    assert code == 0 and "backed up first to" in out and "restored" in out, err
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(tmp_path / "fresh"))
    code, out, _ = run(capsys, "restore", str(archive))
    assert code == 0 and "backed up first" not in out
    assert run(capsys, "health")[:2] == (0, "ok\n")
    assert run(capsys, "audit-verify")[0] == 0
    with db.reading(load_settings().database_url) as s:
        last = s.scalar(select(AuditLog).order_by(AuditLog.id.desc()).limit(1))
    assert last.action == "backup_restored" and last.object_id == "b.tar.gz"


def test_audit_verify_counts_rows_or_names_the_first_bad_one(cli_db, capsys):
    assert run(capsys, "init")[0] == 0
    with db.reading(cli_db) as s:
        count = s.scalar(select(func.count()).select_from(AuditLog))
        second = s.scalars(select(AuditLog.id).order_by(AuditLog.id)).all()[1]
    assert run(capsys, "audit-verify")[:2] == (0, f"audit trail intact: {count} rows\n")
    with db.transaction(cli_db) as s:
        s.execute(update(AuditLog).where(AuditLog.id == second).values(action="nothing_to_see"))
    _one_line_error(run(capsys, "audit-verify"), f"audit row {second}: its content does not match")


# --- purge ---------------------------------------------------------------------------------------


def _evidence_world(url: str, data: Path) -> dict:
    """Withdrawn evidence: one file of its own, one shared with a live row, one shared with a row
    withdrawn only recently; plus old and recent sign-in attempts."""
    client = make_actor(url, "client", make_org(url))
    product, bank_id = make_product(url, client), baseline_id(url)
    long_ago = utcnow() - timedelta(days=400)
    with db.transaction(url) as s:
        a = assessments.start_assessment(s, client, product_id=product, questionnaire_id=bank_id)
        responses.save_answers(
            s, client, a.id, demo_answers(load_bank(s, bank_id), 0.8, random.Random(1))
        )
        key = next(q.key for q in load_bank(s, bank_id).questions if q.evidence_required)
        rows = {
            name: evidence.add_evidence(
                s,
                client,
                a.id,
                question_key=key,
                filename=f"{name}.pdf",
                data=demo_content.sample_pdf(content),
                data_dir=data,
            )
            for name, content in (
                ("own", "own"),
                ("shared", "shared"),
                ("shared_live", "shared"),
                ("late", "late"),
                ("late_recent", "late"),
            )
        }
        for name in ("own", "shared", "late"):
            evidence.remove_evidence(s, client, rows[name].id, now=long_ago)
        evidence.remove_evidence(s, client, rows["late_recent"].id)
        for days in (100, 91, 5):
            s.add(
                SignInAttempt(
                    username="alice",
                    client_address="10.0.0.1",
                    created_at=utcnow() - timedelta(days=days),
                )
            )
    return {name: (row.id, data / "evidence" / row.storage_key) for name, row in rows.items()}


def test_purge_dry_run_then_purge(cli_db, capsys, tmp_path):
    assert run(capsys, "init")[0] == 0
    world = _evidence_world(cli_db, tmp_path / "data")
    code, out, _ = run(capsys, "purge", "--dry-run")
    assert code == 0 and out.strip() == (
        "would remove: 2 sign-in attempts, 0 webhook delivery attempts, 3 withdrawn evidence rows "
        "and 1 of their files, 0 audit rows"
    )
    assert all(path.exists() for _, path in world.values())
    code, out, _ = run(capsys, "purge")
    assert code == 0 and out.startswith(
        "removed: 2 sign-in attempts, 0 webhook delivery attempts, 3 withdrawn evidence rows and 1 "
    )
    with db.reading(cli_db) as s:
        left = set(s.scalars(select(EvidenceFile.id)))
        assert s.scalar(select(func.count()).select_from(SignInAttempt)) == 1
        actions = set(s.scalars(select(AuditLog.action)))
        assert audit_chain.find_problem(s) is None
    assert left == {world["shared_live"][0], world["late_recent"][0]}
    # Only the file no remaining row names is gone; shared content stays for the rows still here.
    assert not world["own"][1].exists()
    assert world["shared"][1].exists() and world["late"][1].exists()
    assert {"sign_in_attempts_purged", "evidence_purged"} <= actions
    assert run(capsys, "purge")[1].startswith(
        "removed: 0 sign-in attempts, 0 webhook delivery attempts, 0 withdrawn"
    )


def test_purge_of_the_audit_trail_leaves_a_signed_checkpoint(db_url, tmp_path, monkeypatch):
    data = tmp_path / "data"
    _evidence_world(db_url, data)
    settings = {"retention_audit_days": 30, "retention_evidence_days": 365}
    monkeypatch.setattr(
        "core.retention.get_settings", lambda session: settings
    )  # not in SETTINGS yet
    key = b"cookie key " * 4
    later = utcnow() + timedelta(days=60)
    with db.reading(db_url) as s:
        total = s.scalar(select(func.count()).select_from(AuditLog))
        assert (
            purge_expired(s, SYSTEM, data_dir=data, key=key, now=later, dry_run=True).audit_rows
            == total
        )
    with db.transaction(db_url) as s:
        done = purge_expired(s, SYSTEM, data_dir=data, key=key, now=later)
    assert done.audit_rows == total  # not the purge's own rows, written just before
    with db.reading(db_url) as s:
        assert s.scalars(select(AuditLog.action).order_by(AuditLog.id)).all() == [
            "sign_in_attempts_purged",
            "evidence_purged",
            audit.CHECKPOINT,
        ]
        assert audit_chain.find_problem(s, key) is None


def test_purge_is_for_admins(sqlite_url, tmp_path):
    with db.transaction(sqlite_url) as s, pytest.raises(AccessDenied):
        purge_expired(s, Actor(1, "ana", "analyst"), data_dir=tmp_path, key=b"k" * 32)


def test_cookie_key_of_the_process_signs_checkpoints(cli_db, capsys):
    """audit-verify checks checkpoints with the process key: one from another key is refused."""
    assert run(capsys, "init")[0] == 0
    with db.transaction(cli_db) as s:
        audit_checkpoint.checkpoint_and_purge(
            s, before=utcnow() + timedelta(days=1), key=b"other key " * 4
        )
    _one_line_error(run(capsys, "audit-verify"), "checkpoint signature does not verify")
    with db.transaction(cli_db) as s:
        audit_checkpoint.checkpoint_and_purge(
            s, before=utcnow() + timedelta(days=1), key=load_settings().cookie_key.encode()
        )
    assert run(capsys, "audit-verify")[:2] == (0, "audit trail intact: 1 rows\n")
