"""Assurance on the screens (issue 21): the share of a score's points at each level on the Scores
page, the portfolio's assured share on the Overview and the reviewer-accepted share filter of the
analytics pages; the chart function, the arithmetic and the scoping in core."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
import streamlit as st
from hypothesis import given
from hypothesis import strategies as st_h
from sqlalchemy import select, update

from core import db
from core.access import SYSTEM, Actor
from core.analytics import overview
from core.assurance import LEVEL_LABELS, LEVELS, Assurance, answer_levels
from core.assurance_charts import (
    COLOURS,
    assurance_figure,
    percent,
    percents,
    portfolio_assurance_figure,
)
from core.assurance_view import live_assurance, portfolio_assurance
from core.attention import attention
from core.errors import ValidationError
from core.explain import score_explanation
from core.filters import Filters, scope_rollup
from core.models import (
    Assessment,
    EvidenceFile,
    Product,
    Question,
    QuestionnaireResponse,
    StatusRollup,
    User,
    utcnow,
)
from core.report_portfolio import load_portfolio_report
from core.review import set_review_state
from core.section_heatmap import heatmap_frame
from core.synthetic import seed_synthetic
from core.trends import trend_frame
from tests.apptest import rerun, signed_in
from ui.assurance import shares_in_words

NOW = utcnow().replace(microsecond=0)


# -- the chart ------------------------------------------------------------------------------


def test_the_chart_stacks_the_four_levels_in_order_with_percentages():
    overall = {"self_attested": 40.0, "evidence": 10.0, "evidence_valid": 20.0, "accepted": 30.0}
    sections = {
        "a": {"self_attested": 0.0, "evidence": 0.0, "evidence_valid": 0.0, "accepted": 100.0},
        "b": None,  # no points: no bar
        "c": {"self_attested": 97.0, "evidence": 3.0, "evidence_valid": 0.0, "accepted": 0.0},
    }
    titles = {"a": "Governance <b>one</b>", "b": "Empty", "c": "Logging"}
    fig = assurance_figure(Assurance(overall, sections), titles)
    assert [t.name for t in fig.data] == [LEVEL_LABELS[level] for level in LEVELS]
    assert [t.marker.color for t in fig.data] == [COLOURS[level] for level in LEVELS]
    assert len({t.marker.color for t in fig.data}) == 4
    assert list(fig.data[0].y) == ["Overall score", "Governance &lt;b&gt;one&lt;/b&gt;", "Logging"]
    assert [list(t.x) for t in fig.data] == [
        [40.0, 0.0, 97.0],
        [10.0, 0.0, 3.0],
        [20.0, 0.0, 0.0],
        [30.0, 100.0, 0.0],
    ]
    assert list(fig.data[3].text) == ["30%", "100%", ""]  # a sliver carries no text
    assert list(fig.data[1].text) == ["10%", "", ""]
    assert fig.data[1].customdata[2] == "Logging: 3% of the points with evidence"
    assert fig.layout.barmode == "stack" and fig.layout.showlegend
    assert tuple(fig.layout.xaxis.range) == (0, 100)
    assert list(fig.layout.xaxis.ticktext) == ["0%", "20%", "40%", "60%", "80%", "100%"]


def test_the_portfolio_chart_splits_assured_points_and_keeps_the_colours():
    fig = portfolio_assurance_figure(
        {"not_assured": 55.0, "evidence_valid": 15.0, "accepted": 30.0}
    )
    assert [t.name for t in fig.data] == [
        "Self-attested or with evidence",
        "Evidence in date",
        "Reviewer-accepted",
    ]
    assert fig.data[2].marker.color == COLOURS["accepted"]
    assert [t.x[0] for t in fig.data] == [55.0, 15.0, 30.0]
    assert percent(0.2) == "under 1%" and percent(0) == "0%" and percent(99.6) == "100%"


@given(st_h.lists(st_h.integers(0, 10_000), min_size=4, max_size=4).filter(any))
def test_whole_percents_of_shares_add_up_to_100_and_stay_within_one(weights):
    shares = {level: 100 * w / sum(weights) for level, w in zip(LEVELS, weights, strict=True)}
    said = percents(shares, LEVELS)
    whole = {lv: 0 if w == "under 1%" else int(w.removesuffix("%")) for lv, w in said.items()}
    assert sum(whole.values()) == 100
    assert all(abs(whole[lv] - shares[lv]) < 1 for lv in LEVELS)
    assert all((said[lv] == "under 1%") == (whole[lv] == 0 < shares[lv]) for lv in LEVELS)


def test_rounded_alone_the_example_shares_would_say_101_percent():
    shares = {"accepted": 0.0, "evidence_valid": 11.6, "evidence": 13.7, "self_attested": 74.7}
    assert [percent(v) for v in shares.values()] == ["0%", "12%", "14%", "75%"]
    assert percents(shares, list(shares)) == {
        "accepted": "0%",
        "evidence_valid": "11%",
        "evidence": "14%",
        "self_attested": "75%",
    }


# -- the filter -----------------------------------------------------------------------------


@pytest.mark.parametrize("share", [0, 0.0, 35, 50.5, 100])
def test_the_accepted_share_filter_takes_a_percentage(share):
    assert Filters(min_accepted=share).min_accepted == share


@pytest.mark.parametrize("share", [-1, 100.5, "50", True, None, float("nan")])
def test_the_accepted_share_filter_refuses_anything_else(share):
    with pytest.raises(ValidationError, match="percentage from 0 to 100"):
        Filters(min_accepted=share)


def test_the_roll_ups_refuse_to_answer_a_filter_they_cannot_apply():
    with pytest.raises(ValueError):
        scope_rollup(select(StatusRollup.status), SYSTEM, Filters(min_accepted=10), StatusRollup)


# -- the arithmetic and the scope in core ---------------------------------------------------


@pytest.fixture
def shared(sqlite_url):
    """A small synthetic portfolio whose scored assessments carry known shares (a few none)."""
    seed_synthetic(sqlite_url, products=14, questions=10, organizations=4, seed=5, now=NOW)
    rng = random.Random(5)
    with db.transaction(sqlite_url) as s:
        for aid in s.scalars(select(Assessment.id).where(Assessment.latest_score.is_not(None))):
            if rng.random() < 0.2:
                continue
            accepted = rng.choice((0.0, 25.0, 49.99999999, 50.0, 80.0, 100.0))
            s.execute(
                update(Assessment)
                .where(Assessment.id == aid)
                .values(accepted_share=accepted, assured_share=min(100.0, accepted + 15))
            )
    return sqlite_url


def _rows(s, org=None, least=0.0):
    stmt = select(
        Assessment.latest_score, Assessment.assured_share, Assessment.accepted_share
    ).where(Assessment.is_active)
    if org is not None:
        stmt = stmt.where(Assessment.organization_id == org)
    rows = [r for r in s.execute(stmt) if None not in r]
    return [r for r in rows if r[2] >= least - 1e-6]


def _reference(rows):
    points = sum(score for score, _, _ in rows)
    return (
        len(rows),
        sum(score * assured for score, assured, _ in rows) / points,
        sum(score * accepted for score, _, accepted in rows) / points,
    )


def _orgs(s) -> list[int]:
    return sorted(set(s.scalars(select(Assessment.organization_id).where(Assessment.is_active))))


def test_the_portfolio_share_is_weighted_by_points(shared):
    with db.reading(shared) as s:
        got = portfolio_assurance(s, SYSTEM, Filters())
        count, assured, accepted = _reference(_rows(s))
        least = portfolio_assurance(s, SYSTEM, Filters(min_accepted=50))
        narrowed = _reference(_rows(s, least=50))
    assert got.assessments == count and count > 5
    assert got.assured == pytest.approx(assured) and got.accepted == pytest.approx(accepted)
    assert got.shares["accepted"] + got.shares["evidence_valid"] == pytest.approx(assured)
    assert sum(got.shares.values()) == pytest.approx(100)
    assert least.assessments == narrowed[0] < count
    assert least.accepted == pytest.approx(narrowed[2]) and least.accepted >= 50 - 1e-6


def test_a_client_sees_only_its_own_organisations_share(shared):
    with db.reading(shared) as s:
        mine, theirs = _orgs(s)[:2]
    client = Actor(None, "client", "client", mine)
    with db.reading(shared) as s:
        before = portfolio_assurance(s, client, Filters())
        asked = portfolio_assurance(s, client, Filters(organization_id=theirs))
        assert (before.assessments, before.assured) == (
            len(_rows(s, mine)),
            pytest.approx(_reference(_rows(s, mine))[1]),
        )
    assert asked.assessments == 0 and asked.assured is None and asked.shares is None
    with db.transaction(shared) as s:  # another organisation's shares move; a client's do not
        s.execute(
            update(Assessment)
            .where(Assessment.organization_id != mine)
            .values(accepted_share=0.0, assured_share=0.0)
        )
    with db.reading(shared) as s:
        assert portfolio_assurance(s, client, Filters()) == before
        assert portfolio_assurance(s, SYSTEM, Filters()).assured != before.assured


def test_nothing_with_shares_means_no_share(shared):
    with db.transaction(shared) as s:
        s.execute(update(Assessment).values(accepted_share=None, assured_share=None))
    with db.reading(shared) as s:
        got = portfolio_assurance(s, SYSTEM, Filters())
    assert (got.assessments, got.assured, got.accepted, got.shares) == (0, None, None, None)


def test_every_analytics_query_honours_the_accepted_share(shared):
    with db.reading(shared) as s:
        org = _orgs(s)[0]
        qid = s.scalar(select(Assessment.questionnaire_id).limit(1))
        kept = dict(
            s.execute(
                select(Assessment.id, Assessment.organization_id).where(
                    Assessment.is_active, Assessment.accepted_share >= 50 - 1e-6
                )
            ).all()
        )
        for actor in (SYSTEM, Actor(None, "client", "client", org)):
            mine = {a for a, o in kept.items() if not actor.is_client or o == org}
            least = Filters(min_accepted=50)
            assert overview(s, actor, least, now=NOW).totals.assessments == len(mine)
            assert overview(s, actor, Filters(), now=NOW).totals.assessments > len(mine)
            needing = attention(s, actor, least, now=NOW, limit=10_000).rows
            assert set(needing["assessment_id"]) <= mine
            heat = heatmap_frame(s, actor, least, qid)
            products = set(
                s.scalars(select(Product.name).join(Assessment).where(Assessment.id.in_(mine)))
            )
            assert set(heat.frame["product"]) <= products and heat.total <= len(mine)
            trend = trend_frame(s, actor, least, today=NOW.date())
            everything = trend_frame(s, actor, Filters(), today=NOW.date())
            assert trend["assessments"].sum() <= everything["assessments"].sum()
            full = {a for a in mine if s.get(Assessment, a).accepted_share >= 100 - 1e-6}
            everything_accepted = overview(s, actor, Filters(min_accepted=100), now=NOW)
            assert everything_accepted.totals.assessments == len(full)


def test_the_board_pack_says_it_is_narrowed_by_the_accepted_share(shared):
    with db.reading(shared) as s:
        narrowed = load_portfolio_report(s, SYSTEM, Filters(min_accepted=50), now=NOW)
        everything = load_portfolio_report(s, SYSTEM, Filters(), now=NOW)
    assert ("Reviewer-accepted points", "At least 50%") in narrowed.covers
    assert not any(label.startswith("Reviewer") for label, _ in everything.covers)
    assert narrowed.overview.totals.assessments < everything.overview.totals.assessments


# -- the pages ------------------------------------------------------------------------------


def _assessment(url, product, cycle):
    with db.reading(url) as s:
        return s.scalar(
            select(Assessment.id)
            .join(Product, Product.id == Assessment.product_id)
            .where(Product.name == product, Assessment.cycle == cycle)
        )


def _known_levels(url) -> int:
    """An assessment under review with one answer accepted by a reviewer, one on evidence in date,
    the other files without a date and every other answer self-attested."""
    aid = _assessment(url, "Payments Gateway", 3)
    with db.transaction(url) as s:
        s.execute(
            update(QuestionnaireResponse)
            .where(QuestionnaireResponse.assessment_id == aid)
            .values(review_state="pending")
        )
        ex = score_explanation(s, SYSTEM, aid)
        scored = [k for k, v in ex.result.contributions.items() if v > 0]
        files = dict(
            s.execute(
                select(Question.key, EvidenceFile.id)
                .join(Question, Question.id == EvidenceFile.question_id)
                .where(EvidenceFile.assessment_id == aid, EvidenceFile.is_active)
            ).all()
        )
        dated = next(k for k in scored if k in files)
        accepted = next(k for k in scored if k not in files)
        s.execute(
            update(EvidenceFile).where(EvidenceFile.assessment_id == aid).values(valid_until=None)
        )
        s.get(EvidenceFile, files[dated]).valid_until = NOW.date() + timedelta(days=30)
        set_review_state(s, SYSTEM, aid, accepted, "accepted")
    with db.reading(url) as s:
        levels = answer_levels(s, aid)
    assert levels[dated] == "evidence_valid" and levels[accepted] == "accepted"
    assert {levels[k] for k in files if k != dated} <= {"evidence", "accepted"}
    return aid


def _open_scores(url, username, aid):
    at = signed_in(url, username).run()
    at.query_params["assessment"] = str(aid)
    return at.switch_page("pages/scores.py").run()


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_the_scores_page_shows_the_share_of_points_at_each_level(app_env):
    aid = _known_levels(app_env)
    with db.reading(app_env) as s:
        expected = live_assurance(s, SYSTEM, aid)
        ex = score_explanation(s, SYSTEM, aid)
    assert all(expected.overall[level] > 0 for level in ("evidence_valid", "accepted"))
    at = _open_scores(app_env, "lead_reviewer", aid)
    assert not at.exception and not at.error
    assert "How well the score is proven" in [h.value for h in at.subheader]
    words = f"Of the overall score's points: {shares_in_words(expected.overall)}."
    assert words in [m.value for m in at.markdown]
    assert any("Reviewer-accepted: a reviewer accepted" in c.value for c in at.caption)
    chart = next(c for c in _charts(at) if c["layout"]["title"]["text"].startswith("Points by"))
    assert [t["name"] for t in chart["data"]] == [LEVEL_LABELS[level] for level in LEVELS]
    assert chart["data"][0]["y"][0] == "Overall score"
    assert chart["data"][0]["y"][1:] == [
        s.title for s in ex.bank.sections if expected.sections.get(s.key) is not None
    ]
    accepted = chart["data"][3]
    assert accepted["x"][0] == pytest.approx(expected.overall["accepted"])
    assert accepted["customdata"][0] == (
        f"Overall score: {percents(expected.overall, LEVELS)['accepted']} of the points "
        "reviewer-accepted"
    )


def test_a_score_without_points_says_so_in_words(app_env):
    aid = _assessment(app_env, "Internal HR System", 1)  # not started: nothing scored
    at = _open_scores(app_env, "demo_client", aid)
    assert not at.exception and not at.error
    assert any("No points to break down by assurance level" in i.value for i in at.info)
    assert not any(c["layout"]["title"]["text"].startswith("Points by") for c in _charts(at))


def _overview(url, username):
    st.cache_data.clear()  # aggregates are cached per scope and data version, not per database
    at = signed_in(url, username).run()
    return at.switch_page("pages/analytics_overview.py").run()


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("username", ["admin", "demo_client"])
def test_the_overview_shows_the_portfolio_share_within_the_viewers_scope(app_env, username):
    with db.reading(app_env) as s:
        user = s.scalar(select(User).where(User.username == username))
        actor = Actor(user.id, username, user.role, user.organization_id)
        want = portfolio_assurance(s, actor, Filters())
    assert want.assessments and want.assured is not None
    at = _overview(app_env, username)
    assert not at.exception and not at.error
    shown = _metrics(at)
    assert shown["Assured points"] == percent(want.assured)
    assert shown["Reviewer-accepted points"] == percent(want.accepted)
    assert any(f"across the {want.assessments} latest" in c.value for c in at.caption)
    chart = next(c for c in _charts(at) if c["layout"]["title"]["text"].startswith("Points by"))
    assert [t["x"][0] for t in chart["data"]] == pytest.approx(
        [want.shares[k] for k in ("not_assured", "evidence_valid", "accepted")]
    )


def test_the_accepted_share_slider_narrows_the_overview_and_follows_to_trends(app_env):
    at = _overview(app_env, "admin")
    before = _metrics(at)
    at.sidebar.slider(key="_w_flt_accepted").set_value(80)
    rerun(at)
    assert not at.exception and not at.error
    after = _metrics(at)
    with db.reading(app_env) as s:
        want = portfolio_assurance(s, SYSTEM, Filters(min_accepted=80))
        count = overview(s, SYSTEM, Filters(min_accepted=80)).totals.assessments
    assert int(after["Assessments"]) == count < int(before["Assessments"])
    assert after["Reviewer-accepted points"] == percent(want.accepted)
    assert float(after["Reviewer-accepted points"].rstrip("%")) >= 80
    at.switch_page("pages/analytics_trends.py").run()
    assert not at.exception and at.sidebar.slider(key="_w_flt_accepted").value == 80
    at.sidebar.slider(key="_w_flt_accepted").set_value(100)
    rerun(at)
    assert not at.exception and not at.error
