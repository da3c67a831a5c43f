"""Score snapshots, recompute and explanations through core, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import Text, cast, func, select, update

from core import db, responses, review, settings, snapshots, submission
from core.access import SYSTEM
from core.cli import main
from core.errors import AccessDenied, NotFound
from core.explain import NO_QUESTION_SCORES, score_explanation
from core.models import Assessment, AuditLog, ProductStatus, ScoreHistory
from tests.factories import World

TOL = 1e-9
HIGH_BANDS = [[99.0, "Low"], [98.0, "Medium"], [97.0, "High"]]


@pytest.fixture
def world(db_url, tmp_path):
    w = World(db_url, tmp_path)
    acme, rival = w.org("Acme Ltd"), w.org("Rival plc")
    w.name(
        client=w.person("client", acme),
        rival=w.person("client", rival),
        reviewer=w.person("lead_reviewer"),
        admin=w.person("admin"),
        analyst=w.person("analyst"),
    )
    w.name(product=w.product(w["client"]))
    return w


def _start(world, product=None) -> int:
    return world.start(world["client"], product or world["product"])


def _answered(world, quality=0.7, product=None) -> int:
    """A new assessment with a complete set of answers and the evidence they need."""
    return world.answered(world["client"], product or world["product"], quality, seed=7)


def _submitted(world, quality=0.7, product=None) -> int:
    return world.submit(world["client"], _answered(world, quality, product))


def _raw_history(url) -> list[tuple]:
    """Every score_history row, every column as the database's own text."""
    columns = ScoreHistory.__table__.columns
    with db.reading(url) as s:
        return [
            tuple(r)
            for r in s.execute(select(*[cast(c, Text) for c in columns]).order_by(ScoreHistory.id))
        ]


def _count(url, model, **where) -> int:
    with db.reading(url) as s:
        return s.scalar(select(func.count()).select_from(model).filter_by(**where))


# --------------------------------------------------------------------------- snapshots


def _request_changes(world, aid) -> str:
    """Flag one weak answer that no other question depends on and send back; returns its key."""
    with db.reading(world.url) as s:
        stored = responses.answer_details(s, world["reviewer"], aid)
    key = world.weak_key({k: v.value for k, v in stored.items()})
    world.send_back(world["reviewer"], aid, key, "Really?")
    return key


def _fix_and_resubmit(world, aid, key) -> None:
    world.answer(world["client"], aid, {key: responses.AnswerInput(value="yes")})
    world.submit(world["client"], aid)


def test_submit_and_each_decision_write_exactly_one_snapshot(world):
    url, reviewer = world.url, world["reviewer"]
    aid = _submitted(world)
    assert [r.trigger for r in world.snapshots(aid)] == ["submit"]
    key = _request_changes(world, aid)  # the claim in there writes none
    assert [r.trigger for r in world.snapshots(aid)] == ["submit", "changes_requested"]
    _fix_and_resubmit(world, aid, key)
    world.decide(reviewer, aid, "approved")
    rows = world.snapshots(aid)
    assert [r.trigger for r in rows] == ["submit", "changes_requested", "submit", "approve"]
    with db.reading(url) as s:
        assessment = s.get(Assessment, aid)
        triggers = s.scalars(
            select(AuditLog.detail).where(AuditLog.action == "score_snapshot")
        ).all()
    assert (assessment.latest_score, assessment.latest_band) == (
        rows[-1].overall_score,
        rows[-1].band,
    )
    assert [d["trigger"] for d in triggers] == [r.trigger for r in rows]


def test_a_snapshot_stores_question_scores_that_add_up_to_its_overall(world):
    row = world.snapshots(_submitted(world))[0]
    stored = row.question_scores
    assert abs(sum(stored["contributions"].values()) - row.overall_score) <= TOL
    assert set(stored["contributions"]) <= set(stored["scores"])
    assert all(v is None or 0.0 <= v <= 1.0 for v in stored["scores"].values())
    assert len(stored["scores"]) == row.total_count  # visible questions only
    assert row.settings_used["bands"] == [[80.0, "Low"], [60.0, "Medium"], [40.0, "High"]]


def test_a_failing_submit_leaves_neither_status_change_nor_snapshot(world, monkeypatch):
    url, aid = world.url, _answered(world)

    def broken(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(snapshots, "stored_scores", broken)
    with pytest.raises(RuntimeError), db.transaction(url) as s:
        submission.submit(s, world["client"], aid)
    with db.reading(url) as s:
        assert s.get(Assessment, aid).status == "in_progress"
    assert world.snapshots(aid) == []
    assert _count(url, ProductStatus, assessment_id=aid, to_status="submitted") == 0


def test_a_failing_decision_leaves_neither_status_change_nor_snapshot(world):
    url, reviewer, aid = world.url, world["reviewer"], _submitted(world)
    with db.transaction(url) as s:
        review.claim(s, reviewer, aid)
    with pytest.raises(RuntimeError), db.transaction(url) as s:
        review.decide(s, reviewer, aid, "approved")
        assert (
            len(s.scalars(select(ScoreHistory).where(ScoreHistory.assessment_id == aid)).all()) == 2
        )
        raise RuntimeError("the page crashed after the decision")
    with db.reading(url) as s:
        assert s.get(Assessment, aid).status == "under_review"
    assert [r.trigger for r in world.snapshots(aid)] == ["submit"]


# --------------------------------------------------------------------------- recompute


def _two_scored(world) -> tuple[int, int]:
    """A Medium-or-better assessment and a Critical one, both submitted."""
    good = _submitted(world, 0.7)
    weak = _submitted(world, 0.0, product=world.product(world["client"], "CRM"))
    rows = {aid: world.snapshots(aid)[-1] for aid in (good, weak)}
    assert (
        rows[good].band != "Critical" and rows[weak].overall_score < 40 <= rows[good].overall_score
    )
    return good, weak


def test_recompute_after_a_band_change_snapshots_only_what_changed(world):
    url, admin = world.url, world["admin"]
    good, weak = _two_scored(world)
    _start(world, world.product(world["client"], "Never submitted"))
    with db.transaction(url) as s:
        settings.update_setting(s, admin, "score_bands", HIGH_BANDS)
    before, audit_rows = _raw_history(url), _count(url, AuditLog)
    with db.transaction(url) as s:
        assert snapshots.recompute_scores(s, admin, dry_run=True) == snapshots.RecomputeReport(2, 1)
    assert _raw_history(url) == before and _count(url, AuditLog) == audit_rows
    with db.transaction(url) as s:
        assert snapshots.recompute_scores(s, admin) == snapshots.RecomputeReport(2, 1)
    after = _raw_history(url)
    assert after[: len(before)] == before  # old rows byte-for-byte identical
    new = world.snapshots(good)[-1]
    assert len(after) == len(before) + 1 and new.trigger == "recompute" and new.band == "Critical"
    assert new.settings_used["bands"] == HIGH_BANDS and new.question_scores is not None
    assert [r.trigger for r in world.snapshots(weak)] == ["submit"]
    with db.reading(url) as s:
        assert s.get(Assessment, good).latest_band == "Critical"
    with db.transaction(url) as s:
        assert snapshots.recompute_scores(s, admin) == snapshots.RecomputeReport(2, 0)
    assert _raw_history(url)[: len(after)] == after


@pytest.mark.parametrize("role", ["client", "reviewer", "analyst"])
def test_recompute_is_for_admins_only(world, role):
    url = world.url
    _submitted(world)
    with db.transaction(url) as s:
        settings.update_setting(s, world["admin"], "score_bands", HIGH_BANDS)
    with pytest.raises(AccessDenied), db.transaction(url) as s:
        snapshots.recompute_scores(s, world[role])
    assert _count(url, ScoreHistory, trigger="recompute") == 0


def test_cli_recompute_scores(world, env, capsys):
    url = world.url
    env(url)
    _submitted(world)
    with db.transaction(url) as s:
        settings.update_setting(s, SYSTEM, "score_bands", HIGH_BANDS)
    assert main(["recompute-scores", "--dry-run"]) == 0
    assert "1 changed (dry run" in capsys.readouterr().out
    assert _count(url, ScoreHistory, trigger="recompute") == 0
    assert main(["recompute-scores"]) == 0
    assert _count(url, ScoreHistory, trigger="recompute") == 1
    assert main(["recompute-scores"]) == 0
    assert "0 changed" in capsys.readouterr().out.splitlines()[-1]


# --------------------------------------------------------------------------- explanation


def _resubmitted_after_changes(world) -> int:
    aid = _submitted(world, 0.5)
    _fix_and_resubmit(world, aid, _request_changes(world, aid))
    return aid


def test_explanation_defaults_to_previous_and_latest_and_explains_the_move(world):
    url, aid = world.url, _resubmitted_after_changes(world)
    with db.reading(url) as s:
        ex = score_explanation(s, world["client"], aid)
    assert [x.trigger for x in ex.snapshots] == ["submit", "changes_requested", "submit"]
    assert ex.before.trigger == "changes_requested" and ex.after is ex.latest
    moved = ex.movement
    assert len(moved) >= 1 and moved.iloc[0]["after"] == 1.0
    assert abs(moved["change"].sum() - (ex.after.overall - ex.before.overall)) <= TOL
    assert not ex.recorded_differs and ex.movement_note is None
    first, last = ex.snapshots[0].id, ex.snapshots[-1].id
    with db.reading(url) as s:
        picked = score_explanation(s, world["client"], aid, before_id=first, after_id=last)
    assert (picked.before.id, picked.after.id) == (first, last)


def test_explanation_says_when_old_snapshots_cannot_be_broken_down(world):
    url, aid = world.url, _resubmitted_after_changes(world)
    with db.transaction(url) as s:  # as a row written before revision 0003 would be
        s.execute(
            update(ScoreHistory)
            .where(ScoreHistory.assessment_id == aid)
            .values(question_scores=None)
        )
    with db.reading(url) as s:
        ex = score_explanation(s, world["admin"], aid)
    assert ex.movement.empty and ex.movement_note == NO_QUESTION_SCORES


def test_explanation_of_an_unsubmitted_assessment_is_live(world):
    url, aid = world.url, _answered(world)
    with db.reading(url) as s:
        ex = score_explanation(s, world["client"], aid)
    assert ex.latest is None and ex.snapshots == [] and ex.result.overall is not None
    assert ex.movement.empty and "No snapshot yet" in ex.movement_note
    with db.reading(url) as s:
        empty = score_explanation(
            s, world["client"], _start(world, world.product(world["client"], "New"))
        )
    assert empty.result.overall is None and empty.lost.empty


def test_explanation_is_access_checked(world):
    url, aid = world.url, _submitted(world)
    other = _submitted(world, product=world.product(world["client"], "Other product"))
    with db.reading(url) as s, pytest.raises(AccessDenied):
        score_explanation(s, world["rival"], aid)
    foreign = world.snapshots(other)[0].id
    with db.reading(url) as s, pytest.raises(NotFound):
        score_explanation(s, world["client"], aid, before_id=foreign)
