"""Saved score plans (core/plans.py) on SQLite and PostgreSQL: who may read, save and clear them,
that a plan never changes an answer or a snapshot, planned answers checked like answers with
nothing written on a refusal; the organisation's target; question efforts in the bank format and
the store; the next cycle started from a plan; and the plan in the assessment report."""

from __future__ import annotations

import pytest
from sqlalchemy import Text, cast, func, select

from core import db
from core.access import SYSTEM
from core.assessments import start_next_cycle
from core.banks import dump_bank, load_bank_text
from core.banks.store import import_bank, load_bank
from core.errors import AccessDenied, ValidationError
from core.models import AssessmentPlan, AuditLog, QuestionnaireResponse, ScoreHistory
from core.organizations import score_target, set_score_target
from core.planner import candidates, parse_target
from core.plans import clear_plan, load_plan, planner_start, save_plan
from core.report_assessment import assessment_report_pdf
from core.report_charts import ChartRenderer
from core.responses import answer_details
from core.scoring import Answer
from tests.factories import World
from tests.support.pdf import flat, read


@pytest.fixture
def world(db_url, tmp_path):
    w = World(db_url, tmp_path)
    acme, rival = w.org("Acme Ltd"), w.org("Rival plc")
    w.name(
        acme=acme,
        client=w.person("client", acme),
        rival=w.person("client", rival),
        reviewer=w.person("lead_reviewer"),
        admin=w.person("admin"),
        analyst=w.person("analyst"),
    )
    aid = w.submit(w["client"], w.answered(w["client"], w.product(w["client"])))
    w.decide(w["reviewer"], aid)
    answers = w.demo_answers(0.7, 7)
    w.name(aid=aid, weak=w.weak_key({k: a.value for k, a in answers.items()}))
    return w


def _stored(url) -> tuple[list[tuple], list[tuple]]:
    """Every answer and snapshot row, every column as the database's own text."""
    with db.reading(url) as s:
        return tuple(
            [tuple(r) for r in s.execute(select(*[cast(c, Text) for c in m.__table__.columns]))]
            for m in (QuestionnaireResponse, ScoreHistory)
        )


def _audits(url, action) -> int:
    with db.reading(url) as s:
        return s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == action))


def _save(world, actor, planned, target="Low"):
    with db.transaction(world.url) as s:
        return save_plan(s, actor, world["aid"], planned, target)


def test_a_plan_is_saved_loaded_and_cleared_without_touching_answers_or_snapshots(world):
    aid, weak = world["aid"], world["weak"]
    before = _stored(world.url)
    saved = _save(world, world["client"], {weak: Answer("yes")}, 85)
    assert saved.planned == {weak: Answer("yes")} and saved.target == 85.0
    _save(world, world["client"], {weak: Answer("partial")}, "Medium")  # replaces it
    for reader in ("client", "analyst", "reviewer", "admin"):
        with db.reading(world.url) as s:
            plan = load_plan(s, world[reader], aid)
        assert plan.planned == {weak: Answer("partial")} and plan.target == "Medium"
    with db.reading(world.url) as s:
        start = planner_start(s, world["client"], aid)
        assert start.target == "Medium" and start.may_save
        assert not planner_start(s, world["analyst"], aid).may_save
    assert _stored(world.url) == before  # no answer and no snapshot changed
    assert _audits(world.url, "score_plan_saved") == 2
    with db.transaction(world.url) as s:
        assert clear_plan(s, world["client"], aid) is True
        assert clear_plan(s, world["client"], aid) is False
        assert load_plan(s, world["client"], aid) is None
    assert _audits(world.url, "score_plan_cleared") == 1
    assert _stored(world.url) == before


def test_only_planners_on_assessments_they_may_read_save_or_clear(world):
    aid, planned = world["aid"], {world["weak"]: Answer("yes")}
    _save(world, world["reviewer"], planned)  # a lead reviewer may plan
    _save(world, world["admin"], planned)
    for who in ("rival", "analyst"):
        with pytest.raises(AccessDenied), db.transaction(world.url) as s:
            save_plan(s, world[who], aid, planned, "Low")
        with pytest.raises(AccessDenied), db.transaction(world.url) as s:
            clear_plan(s, world[who], aid)
    with pytest.raises(AccessDenied), db.reading(world.url) as s:
        load_plan(s, world["rival"], aid)  # another organisation's plan is never read
    with pytest.raises(AccessDenied), db.reading(world.url) as s:
        planner_start(s, world["rival"], aid)
    with db.reading(world.url) as s:
        assert load_plan(s, SYSTEM, aid).planned == planned


def _hidden_key(bank, stored):
    """A question hidden by the stored answers (its condition's question answered otherwise)."""
    for q in bank.questions:
        if q.condition and q.options and stored.get(q.condition.question) is not None:
            answer = stored[q.condition.question]
            if answer.value not in q.condition.values:
                return q.key
    return None


def test_bad_planned_answers_are_refused_with_nothing_written(world):
    weak = world["weak"]
    no_na = next(q.key for q in world.bank.questions if q.options and not q.allow_na)
    cases = [
        ({"no-such-question": Answer("yes")}, "Low", "not in this questionnaire"),
        ({weak: Answer("maybe")}, "Low", weak),
        ({no_na: Answer(is_na=True)}, "Low", "cannot be answered N/A"),
        ({weak: Answer()}, "Low", "needs a value or N/A"),
        ({}, "Low", "at least one planned answer"),
        ({weak: Answer("yes")}, "Best", "Low, Medium or High band"),
        ({weak: Answer("yes")}, 101, "score from 0 to 100"),
    ]
    with db.reading(world.url) as s:
        stored = {k: a.answer for k, a in answer_details(s, SYSTEM, world["aid"]).items()}
    hidden = _hidden_key(world.bank, stored)
    if hidden:
        cases.append(
            ({hidden: Answer(world.bank.question(hidden).options[0].key)}, "Low", "hidden")
        )
    for planned, target, message in cases:
        with pytest.raises(ValidationError, match=message), db.transaction(world.url) as s:
            save_plan(s, world["client"], world["aid"], planned, target)
    with db.reading(world.url) as s:
        assert s.scalar(select(func.count()).select_from(AssessmentPlan)) == 0
    assert _audits(world.url, "score_plan_saved") == 0


def test_the_organisation_target_is_validated_audited_and_admins_only(world):
    acme = world["acme"]
    with db.reading(world.url) as s:
        assert score_target(s, world["client"], acme) == "Low"  # the default
    for given, read_back in ((72.5, 72.5), ("High", "High"), (80, 80.0), (None, "Low")):
        with db.transaction(world.url) as s:
            set_score_target(s, world["admin"], acme, given)
        with db.reading(world.url) as s:
            assert score_target(s, world["client"], acme) == read_back
    assert _audits(world.url, "organization_updated") == 4
    for bad in ("Best", "Critical", 101, -1, True, "eighty"):
        with (
            pytest.raises(ValidationError, match="Low, Medium or High"),
            db.transaction(world.url) as s,
        ):
            set_score_target(s, world["admin"], acme, bad)
    for who in ("client", "reviewer", "analyst"):
        with pytest.raises(AccessDenied), db.transaction(world.url) as s:
            set_score_target(s, world[who], acme, "Medium")
    with db.transaction(world.url) as s:
        set_score_target(s, world["admin"], acme, "Medium")
    with db.reading(world.url) as s:  # the planner starts from it while no plan is saved
        assert planner_start(s, world["client"], world["aid"]).target == "Medium"
    assert parse_target("80") == 80.0 and parse_target(" ") == "Low"


EFFORT_BANK = """
key: effort-demo
version: 1
title: Effort demo
sections:
  - key: s1
    title: One
    questions:
      - key: cheap
        text: Is it cheap
        type: yes_no
      - key: dear
        text: Is it dear
        type: yes_no
        effort: 7
"""


def test_question_efforts_are_read_kept_and_stored(world):
    bank = load_bank_text(EFFORT_BANK, source_name="effort.yaml")
    assert [q.effort for q in bank.questions] == [1, 7]
    assert "effort: 7" in dump_bank(bank) and dump_bank(bank).count("effort:") == 1
    assert load_bank_text(dump_bank(bank), source_name="again.yaml") == bank
    with db.transaction(world.url) as s:
        questionnaire, _ = import_bank(s, SYSTEM, bank)
        qid = questionnaire.id
    with db.reading(world.url) as s:
        assert load_bank(s, qid) == bank
    pool = candidates(bank, {"cheap": Answer("no"), "dear": Answer("no")})
    assert {c.key: c.effort for c in pool} == {"cheap": 1, "dear": 7}  # the planner uses them


@pytest.mark.parametrize("effort", ["0", "11", "2.5", "'3'", "true", "-1", "[2]"])
def test_a_bad_effort_is_refused_with_a_clear_sentence(effort):
    text = EFFORT_BANK.replace("effort: 7", f"effort: {effort}")
    with pytest.raises(ValidationError, match="'effort' must be a whole number from 1 to 10"):
        load_bank_text(text, source_name="effort.yaml")


def test_the_next_cycle_starts_from_the_saved_plan_on_request(world):
    aid, weak = world["aid"], world["weak"]
    with db.reading(world.url) as s:
        last = answer_details(s, SYSTEM, aid)
    with pytest.raises(ValidationError, match="no saved plan"), db.transaction(world.url) as s:
        start_next_cycle(s, world["client"], aid, from_plan=True)
    _save(world, world["client"], {weak: Answer("yes")})
    with db.transaction(world.url) as s:
        fresh = start_next_cycle(s, world["client"], aid, from_plan=True).id
        now = answer_details(s, world["client"], fresh)
    assert now[weak].value == "yes" and now[weak].justification == last[weak].justification
    assert {k: a.answer for k, a in now.items() if k != weak} == {
        k: a.answer for k, a in last.items() if k != weak
    }
    assert now[weak].score == 1.0  # saved through save_answers: scored like any answer
    with db.reading(world.url) as s:
        assert load_plan(s, SYSTEM, aid) is not None  # the plan stays with its assessment


def test_without_the_option_the_plan_is_left_out(world):
    aid, weak = world["aid"], world["weak"]
    _save(world, world["client"], {weak: Answer("yes")})
    with db.transaction(world.url) as s:
        fresh = start_next_cycle(s, world["client"], aid).id
        assert answer_details(s, SYSTEM, fresh)[weak].value != "yes"


def _report(world, aid, tmp_path):
    renderer = ChartRenderer(path=str(tmp_path / "no-chromium"))  # tables only: quicker
    with db.reading(world.url) as s:
        return read(assessment_report_pdf(s, world["client"], aid, renderer=renderer))


def test_the_report_shows_the_saved_plan(world, tmp_path):
    aid, weak = world["aid"], world["weak"]
    assert "Saved plan for the next cycle" not in _report(world, aid, tmp_path).words
    saved = _save(world, world["client"], {weak: Answer("yes")}, "Medium")
    report = _report(world, aid, tmp_path)
    words = report.words
    assert "Saved plan for the next cycle" in words
    assert "Target Medium risk band" in words and "Projected overall score" in words
    assert f"by {saved.updated_by}" in words
    text = world.bank.question(weak).text
    part = report.flat[report.flat.index("Savedplanforthenextcycle") :]
    assert weak in part and flat(text)[:20] in part and "NowPlannedPoints" in part
