"""The dashboards' read model follows every action through core, on both engines: after random
sequences of actions the stored model equals one recomputed from the source tables, and the
check names what differs when it does not."""

from __future__ import annotations

from contextlib import suppress

from alembic import command
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from core import audit, db, migrate, read_model, review
from core.access import SYSTEM
from core.analytics import data_version
from core.assessments import start_next_cycle
from core.errors import SecureSphereError
from core.models import (
    Assessment,
    AssessmentSection,
    BenchmarkTotal,
    ScoreHistory,
    ScoreMonth,
    StatusRollup,
)
from core.read_model_check import check
from core.responses import save_answers
from core.settings import update_setting
from core.snapshots import recompute_scores
from core.submission import submit
from core.synthetic import seed_synthetic
from tests.clirun import run
from tests.factories import World

EXAMPLES = settings(
    max_examples=10,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ACTIONS = (
    "answer_some",
    "answer_all",
    "submit",
    "claim",
    "send_back",
    "approve",
    "reject",
    "next_cycle",
    "new_product",
    "bands",
    "recompute",
)


def _world(url: str, tmp_path) -> World:
    w = World(url, tmp_path / "files")
    for org in ("Acme Ltd", "Globex"):
        org_id = w.org(org)
        client = w.person("client", org_id, username=f"client-{org_id}")
        w.name(**{org: client})
        w.start(client, w.product(client, f"{org} Shop"))
    w.name(lead=w.person("lead_reviewer"), counter=0)
    return w


def _act(w: World, action: str, pick: int) -> None:
    """One action through core on the `pick`-th assessment; one refused by core changes
    nothing (its transaction rolls back whole)."""
    with db.reading(w.url) as s:
        rows = s.execute(
            select(Assessment.id, Assessment.organization_id).order_by(Assessment.id)
        ).all()
    aid, org_id = rows[pick % len(rows)]
    client = w["Acme Ltd"] if w["Acme Ltd"].organization_id == org_id else w["Globex"]
    lead = w["lead"]
    answers = w.demo_answers(quality=0.3 + (pick % 7) / 10, seed=pick)
    if action == "answer_all":  # with the evidence files the answers need
        w.answer(client, aid, answers, evidence=True)
        return
    with db.transaction(w.url) as s:
        if action == "answer_some":
            save_answers(s, client, aid, dict(list(answers.items())[: 3 + pick % 5]))
        elif action == "submit":
            submit(s, client, aid)
        elif action == "claim":
            review.claim(s, lead, aid)
        elif action == "send_back":
            review.request_changes(s, lead, aid, note="Please add the policy.")
        elif action in ("approve", "reject"):
            review.decide(s, lead, aid, "approved" if action == "approve" else "rejected")
        elif action == "next_cycle":
            start_next_cycle(s, client, aid)
        elif action == "bands":
            low = 50.0 + pick % 30
            update_setting(
                s, SYSTEM, "score_bands", [[low + 20, "Low"], [low, "Medium"], [low - 20, "High"]]
            )
        elif action == "recompute":
            recompute_scores(s, SYSTEM)
    if action == "new_product":
        w.name(counter=w["counter"] + 1)
        w.start(client, w.product(client, f"Product {w['counter']}"))


@EXAMPLES
@given(
    steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 20)), min_size=4, max_size=16)
)
def test_random_actions_keep_the_read_model_equal_to_the_source(new_db, tmp_path_factory, steps):
    w = _world(new_db(), tmp_path_factory.mktemp("world"))
    for action, pick in [("answer_all", 0), ("submit", 0), *steps]:
        with suppress(SecureSphereError):  # not possible in this state: refused, nothing written
            _act(w, action, pick)
    with db.reading(w.url) as s:
        found = check(s)
        snapshots = s.scalar(select(func.count()).select_from(ScoreHistory))
        rollups = s.scalar(select(func.sum(StatusRollup.assessments)))
        active = s.scalar(select(func.count()).where(Assessment.is_active))
    assert found.differences == [], (steps, found.differences[:5])
    assert rollups == active  # not vacuous: the roll-ups hold every active assessment
    assert snapshots > 0


def test_a_full_cycle_fills_every_part_and_the_check_names_what_differs(db_url, tmp_path, capsys):
    w = _world(db_url, tmp_path)
    for action in ("answer_all", "submit", "claim", "approve", "next_cycle"):
        _act(w, action, 0)
    _act(w, "answer_some", 2)  # the new cycle
    with db.reading(db_url) as s:
        assert check(s).differences == []
        assert s.scalar(select(func.count()).select_from(AssessmentSection)) > 0
        assert s.scalar(select(func.count()).select_from(ScoreMonth)) > 0
        first = s.scalar(select(func.min(Assessment.id)))
        benchmark = s.scalar(select(Assessment.is_benchmark).where(Assessment.id == first))
    assert benchmark  # approved, scored; the next cycle is not scored yet
    code, out, _ = run(capsys, "analytics-verify", "--url", db_url)
    assert code == 0 and "read model matches the source tables" in out
    with db.transaction(db_url) as s:  # damage it the way a write around core would
        s.execute(update(StatusRollup).values(assessments=StatusRollup.assessments + 1))
        s.execute(delete(AssessmentSection).where(AssessmentSection.assessment_id == first))
        s.execute(update(Assessment).where(Assessment.id == first).values(is_benchmark=False))
    code, out, err = run(capsys, "analytics-verify", "--url", db_url)
    assert code != 0
    assert "status_rollups" in out and "assessment_sections" in out
    assert f"assessment {first}: is_benchmark is False, the source gives True" in out
    assert "differs from the source tables" in err
    with db.transaction(db_url) as s:
        read_model.rebuild(s)
    with db.reading(db_url) as s:
        assert check(s).differences == []


def test_a_page_load_that_resumes_a_session_leaves_the_cached_dashboards_valid(db_url):
    with db.reading(db_url) as s:
        before = data_version(s)
    with db.transaction(db_url) as s:
        audit.record(s, SYSTEM, "session_resumed", object_type="user", object_id=1)
    with db.reading(db_url) as s:
        assert data_version(s) == before
    with db.transaction(db_url) as s:
        audit.record(s, SYSTEM, "settings_changed", object_type="setting")
    with db.reading(db_url) as s:
        assert data_version(s) > before


def test_the_migration_builds_the_read_model_for_existing_data(db_url):
    seed_synthetic(db_url, products=12, questions=10, organizations=4)
    with db.reading(db_url) as s:
        built = {t.__tablename__: _rows(s, t) for t in (StatusRollup, ScoreMonth, BenchmarkTotal)}
    with db.get_engine(db_url).begin() as connection:
        command.downgrade(migrate._config(connection), "0008")  # the read model is gone
    migrate.upgrade(db_url)
    with db.reading(db_url) as s:
        assert check(s).differences == []
        again = {t.__tablename__: _rows(s, t) for t in (StatusRollup, ScoreMonth, BenchmarkTotal)}
    assert again == built and all(built.values())


def _rows(session, table) -> list:
    return sorted(tuple(r) for r in session.execute(select(*table.__table__.columns)))
