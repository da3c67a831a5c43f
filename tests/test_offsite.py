"""Offsite copies against a real SFTP server (sshd on loopback) through real rclone: encrypted,
read back and checked, cut uploads retried and never verified, tampering caught, restored alone."""

import base64
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from core import assessments, db, demo_content, evidence
from core.access import SYSTEM
from core.banks.store import load_bank
from core.config import load_settings
from core.dumps import describe, plain_engine
from core.models import utcnow
from core.offsite import from_env, upload
from core.offsite_crypto import MAGIC, new_key
from core.settings import update_setting
from tests.apptest import rerun, signed_in
from tests.clirun import run
from tests.factories import baseline_id, make_actor, make_org, make_product
from tests.support.sftp import SftpServer, serving

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sftp(tmp_path, monkeypatch):
    """A running SFTP server the offsite settings point at; killed afterwards."""
    with serving(tmp_path / "sftp", monkeypatch) as server:
        yield server


def _world(url: str, data: Path, big: int = 0) -> None:
    """An organisation's assessment with evidence files (one of ``big`` bytes if asked)."""
    client = make_actor(url, "client", make_org(url))
    product = make_product(url, client, "Web Shop")
    bank_id = baseline_id(url)
    with db.transaction(url) as s:
        if big:
            update_setting(s, SYSTEM, "upload_max_mb", 200)
    with db.transaction(url) as s:
        a = assessments.start_assessment(s, client, product_id=product, questionnaire_id=bank_id)
        key = load_bank(s, bank_id).questions[0].key
        for n in range(3):
            evidence.add_evidence(
                s,
                client,
                a.id,
                question_key=key,
                filename=f"proof-{n}.pdf",
                data=demo_content.sample_pdf(f"proof {n}"),
                data_dir=data,
            )
        if big:  # base64 of random bytes: gzip keeps most of it
            text = base64.b64encode(os.urandom(big * 3 // 4))
            evidence.add_evidence(
                s, client, a.id, question_key=key, filename="big.txt", data=text, data_dir=data
            )


def _state(url: str, data: Path) -> tuple[dict[str, int], set[str]]:
    engine = plain_engine(url)
    try:
        with engine.connect() as connection:
            tables = describe(connection).tables
    finally:
        engine.dispose()
    return tables, {p.name for p in (data / "evidence").rglob("*") if p.is_file()}


def _offsite_lines(capsys) -> list[str]:
    code, out, err = run(capsys, "backups", "list")
    assert code == 0, err
    return [line for line in out.splitlines() if "  offsite  " in line]


def test_offsite_copy_is_encrypted_verified_and_restores_alone(sftp, cli_db, capsys):
    assert run(capsys, "init")[0] == 0
    data = load_settings().data_dir
    _world(cli_db, data)
    before = _state(cli_db, data)
    code, out, err = run(capsys, "backup", "--if-due")
    assert code == 0 and "offsite copy verified" in out, err
    (sealed,) = sftp.root.glob("*.enc")
    local = next((data / "backups").glob("*.tar.gz"))
    assert (
        sealed.read_bytes().startswith(MAGIC)
        and local.read_bytes()[:2] not in sealed.read_bytes()[:64]
    )
    (line,) = _offsite_lines(capsys)
    assert "verified" in line and "unverified" not in line and local.name in line
    # The machine is lost: database, evidence and local backups gone; only the remote is left.
    db.dispose_all()
    Path(cli_db.removeprefix("sqlite:///")).unlink()
    shutil.rmtree(data)
    code, out, err = run(capsys, "restore", "--to", utcnow().isoformat())
    assert code == 0 and "fetched from offsite and checked" in out and local.name in out, err
    assert "recovery point: " in out
    tables, files = _state(cli_db, data)
    assert files == before[1] and len(files) == 3
    assert tables == dict(before[0], audit_log=before[0]["audit_log"] + 1)  # + backup_restored
    assert run(capsys, "audit-verify")[0] == 0


def test_a_tampered_offsite_copy_fails_verification(sftp, cli_db, capsys, monkeypatch):
    assert run(capsys, "init")[0] == 0
    _world(cli_db, load_settings().data_dir)
    assert run(capsys, "backup", "--if-due")[0] == 0
    assert run(capsys, "backups", "verify-offsite")[1] == "offsite copies ok: 1\n"
    (sealed,) = sftp.root.glob("*.enc")
    raw = bytearray(sealed.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    sealed.write_bytes(bytes(raw))
    code, _, err = run(capsys, "backups", "verify-offsite")
    assert code == 1 and "does not decrypt" in err
    code, _, err = run(capsys, "backups", "fetch", sealed.name.removesuffix(".enc"))
    assert code == 1 and "does not decrypt" in err
    assert not list((load_settings().data_dir / "backups").glob(".*fetching"))
    # A record changed on the remote no longer opens under the key: the copy is not verified.
    (record,) = sftp.root.glob("*.enc.json")
    record.write_bytes(record.read_bytes().replace(b'"size": ', b'"size": 1'))
    (line,) = _offsite_lines(capsys)
    assert "unverified" in line
    monkeypatch.setenv("SECURESPHERE_OFFSITE_KEY", new_key())  # another key opens nothing
    assert "unverified" in _offsite_lines(capsys)[0]


def _cli(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "core.cli", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _cut_when_half_sent(server: SftpServer, proc: subprocess.Popen[str], size: int) -> None:
    """Kill the server once part of the copy has reached the remote folder."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        sizes = [p.stat().st_size for p in server.root.rglob("*") if p.is_file()]
        if any(size // 4 < s < size * 3 // 4 for s in sizes):
            server.kill()
            return
        time.sleep(0.02)
    raise AssertionError("the upload never got half way")


def test_an_upload_cut_halfway_is_retried_and_never_listed_as_verified(
    sftp, cli_db, capsys, monkeypatch
):
    assert run(capsys, "init")[0] == 0
    data = load_settings().data_dir
    _world(cli_db, data, big=4 * 1024 * 1024)
    monkeypatch.setenv("RCLONE_BWLIMIT", "1M")  # slow enough to cut in the middle
    proc = _cli("backup", "--if-due")
    _cut_when_half_sent(sftp, proc, 3 * 1024 * 1024)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "failed after 3 tries" in err, out + err
    sftp.start()
    assert all("unverified" in line for line in _offsite_lines(capsys))
    # The next scheduled run (no backup due) uploads it again; cut again with the server back at
    # once, the next try of that same run succeeds.
    proc = _cli("backup", "--if-due")
    _cut_when_half_sent(sftp, proc, 3 * 1024 * 1024)
    sftp.start()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "not due" in out and "offsite copy verified" in out, out + err
    (line,) = _offsite_lines(capsys)
    assert " verified " in line
    assert run(capsys, "backups", "verify-offsite")[0] == 0


def _copy_from(folder: Path, hours_ago: float) -> None:
    """A verified offsite copy of a backup named as taken ``hours_ago``."""
    stamp = f"{utcnow() - timedelta(hours=hours_ago):%Y%m%d-%H%M%S}"
    path = folder / f"securesphere-{stamp}.tar.gz"
    path.write_bytes(os.urandom(1000))
    target = from_env()
    assert target is not None and upload(target, path).state == "verified"


def test_health_reports_the_newest_verified_offsite_copy(sftp, cli_db, capsys, tmp_path):
    assert run(capsys, "init")[0] == 0
    code, out, err = run(capsys, "health")
    assert code == 0 and out == "ok\n" and "warning: offsite: no verified offsite copy" in err
    _copy_from(tmp_path, 8)
    code, out, err = run(capsys, "health")
    assert code == 0 and "more than 6 h (offsite_max_age_hours)" in err
    assert run(capsys, "backup", "--if-due")[0] == 0
    code, out, err = run(capsys, "health")
    assert code == 0 and "offsite: the newest verified copy is 0.0 h old" in out
    assert "offsite" not in err
    sftp.kill()
    code, out, err = run(capsys, "health")
    assert code == 0 and "warning: offsite: SecureSphereError: rclone" in err


def test_the_backups_page_turns_red_past_the_offsite_threshold(sftp, app_env, tmp_path):
    def page():
        at = signed_in(app_env, "admin").run().switch_page("pages/admin_operations.py").run()
        assert not at.exception
        return at

    at = page()
    assert any("no verified offsite copy" in m.value for m in at.error)
    _copy_from(tmp_path, 7)
    at = page()
    assert any("more than 6 h" in m.value for m in at.error)
    _copy_from(tmp_path, 0.5)
    at = page()
    assert not at.error and any("0\\.5 h old" in m.value for m in at.success)
    rerun(at)
