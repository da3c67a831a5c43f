"""The command line, called as main([...]) with a real database."""

import json
import stat

import pytest
from sqlalchemy import select

from core import db
from core.banks.store import list_questionnaires
from core.config import ROOT
from core.models import TABLES, AuditLog, User
from tests.clirun import run


def test_init_demo_then_stats_json_lists_every_table_with_demo_rows(cli_db, capsys, monkeypatch):
    monkeypatch.setenv("SECURESPHERE_DEMO_PASSWORD", "demo password 2026")
    code, out, err = run(capsys, "init", "--demo")
    assert code == 0, err
    code, out, err = run(capsys, "stats", "--json")
    assert code == 0, err
    stats = json.loads(out)
    assert set(stats["tables"]) == set(TABLES)
    for table in (
        "organizations",
        "users",
        "products",
        "assessments",
        "questionnaire_responses",
        "score_history",
        "product_statuses",
        "lead_comments",
        "audit_log",
        "questions",
    ):
        assert stats["tables"][table] > 0, table
    assert stats["engine"] == "sqlite" and stats["database_bytes"] > 0
    assert {"approved", "rejected", "submitted", "in_progress"} <= set(
        stats["assessments_by_status"]
    )


def test_init_twice_changes_nothing(cli_db, capsys):
    assert run(capsys, "init", "--demo")[0] == 0
    first = json.loads(run(capsys, "stats", "--json")[1])
    code, out, _ = run(capsys, "init", "--demo")
    assert code == 0 and "nothing changed" in out
    assert json.loads(run(capsys, "stats", "--json")[1]) == first


def test_random_demo_passwords_are_printed_and_kept_private(cli_db, capsys, tmp_path):
    code, out, _ = run(capsys, "init", "--demo")
    assert code == 0
    path = tmp_path / "data" / "demo_passwords.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    passwords = dict(line.split(": ") for line in path.read_text().splitlines())
    assert set(passwords) == {
        "admin",
        "lead_reviewer",
        "security_manager",
        "analyst",
        "demo_client",
        "enterprise_client",
    }
    assert all(f"{user}: {pw}" in out for user, pw in passwords.items())
    assert len(set(passwords.values())) == 6


def test_create_user_prints_a_one_time_password_to_change(cli_db, capsys):
    assert run(capsys, "init")[0] == 0
    code, out, err = run(capsys, "create-user", "--username", "root", "--role", "admin")
    assert code == 0, err
    assert "one-time password" in out
    with db.reading(cli_db) as s:
        user = s.scalar(select(User).where(User.username == "root"))
    assert user.must_change_password and user.role == "admin"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["create-user", "--username", "x y", "--role", "admin"], "Username must be"),
        (["create-user", "--username", "c1", "--role", "client"], "must belong to an organisation"),
        (
            ["create-user", "--username", "c1", "--role", "client", "--organization", "Nope"],
            "no organisation",
        ),
    ],
)
def test_bad_cli_input_gives_one_line_and_changes_nothing(cli_db, capsys, argv, message):
    assert run(capsys, "init")[0] == 0
    code, _, err = run(capsys, *argv)
    assert code == 1 and message in err and err.count("\n") == 1
    with db.reading(cli_db) as s:
        assert s.scalars(select(User)).all() == []


def test_invalid_database_url_fails_with_one_line(env, capsys):
    env("mysql://nobody@nowhere/db")
    code, _, err = run(capsys, "init")
    assert code == 1 and "unsupported driver" in err and err.count("\n") == 1


def test_stats_on_an_empty_database_says_to_init(cli_db, capsys):
    code, _, err = run(capsys, "stats")
    assert code == 1 and "run: python -m core.cli init" in err


def test_init_loads_the_shipped_frameworks(cli_db, capsys):
    assert run(capsys, "init")[0] == 0
    with db.reading(cli_db) as s:
        counts = {q["key"]: q["questions"] for q in list_questionnaires(s)}
    assert counts == {
        "securesphere-baseline": 52,
        "nist-csf-2.0": 106,
        "nist-800-53-r5-low": 149,
        "owasp-asvs-5.0-l1": 70,
    }


def test_import_bank_dry_run_previews_and_writes_nothing(cli_db, capsys):
    assert run(capsys, "init")[0] == 0
    asvs = ROOT / "data" / "frameworks" / "OWASP_ASVS_5.0.0_en.csv"
    code, out, err = run(capsys, "import-bank", str(asvs), "--level", "2", "--dry-run")
    assert code == 0, err
    assert "253 questions" in out and "nothing written" in out
    code, out, _ = run(capsys, "import-bank", str(asvs), "--level", "2")
    assert code == 0 and "imported" in out
    with db.reading(cli_db) as s:
        assert len(list_questionnaires(s)) == 5


def test_export_then_import_gives_the_same_bank(cli_db, capsys, tmp_path):
    assert run(capsys, "init")[0] == 0
    code, out, _ = run(capsys, "export-bank", "nist-csf-2.0")
    assert code == 0 and out.startswith("key: nist-csf-2.0")
    path = tmp_path / "csf.yaml"
    path.write_text(out)
    code, out, _ = run(capsys, "import-bank", str(path))
    assert code == 0 and "already present, unchanged" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["import-bank", "missing.yaml"], "no such file"),
        (["export-bank", "nope"], "no bank 'nope'"),
        (["settings", "session_idle_minutes", "2"], "from 5 to 480"),
        (["settings", "reviewer_visibility", "some"], "one of: all, assigned"),
        (
            ["settings", "score_bands", '[[50, "Low"], [60, "Medium"], [40, "High"]]'],
            "highest first",
        ),
        (["settings", "no_such_thing", "1"], "Unknown setting"),
        (["settings", "session_idle_minutes"], "give a value"),
    ],
)
def test_bad_bank_and_setting_commands_fail_with_one_line(cli_db, capsys, argv, message):
    assert run(capsys, "init")[0] == 0
    code, _, err = run(capsys, *argv)
    assert code == 1 and message in err and err.count("\n") == 1


def test_settings_change_is_applied_and_audited(cli_db, capsys):
    assert run(capsys, "init")[0] == 0
    code, out, _ = run(capsys, "settings", "session_idle_minutes", "45")
    assert code == 0 and out.strip() == "session_idle_minutes = 45"
    assert "session_idle_minutes = 45" in run(capsys, "settings")[1]
    with db.reading(cli_db) as s:
        row = s.scalar(select(AuditLog).where(AuditLog.action == "setting_changed"))
    assert row.detail == {"old": 30, "new": 45}
