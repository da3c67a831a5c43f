"""The demo data set: big enough to explore, honest in time, built through the core functions;
the sign-in screen's demo hint; and scripts/run.sh."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import time
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from core import audit_chain, db, peer_benchmarks
from core.access import Actor
from core.attention import attention
from core.demo_accounts import PASSWORD_FILE
from core.filters import Filters
from core.models import (
    STATUSES,
    Assessment,
    AuditLog,
    EvidenceFile,
    LeadComment,
    Organization,
    Product,
    ProductStatus,
    QuestionnaireResponse,
    ScoreHistory,
    User,
    utcnow,
)
from core.periods import months_between
from tests.apptest import APP, DEMO_PASSWORD, ROOT

DEMO_USERS = (
    "admin",
    "lead_reviewer",
    "security_manager",
    "analyst",
    "demo_client",
    "enterprise_client",
)


@pytest.fixture(scope="module")
def demo(demo_url):
    return demo_url[0]


def _count(url, model) -> int:
    with db.reading(url) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_the_demo_has_at_least_six_organisations_and_thirty_products(demo):
    assert _count(demo, Organization) >= 6
    assert _count(demo, Product) >= 30


def test_every_status_is_present(demo):
    with db.reading(demo) as s:
        assert set(s.scalars(select(Assessment.status).distinct())) == set(STATUSES)


def test_score_history_covers_eighteen_months_and_nothing_is_in_the_future(demo):
    now = utcnow()
    with db.reading(demo) as s:
        stamps = list(s.scalars(select(ScoreHistory.created_at)))
        latest = [
            s.scalar(select(func.max(m.created_at)))
            for m in (
                ScoreHistory,
                ProductStatus,
                AuditLog,
                LeadComment,
                EvidenceFile,
                QuestionnaireResponse,
            )
        ]
    assert len(months_between(min(stamps).date(), now.date())) >= 19  # 18 whole months back
    assert len({t.strftime("%Y-%m") for t in stamps}) >= 18  # and scores in each of them
    assert all(t.replace(tzinfo=now.tzinfo) <= now + timedelta(seconds=1) for t in latest)


def _cycle_scores(url) -> dict[int, list[float]]:
    """Per product: the final score of each scored cycle, oldest first."""
    newest = select(func.max(ScoreHistory.id)).group_by(ScoreHistory.assessment_id)
    with db.reading(url) as s:
        rows = s.execute(
            select(Assessment.product_id, ScoreHistory.overall_score)
            .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
            .where(ScoreHistory.id.in_(newest))
            .order_by(Assessment.cycle)
        ).all()
    scores: dict[int, list[float]] = {}
    for product, score in rows:
        scores.setdefault(product, []).append(score)
    return scores


def test_scores_move_both_ways_between_cycles(demo):
    moves = [
        b - a for series in _cycle_scores(demo).values() for a, b in itertools.pairwise(series)
    ]
    assert any(m > 5 for m in moves) and any(m < -5 for m in moves)


def test_a_corrected_resubmission_is_a_score_drop_that_needs_attention(demo):
    with db.reading(demo) as s:
        needing = attention(s, _actor(s, "analyst"), Filters())
    assert needing.counts["score_drop"] >= 1


def _timeline(url) -> dict[int, list[tuple[str, str]]]:
    with db.reading(url) as s:
        rows = s.execute(
            select(
                ProductStatus.assessment_id, ProductStatus.to_status, ProductStatus.note
            ).order_by(ProductStatus.id)
        ).all()
    steps: dict[int, list[tuple[str, str]]] = {}
    for aid, status, note in rows:
        steps.setdefault(aid, []).append((status, note))
    return steps


def test_a_change_request_loop_ends_in_approval_and_a_rejection_carries_its_note(demo):
    statuses = [[status for status, _ in steps] for steps in _timeline(demo).values()]
    assert any(
        "changes_requested" in s and s.count("submitted") == 2 and s[-1] == "approved"
        for s in statuses
    )
    rejections = [steps[-1][1] for steps in _timeline(demo).values() if steps[-1][0] == "rejected"]
    assert rejections and all(rejections)


def test_shared_and_internal_comments_and_evidence_exist(demo):
    with db.reading(demo) as s:
        kinds = set(s.scalars(select(LeadComment.visibility).distinct()))
        authors = set(
            s.scalars(select(User.role).join(LeadComment, LeadComment.author_id == User.id))
        )
    assert kinds == {"shared", "internal"} and authors == {"client", "lead_reviewer"}
    assert _count(demo, EvidenceFile) > 0


def test_every_write_went_through_the_audit_trail(demo):
    with db.reading(demo) as s:
        assert audit_chain.find_problem(s) is None
        actions = set(s.scalars(select(AuditLog.action).distinct()))
    assert {
        "assessment_started",
        "answers_saved",
        "evidence_added",
        "status_changed",
        "comment_added",
    } <= actions


def _actor(session, username) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    return Actor(user.id, user.username, user.role, user.organization_id)


@pytest.mark.parametrize("username", ["demo_client", "enterprise_client"])
def test_a_demo_client_sees_peers_on_its_most_used_questionnaire(demo, username):
    with db.reading(demo) as s:
        actor = _actor(s, username)
        most_used = peer_benchmarks.versions(s, actor)[0].id
        peers = peer_benchmarks.peer_distribution(s, actor, Filters(), most_used)
    assert peers.withheld is None
    assert len(peers.sections) > 1 and peers.sections["median"].notna().all()


# --------------------------------------------------------------------------- sign-in screen


def _sign_in_text(monkeypatch, url, data_dir, demo_password=None) -> str:
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", url)
    monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(data_dir))
    if demo_password:
        monkeypatch.setenv("SECURESPHERE_DEMO_PASSWORD", demo_password)
    else:
        monkeypatch.delenv("SECURESPHERE_DEMO_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    return " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.info))


def test_sign_in_names_demo_users_and_the_password_variable_never_the_password(
    demo_url, monkeypatch
):
    text = _sign_in_text(monkeypatch, demo_url[0], demo_url[1] / "data", DEMO_PASSWORD)
    assert all(f"`{name}`" in text for name in DEMO_USERS)
    assert "SECURESPHERE\\_DEMO\\_PASSWORD you set" in text and DEMO_PASSWORD not in text
    assert "README" not in text


def test_sign_in_points_to_the_password_file_never_its_contents(demo_url, monkeypatch, tmp_path):
    (tmp_path / PASSWORD_FILE).write_text("admin: a-secret-password-1\n")
    text = _sign_in_text(monkeypatch, demo_url[0], tmp_path)
    assert PASSWORD_FILE.replace("_", "\\_").replace(".", "\\.") in text
    assert "a-secret-password-1" not in text and all(f"`{name}`" in text for name in DEMO_USERS)


def test_sign_in_says_nothing_of_demo_accounts_in_a_real_deployment(
    sqlite_url, monkeypatch, tmp_path
):
    text = _sign_in_text(monkeypatch, sqlite_url, tmp_path)
    assert "Demo" not in text and "README" not in text and "demo_client" not in text
    assert "Security assessments" in text  # the screen itself did render


# --------------------------------------------------------------------------- run.sh


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.read() == b"ok"
    except OSError:
        return False


def test_run_sh_says_what_it_does_and_serves_on_securesphere_port(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "SECURESPHERE_PORT": str(port),
        "SECURESPHERE_ADDRESS": "127.0.0.1",
        "SECURESPHERE_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "SECURESPHERE_DATA_DIR": str(tmp_path / "data"),
        "SECURESPHERE_BCRYPT_ROUNDS": "4",
        "SECURESPHERE_DEMO_PASSWORD": DEMO_PASSWORD,
    }
    log = (tmp_path / "run.log").open("w+")
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _healthy(port) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        log.seek(0)
        out = log.read()
        assert _healthy(port), out
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
    steps = [
        out.index(word)
        for word in ("installing…", "initialising…", f"open http://127.0.0.1:{port}")
    ]
    assert steps == sorted(steps), out


def test_run_sh_refuses_a_port_that_is_not_a_number():
    done = subprocess.run(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "SECURESPHERE_PORT": "80a"},
        timeout=30,
    )
    assert done.returncode == 1 and "SECURESPHERE_PORT" in done.stderr and not done.stdout
