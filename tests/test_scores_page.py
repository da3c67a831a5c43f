"""The scores page through AppTest on the demo database."""

import json

import pytest
from sqlalchemy import func, select

from core import auth, db, organizations, settings
from core.access import SYSTEM
from core.explain import score_explanation
from core.models import (
    Assessment,
    AssessmentPlan,
    Organization,
    Product,
    QuestionnaireResponse,
    ScoreHistory,
    User,
)
from core.planner import best_answer, candidates
from core.plans import load_plan, save_plan
from core.text import md_escape
from tests.apptest import rerun, signed_in

USERS = {
    "admin": "admin",
    "lead_reviewer": "lead_reviewer",
    "security_manager": "security_manager",
    "analyst": "analyst",
    "client": "demo_client",
}


def _assessment(url, product, cycle=1):
    with db.reading(url) as s:
        return s.scalar(
            select(Assessment.id)
            .join(Product, Product.id == Assessment.product_id)
            .where(Product.name == product, Assessment.cycle == cycle)
        )


def _open(url, username, assessment_id=None):
    at = signed_in(url, username).run()
    if assessment_id is not None:
        at.query_params["assessment"] = str(assessment_id)
    return at.switch_page("pages/scores.py").run()


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def _chart_types(at) -> list[list[str]]:
    return [
        [trace["type"] for trace in json.loads(c.proto.spec)["data"]]
        for c in at.get("plotly_chart")
    ]


@pytest.mark.parametrize("role", USERS)
def test_scores_page_runs_for_every_role(app_env, role):
    at = _open(app_env, USERS[role])
    assert not at.exception and not at.error
    assert at.title[0].value == "Scores"
    assert set(_metrics(at)) == {"Overall score", "Risk band", "Completion", "Snapshots"} | {
        "Projected score",  # the planner's, with nothing planned yet: the score as it stands
        "Projected band",
        "Distance to the target",
    }
    assert _metrics(at)["Projected score"] == _metrics(at)["Overall score"]
    assert bool([b for b in at.button if b.key == "recompute"]) is (role == "admin")


def test_a_client_sees_only_its_own_organisations_assessments(app_env):
    foreign = _assessment(app_env, "Payments Gateway")
    at = _open(app_env, "demo_client", foreign)  # a foreign id in the URL falls back to its own
    assert not at.exception and not at.error
    chosen = next(s for s in at.selectbox if s.label == "Assessment")
    with db.reading(app_env) as s:
        org = s.scalar(select(User.organization_id).where(User.username == "demo_client"))
        own = set(
            s.scalars(
                select(Product.name)
                .join(Assessment, Assessment.product_id == Product.id)
                .where(Assessment.organization_id == org, Assessment.is_active)
            )
        )
    assert {label.split(" · ")[0] for label in chosen.options} == own
    assert chosen.value != foreign and at.query_params["assessment"] != str(foreign)
    with db.reading(app_env) as s:
        theirs = set(
            s.scalars(
                select(Product.name).join(Organization).where(Organization.name == "Enterprise Inc")
            )
        )
    shown = " ".join(str(e.value) for e in (*at.markdown, *at.info, *at.caption, *at.selectbox))
    assert theirs and not any(name in shown for name in theirs)


def test_the_waterfall_explains_the_move_between_cycles(app_env):
    aid = _assessment(app_env, "Payments Gateway", cycle=3)
    at = _open(app_env, "analyst", aid)
    assert not at.exception and not at.error
    assert ["waterfall"] in _chart_types(at)
    changed = at.dataframe[-1].value
    assert {"question", "before", "after", "change"} <= set(changed.columns) and len(changed)
    with db.reading(app_env) as s:
        first = s.scalar(select(func.min(ScoreHistory.id)).where(ScoreHistory.assessment_id == aid))
    box = next(s for s in at.selectbox if s.label == "From snapshot")
    box.set_value(first)  # cycle 3 has one snapshot: from and to are now the same
    rerun(at)
    assert not at.exception and ["waterfall"] not in _chart_types(at)
    assert any("Pick two different snapshots" in i.value for i in at.info)


@pytest.mark.parametrize(
    "product, cycle, score",
    [("Internal HR System", 1, "No score yet"), ("Customer Portal", 2, None)],
)
def test_an_unsubmitted_assessment_shows_its_live_score(app_env, product, cycle, score):
    at = _open(app_env, "demo_client", _assessment(app_env, product, cycle))
    assert not at.exception and not at.error
    assert any("Not yet submitted" in i.value for i in at.info)
    shown = _metrics(at)["Overall score"]
    assert shown == score if score else float(shown) > 0


def test_admin_recomputes_scores_after_confirming(app_env):
    with db.transaction(app_env) as s:
        settings.update_setting(
            s, SYSTEM, "score_bands", [[95, "Low"], [90, "Medium"], [85, "High"]]
        )
    try:
        at = _open(app_env, "admin")
        assert not at.exception
        at.button(key="recompute").click()
        rerun(at)
        assert not at.exception and not at.error
        message = next(m.value for m in at.success if "changed" in m.value)
        with db.reading(app_env) as s:
            written = s.scalar(
                select(func.count())
                .select_from(ScoreHistory)
                .where(ScoreHistory.trigger == "recompute")
            )
        assert written > 0 and f": {written} changed" in message
    finally:
        with db.transaction(app_env) as s:
            settings.update_setting(s, SYSTEM, "score_bands", settings.DEFAULTS["score_bands"])


def test_failed_critical_controls_are_named_by_their_question_text(app_env):
    with db.reading(app_env) as s:
        failing = next(
            ex
            for aid in s.scalars(select(Assessment.id).order_by(Assessment.id))
            if (ex := score_explanation(s, SYSTEM, aid)).result.failed_critical
        )
    key = failing.result.failed_critical[0]
    at = _open(app_env, "admin", failing.assessment_id)
    warning = next(w.value for w in at.warning if "Critical controls failed" in w.value)
    for failed in failing.result.failed_critical:  # one line each, as the question reads
        assert f"\n- {md_escape(failing.bank.question(failed).text)}" in warning
    assert key not in warning.replace("\\", "")


def test_the_planner_projects_planned_answers_and_finds_the_cheapest_way(app_env):
    aid = _assessment(app_env, "Billing Service", cycle=3)  # approved, in the High band
    at = _open(app_env, "demo_client", aid)
    assert not at.exception
    with db.reading(app_env) as s:
        ex = score_explanation(s, SYSTEM, aid)
    before = _metrics(at)["Projected score"]
    picker = next(m for m in at.multiselect if m.label.startswith("Answers you plan"))
    top = max(candidates(ex.bank, ex.answers), key=lambda c: c.gain)
    picker.select(top.key)
    rerun(at)
    gained = float(_metrics(at)["Projected score"]) - float(before)
    assert gained == pytest.approx(top.gain, abs=0.06)  # as shown, to one decimal
    assert any("no cheaper set of changes reaches" in c.value for c in at.caption)
    plan = next(d for d in at.dataframe if "Planned" in d.value.columns)
    assert set(plan.value.columns) == {"Question", "Text", "Now", "Planned", "Points", "Effort"}
    sections = next(d for d in at.dataframe if "Projected score" in d.value.columns)
    assert (sections.value["Change"] != "No change").any()  # the planned answer's section moved
    assert (plan.value["Points"] > 0).all() and not plan.value["Now"].str.contains("None").any()
    with db.reading(app_env) as s:  # planning changed nothing stored
        again = score_explanation(s, SYSTEM, aid)
    assert again.result.overall == ex.result.overall and again.answers == ex.answers
    next(r for r in at.radio if r.label == "Target").set_value("A score")
    rerun(at)
    next(n for n in at.number_input if n.label == "Target score").set_value(100.0)
    rerun(at)
    assert not at.exception
    reached = any("reach this target" in w.value for w in at.warning) or any(
        "no cheaper set" in c.value for c in at.caption
    )
    assert reached


def _stored(url, aid):
    with db.reading(url) as s:
        answers = s.scalars(
            select(QuestionnaireResponse).where(QuestionnaireResponse.assessment_id == aid)
        ).all()
        snaps = s.scalars(select(ScoreHistory).where(ScoreHistory.assessment_id == aid)).all()
        return (
            sorted((r.question_id, repr(r.value), r.is_na, r.score) for r in answers),
            sorted((h.id, h.overall_score) for h in snaps),
        )


def test_a_client_saves_a_plan_sees_it_reloaded_and_clears_it(app_env):
    aid = _assessment(app_env, "Billing Service", cycle=3)
    with db.reading(app_env) as s:
        ex = score_explanation(s, SYSTEM, aid)
    before = _stored(app_env, aid)
    top = max(candidates(ex.bank, ex.answers), key=lambda c: c.gain)
    question = ex.bank.question(top.key)
    other = next(o.key for o in question.options if o.key != best_answer(question).value)
    at = _open(app_env, "demo_client", aid)
    next(m for m in at.multiselect if m.label.startswith("Answers you plan")).select(top.key)
    rerun(at)
    box = next(b for b in at.selectbox if b.label == "Planned answer")
    assert box.value == best_answer(question).value  # the best answer first
    box.set_value(other)  # a planned answer other than the best
    rerun(at)
    next(r for r in at.radio if r.label == "Target").set_value("Medium risk band")
    rerun(at)
    at.button(key=f"plan{aid}:save").click()
    rerun(at)
    assert not at.exception and not at.error
    with db.reading(app_env) as s:
        saved = load_plan(s, SYSTEM, aid)
    assert saved.target == "Medium" and set(saved.planned) == {top.key}
    assert saved.planned[top.key].value == other
    assert _stored(app_env, aid) == before  # saving a plan changed no answer and no snapshot

    again = _open(app_env, "demo_client", aid)  # a new session starts from the saved plan
    assert not again.exception and not again.error
    picker = next(m for m in again.multiselect if m.label.startswith("Answers you plan"))
    assert picker.value == [top.key]
    assert next(b for b in again.selectbox if b.label == "Planned answer").value == other
    assert next(r for r in again.radio if r.label == "Target").value == "Medium risk band"
    assert any("Saved plan: 1 planned answer aiming" in c.value for c in again.caption)

    again.button(key=f"plan{aid}:clear").click()  # inside the confirmation popover
    rerun(again)
    assert not again.exception and not again.error
    with db.reading(app_env) as s:
        assert s.get(AssessmentPlan, aid) is None
    assert _stored(app_env, aid) == before
    picker = next(m for m in again.multiselect if m.label.startswith("Answers you plan"))
    assert picker.value == []  # the widgets start afresh without a plan
    assert md_escape("Plan cleared.") in [
        m.value for m in again.success
    ]  # though its button is gone


def test_the_planner_starts_from_the_organisations_target(app_env):
    aid = _assessment(app_env, "Billing Service", cycle=3)
    with db.transaction(app_env) as s:
        org = s.get(Assessment, aid).organization_id
        organizations.set_score_target(s, SYSTEM, org, 72.5)
    try:
        at = _open(app_env, "demo_client", aid)
        assert next(r for r in at.radio if r.label == "Target").value == "A score"
        assert next(n for n in at.number_input if n.label == "Target score").value == 72.5
    finally:
        with db.transaction(app_env) as s:
            organizations.set_score_target(s, SYSTEM, org, None)


def test_the_next_cycle_starts_from_the_saved_plan_on_my_products(app_env):
    """Last in this module: it opens a new cycle of Billing Service."""
    aid = _assessment(app_env, "Billing Service", cycle=3)
    with db.transaction(app_env) as s:
        ex = score_explanation(s, SYSTEM, aid)
        top = max(candidates(ex.bank, ex.answers), key=lambda c: c.gain)
        client = auth.actor_for(s, "demo_client")
        save_plan(s, client, aid, {top.key: top.answer}, "Low")
    at = signed_in(app_env, "demo_client").run().switch_page("pages/client_home.py").run()
    assert not at.exception and not at.error
    pick = next(s for s in at.selectbox if s.label == "Start the next cycle of")
    pick.set_value(next(o for o in pick.options if "Billing Service" in o and "cycle 3" in o))
    rerun(at)
    next(c for c in at.checkbox if c.label == "Start from the saved plan").check()
    rerun(at)
    next(b for b in at.button if b.label == "New cycle").click()
    rerun(at)
    assert not at.exception and not at.error
    fresh = _assessment(app_env, "Billing Service", cycle=4)
    with db.reading(app_env) as s:
        answers = score_explanation(s, SYSTEM, fresh).answers
    assert answers[top.key] == top.answer

    def given(found):  # a blank stored answer counts nowhere and is not carried
        return {k: a for k, a in found.items() if k != top.key and (a.value is not None or a.is_na)}

    assert given(answers) == given(ex.answers)
