"""The assessment report read back with pypdf: its figures are core's, a client's copy holds no
internal note and no other organisation, nobody gets one they may not read, and the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import db
from core.access import SYSTEM
from core.comments import list_comments
from core.errors import AccessDenied, NotFound
from core.evidence import list_evidence
from core.explain import score_explanation
from core.labels import format_datetime, format_score, status_label
from core.models import AuditLog
from core.report_assessment import assessment_report_pdf
from core.report_charts import RENDERER
from core.setting_labels import setting_value
from core.settings import update_setting
from core.timelines import status_history
from core.version import VERSION
from tests.clirun import run
from tests.factories import World
from tests.support import report_world
from tests.support.pdf import Report, flat, page_numbers, read, word_problems
from tests.support.report_world import DECISION_NOTE, INTERNAL, NOW, OTHER_ORG, SHARED


@pytest.fixture(scope="module")
def world(tmp_path_factory, sqlite_template):
    w = report_world.build(tmp_path_factory.mktemp("reports"), sqlite_template)
    yield w
    RENDERER.close()
    db.dispose_all()


def report_of(world, aid: int, actor=SYSTEM) -> Report:
    with db.reading(world.url) as s:
        return read(assessment_report_pdf(s, actor, aid, now=NOW))


def user_text(world) -> list[str]:
    """What users typed (names, comments, file names): checked as typed, not as our words."""
    with db.reading(world.url) as s:
        files = [f.filename for aid in world["ids"].values() for f in list_evidence(s, SYSTEM, aid)]
    return [*files, "Acme Ltd", "carla.client", "Carla.Client", "Lee.Reviewer", "Web Shop"]


@pytest.mark.parametrize(
    "status",
    [
        "not_started",
        "in_progress",
        "submitted",
        "under_review",
        "changes_requested",
        "approved",
        "rejected",
    ],
)
def test_a_report_of_every_status_names_it_and_numbers_its_pages(world, status):
    aid = world["ids"][status]
    report = report_of(world, aid)
    numbers = page_numbers(report)
    assert numbers == [(i + 1, len(report.pages)) for i in range(len(report.pages))]
    for text in report.pages:
        assert f"SecureSphere {VERSION}" in text and format_datetime(NOW) in " ".join(text.split())
    assert f"Status {status_label(status)}" in report.words
    assert "SecureSphere Product Security Baseline, version 1" in report.words
    assert word_problems(report.words, user_text(world)) == {}
    if status == "not_started":
        assert len(report.pages) == 1
        assert "Nothing answered yet" in report.words and "Score per section" not in report.words
    else:
        assert "Method" in report.words and "Evidence index" in report.words


def test_the_figures_are_those_core_explains(world):
    aid = world["ids"]["approved"]
    report = report_of(world, aid)
    with db.reading(world.url) as s:
        ex = score_explanation(s, SYSTEM, aid)
        history = status_history(s, SYSTEM, aid)
        files = list_evidence(s, SYSTEM, aid)
    r = ex.result
    assert f"{format_score(r.overall)} Overall score (0-100)" in report.words
    assert f"{r.band} risk" in report.words and f"{r.answered} of {r.total}" in report.words
    for row in ex.sections.itertuples():
        assert flat(f"{row.section}{format_score(row.score)}{row.weight:g}{row.answered}") in (
            report.flat
        )
    assert not ex.lost.empty
    for row in ex.lost.itertuples():  # key, text, section, answer, answer score, points lost
        cells = f"{row.question}{row.text}{row.section}"
        assert flat(cells) in report.flat
        assert flat(f"{format_score(row.score, scale=100)}{row.points_lost:.2f}") in report.flat
    # the decision repeats the resubmission's scores: what moved is read from the change request
    sent_back = next(snap for snap in ex.snapshots if snap.trigger == "changes_requested")
    with db.reading(world.url) as s:
        moved = score_explanation(s, SYSTEM, aid, before_id=sent_back.id)
    assert not moved.movement.empty and moved.after == ex.latest
    assert flat(f"From {sent_back.label} to {ex.latest.label}") in report.flat
    assert "1 snapshot in between recorded the same scores." in report.words
    for row in moved.movement.iloc[:25].itertuples():
        assert flat(f"{row.question}{row.text}") in report.flat
        assert flat(f"{format_score(row.after, scale=100)}{row.change:+.2f}") in report.flat
    decision = history[-1]
    assert f"Approved on {format_datetime(decision.time)} by {decision.by}" in report.words
    assert f"Decision note {DECISION_NOTE}" in report.words
    for f in files:
        assert flat(f"{f.filename}{f.question_key}{f.size_bytes:,}bytes{f.sha256}") in report.flat
    assert f"{len(files)} files, {sum(f.size_bytes for f in files):,} bytes in all" in report.words
    assert f"formula version {r.formula_version}" in report.words
    assert setting_value("score_bands", [[lo, name] for lo, name in ex.bands]) in report.words


def test_a_failed_critical_question_is_named_with_its_answer(world):
    aid = world["ids"]["rejected"]  # answered at quality 0.3: critical questions fail
    with db.reading(world.url) as s:
        ex = score_explanation(s, SYSTEM, aid)
    assert ex.result.failed_critical
    report = report_of(world, aid)
    assert "A critical question scoring below 50 holds the band at High risk" in report.words
    failed = report.flat[report.flat.index("Failedcriticalquestions") :]
    for key in ex.result.failed_critical:
        assert flat(f"{key}{ex.bank.question(key).text}") in failed


@pytest.mark.parametrize("reader", ["client", "reviewer", "admin"])
def test_no_copy_holds_an_internal_note_or_another_organisation(world, reader):
    aid = world["ids"]["approved"]
    report = report_of(world, aid, world[reader])
    with db.reading(world.url) as s:
        comments = list_comments(s, world["reviewer"], aid)
    assert any(c.visibility == "internal" for c in comments)  # it exists, and stays out
    assert flat(INTERNAL) not in report.flat and OTHER_ORG not in report.words
    for c in comments:
        assert (flat(c.body) in report.flat) is (c.visibility == "shared"), c.body
    assert flat(SHARED) in report.flat  # the change request's comment on the flagged answer
    assert "Reply: Thank you, we added the signed copy." in report.words


def test_nobody_gets_a_report_of_an_assessment_they_may_not_read(world):
    with db.reading(world.url) as s:
        with pytest.raises(AccessDenied):
            assessment_report_pdf(s, world["rival"], world["ids"]["approved"])
        with pytest.raises(AccessDenied):
            assessment_report_pdf(s, world["client"], world["rival_assessment"])
        with pytest.raises(NotFound):
            assessment_report_pdf(s, SYSTEM, 999_999)
    with db.transaction(world.url) as s:
        update_setting(s, SYSTEM, "reviewer_visibility", "assigned")
    try:
        with db.reading(world.url) as s, pytest.raises(AccessDenied):
            assessment_report_pdf(s, world["reviewer"], world["rival_assessment"])
    finally:
        with db.transaction(world.url) as s:
            update_setting(s, SYSTEM, "reviewer_visibility", "all")


@pytest.fixture
def cli_env(world, monkeypatch, tmp_path):
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", world.url)
    monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(world.data_dir))
    return tmp_path


def test_the_command_writes_what_the_user_may_see(world, cli_env, capsys):
    aid, out = world["ids"]["approved"], cli_env / "report.pdf"
    code, stdout, stderr = run(
        capsys, "report", "assessment", str(aid), "--out", str(out), "--as", "carla.client"
    )
    assert code == 0, stderr
    assert str(out) in stdout
    report = read(out.read_bytes())
    assert "Web Shop" in report.words and flat(INTERNAL) not in report.flat


def test_the_command_refuses_as_core_does_and_audits_it(world, cli_env, capsys):
    out = cli_env / "refused.pdf"
    aid = world["ids"]["approved"]
    code, _, stderr = run(
        capsys, "report", "assessment", str(aid), "--out", str(out), "--as", "zed.client"
    )
    assert code == 1 and stderr == "error: You do not have access to this assessment.\n"
    assert not out.exists()
    with db.reading(world.url) as s:
        last = s.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).one()
    assert (last.action, last.object_type, last.object_id) == (
        "access_denied",
        "report",
        f"assessment {aid}",
    )
    assert last.actor_id == world["rival"].user_id
    code, _, stderr = run(
        capsys, "report", "assessment", str(aid), "--out", str(out), "--as", "nobody"
    )
    assert code == 1 and "no active user 'nobody'" in stderr


def test_the_report_reads_alike_on_each_engine(db_url, tmp_path):
    w = World(db_url, tmp_path)
    org = w.org("Acme Ltd")
    client, reviewer = w.person("client", org), w.person("lead_reviewer")
    aid = w.submit(client, w.answered(client, w.product(client, "Web Shop")))
    w.comment(reviewer, aid, SHARED)
    w.decide(reviewer, aid)
    with db.reading(db_url) as s:
        ex = score_explanation(s, client, aid)
        files = list_evidence(s, client, aid)
        report = read(assessment_report_pdf(s, client, aid, now=NOW))
    assert f"{format_score(ex.result.overall)} Overall score (0-100)" in report.words
    assert flat(SHARED) in report.flat and files
    for f in files:
        assert flat(f"{f.filename}{f.question_key}{f.size_bytes:,}bytes{f.sha256}") in report.flat
