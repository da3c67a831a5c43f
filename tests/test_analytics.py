"""Every analytics aggregate against a plain pandas reference (benchmarks/naive.py and the ones
below), on small random synthetic data sets, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update

from benchmarks import naive
from core import db, read_model
from core.access import SYSTEM, Actor
from core.activity_metrics import actions_frame, active_users_frame, sign_ins_frame
from core.analytics import overview
from core.attention import DROP_POINTS, attention
from core.errors import AccessDenied
from core.filters import Filters
from core.models import Assessment, ScoreHistory, utcnow
from core.movers import movers_frame
from core.operations_metrics import (
    decisions_frame,
    rounds_frame,
    time_in_status_frame,
    turnaround_frame,
    workload_frame,
)
from core.peer_benchmarks import peer_distribution, product_scores, rank_against
from core.peer_groups import peer_groups_frame
from core.peer_stats import MIN_PEER_ORGANIZATIONS
from core.periods import months_between
from core.section_heatmap import heatmap_frame
from core.settings import update_setting
from core.synthetic import BANK_KEY, seed_synthetic
from core.trends import MAX_SERIES, trend_frame

NOW = utcnow().replace(microsecond=0)
SLA = 10
# Few examples (each builds a database); no shrinking: a failure prints its seed and draws.
EXAMPLES = settings(
    max_examples=8,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TABLES = (*naive.TABLES, "product_statuses", "users", "sign_in_attempts", "audit_log")


def build(make, seed: int) -> tuple[str, dict]:
    """A small synthetic data set with some missing scores and a withdrawn assessment, and its
    tables as pandas frames."""
    rng = random.Random(seed)
    url = make()
    seed_synthetic(
        url,
        products=rng.randint(6, 26),
        questions=rng.randint(10, 24),
        seed=seed,
        organizations=rng.randint(3, 7),
        now=NOW,
    )
    with db.transaction(url) as s:
        ids = list(s.scalars(select(ScoreHistory.id)))
        newest = set(
            s.scalars(select(func.max(ScoreHistory.id)).group_by(ScoreHistory.assessment_id))
        )
        older = [i for i in ids if i not in newest and rng.random() < 0.15]
        s.execute(update(ScoreHistory).where(ScoreHistory.id.in_(older)).values(overall_score=None))
        aids = sorted(s.scalars(select(Assessment.id)))
        blank, gone = rng.choice(aids), rng.choice(aids)
        s.execute(
            update(Assessment)
            .where(Assessment.id == blank)
            .values(latest_score=None, latest_band=None)
        )
        s.execute(
            update(ScoreHistory)
            .where(
                ScoreHistory.id
                == s.scalar(
                    select(func.max(ScoreHistory.id)).where(ScoreHistory.assessment_id == blank)
                )
            )
            .values(overall_score=None, band=None)
        )
        s.execute(update(Assessment).where(Assessment.id == gone).values(is_active=False))
        opened = rng.choice(aids)  # open, never snapshotted: counts in completion by its answers
        s.execute(delete(ScoreHistory).where(ScoreHistory.assessment_id == opened))
        s.execute(
            update(Assessment)
            .where(Assessment.id == opened)
            .values(
                completion=0.5,
                latest_score=None,
                latest_band=None,
                status="in_progress",
                submitted_at=None,
                decided_at=None,
            )
        )
        _assurance_shares(s, rng)
        read_model.rebuild(s)  # the statements above went around core, as a migration would
    with db.reading(url) as s:
        return url, naive.load(s.connection(), TABLES)


SHARES = (0.0, 20.0, 49.99999999, 50.0, 75.0, 100.0)  # 49.99999999: 50 % summed in floats


def _assurance_shares(s, rng: random.Random) -> None:
    """Reviewer-accepted and assured shares on most scored assessments (none on the others), as
    their newest snapshots would have written them."""
    for aid in s.scalars(select(Assessment.id).where(Assessment.latest_score.is_not(None))):
        if rng.random() < 0.7:
            accepted = rng.choice(SHARES)
            assured = min(100.0, accepted + rng.choice((0.0, 10.0, 30.0)))
            s.execute(
                update(Assessment)
                .where(Assessment.id == aid)
                .values(accepted_share=accepted, assured_share=assured)
            )


def synthetic(t: dict) -> tuple[list[int], int]:
    orgs = t["organizations"]
    ids = sorted(orgs.loc[orgs["name"].str.startswith("Synthetic"), "id"])
    qid = int(t["questionnaires"].loc[t["questionnaires"]["key"] == BANK_KEY, "id"].iloc[0])
    return ids, qid


@st.composite
def cases(draw, t: dict):
    """An actor (admin, analyst or a client) and the shared filters."""
    orgs, qid = synthetic(t)
    o = t["organizations"][t["organizations"]["id"].isin(orgs)]
    client = draw(st.sampled_from([None, *orgs]))
    actor = SYSTEM if client is None else Actor(None, "client", "client", client)
    start = end = None
    if draw(st.booleans()):
        start = NOW.date() - timedelta(days=draw(st.integers(20, 800)))
        end = draw(st.sampled_from([None, start + timedelta(days=draw(st.integers(0, 500)))]))
    filters = Filters(
        organization_id=draw(st.sampled_from([None, *orgs])),
        questionnaire_id=draw(st.sampled_from([None, qid])),
        start=start,
        end=end,
        industry=draw(st.sampled_from([None, *sorted(set(o["industry"]))])),
        tier=draw(st.sampled_from([None, *sorted(set(o["tier"]))])),
        min_accepted=draw(st.sampled_from([0.0, 0.0, 50.0])),  # 0: no restriction
    )
    return actor, client, filters


def _approx(value, expected):
    if expected is None or (isinstance(expected, float) and np.isnan(expected)):
        return value is None or (isinstance(value, float) and np.isnan(value))
    return value == pytest.approx(expected, rel=1e-6, abs=1e-6)


def _frames_equal(got: pd.DataFrame, want: pd.DataFrame, keys: list[str]) -> None:
    got, want = (f.sort_values(keys).reset_index(drop=True) for f in (got, want))
    assert list(got[keys].astype(str).itertuples(index=False)) == list(
        want[keys].astype(str).itertuples(index=False)
    )
    for column in (c for c in want.columns if c not in keys):
        assert all(
            _approx(a, b) for a, b in zip(got[column].tolist(), want[column].tolist(), strict=False)
        ), column


@EXAMPLES
@given(seed=st.integers(0, 10_000), data=st.data())
def test_overview_and_attention_match_pandas(new_db, seed, data):
    url, t = build(new_db, seed)
    actor, client, filters = data.draw(cases(t))
    want = naive.overview(t, filters, NOW, SLA, client)
    with db.reading(url) as s:
        got = overview(s, actor, filters, now=NOW)
        needing = attention(s, actor, filters, now=NOW, limit=10_000)
        first = attention(s, actor, filters, now=NOW, limit=1)  # the counts go past the list
    totals, rows, counts = got.totals, needing.rows, needing.counts
    assert totals.assessments == want["assessments"] and totals.by_status == want["by_status"]
    assert _approx(totals.average_score, want["average_score"])
    assert _approx(totals.completion_rate, want["completion_rate"])
    assert totals.overdue == want["overdue"]
    assert dict(zip(got.bands["band"], got.bands["assessments"], strict=False)) == want["bands"]
    assert (
        dict(zip(got.funnel["stage"], got.funnel["assessments"], strict=False))["Submitted"]
        == want["submitted"]
    )
    orgs = t["organizations"]
    keep = orgs[orgs["is_active"].astype(bool)]
    for wanted, column in (
        (client, "id"),
        (filters.organization_id, "id"),
        (filters.industry, "industry"),
        (filters.tier, "tier"),
    ):
        keep = keep if wanted is None else keep[keep[column] == wanted]
    assert totals.organizations == len(keep)
    assert totals.products == int(t["products"]["organization_id"].isin(keep["id"]).sum())
    assert counts == naive.attention_counts(t, filters, NOW, SLA, DROP_POINTS, client)
    assert first.counts == counts
    for reason, listed in rows.groupby("reason"):
        assert list(first.rows[first.rows["reason"] == reason]["assessment_id"]) == list(
            listed["assessment_id"][:1]
        )
    overdue = rows[rows["reason"] == "overdue"]
    a = t["assessments"].set_index("id")
    assert list(a.loc[overdue["assessment_id"], "submitted_at"]) == sorted(
        a.loc[overdue["assessment_id"], "submitted_at"]
    )
    if client is not None:
        assert set(a.loc[rows["assessment_id"], "organization_id"]) <= {client}


def _capped(t: dict, filters: Filters, client) -> dict:
    """The reference data restricted like the product lines: the first MAX_SERIES by name."""
    scoped = naive.scoped(t, filters, client)
    names = t["products"].set_index("id").loc[scoped["product_id"].unique(), "name"].sort_values()
    keep = set(names.index[:MAX_SERIES])
    return {**t, "assessments": t["assessments"][t["assessments"]["product_id"].isin(keep)]}


@EXAMPLES
@given(seed=st.integers(0, 10_000), data=st.data())
def test_trends_and_movers_match_pandas(new_db, seed, data):
    url, t = build(new_db, seed)
    actor, client, filters = data.draw(cases(t))
    group = data.draw(st.sampled_from(["portfolio", "organization", "product", "questionnaire"]))
    with db.reading(url) as s:
        got = trend_frame(s, actor, filters, group=group, today=NOW.date())
        moved = movers_frame(s, actor, filters, limit=4)
    want = naive.trend(
        _capped(t, filters, client) if group == "product" else t, filters, group, NOW.date(), client
    )
    names = {
        "organization": t["organizations"].set_index("id")["name"],
        "product": t["products"].set_index("id")["name"],
        "questionnaire": t["questionnaires"]
        .set_index("id")
        .pipe(lambda q: q["title"] + " v" + q["version"].astype(str)),
    }.get(group)
    want["group"] = want["group"].map(names) if names is not None else "All assessments"
    _frames_equal(got, want, ["month", "group"])
    expected = naive.movers(t, filters, 4, client)
    assert list(moved["assessment_id"]) == list(expected["aid"])
    assert all(_approx(a, b) for a, b in zip(moved["change"], expected["change"], strict=False))
    assert set(moved["direction"]) <= {"up", "down"}


def test_trend_carries_scores_through_months_without_snapshots(sqlite_url):
    seed_synthetic(sqlite_url, products=4, questions=10, organizations=2, seed=5, now=NOW)
    start = NOW.date() - timedelta(days=700)
    with db.reading(sqlite_url) as s:
        frame = trend_frame(
            s, SYSTEM, Filters(start=start, end=NOW.date()), group="portfolio", today=NOW.date()
        )
    months = months_between(start, NOW.date())
    assert list(frame["month"]) == months[months.index(frame["month"].iloc[0]) :]
    assert frame["assessments"].is_monotonic_increasing and frame["assessments"].iloc[-1] == 4


MIN_PEERS = 5  # benchmark_min_peers in these tests: the small data sets reach it often enough


@EXAMPLES
@given(seed=st.integers(0, 10_000), data=st.data())
def test_benchmarks_match_pandas(new_db, seed, data):
    url, t = build(new_db, seed)
    actor, client, filters = data.draw(cases(t))
    _, qid = synthetic(t)
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "benchmark_min_peers", MIN_PEERS)
    with db.reading(url) as s:
        peers = peer_distribution(s, actor, filters, qid)
        groups = peer_groups_frame(s, actor, qid)
        heat = heatmap_frame(s, actor, filters, qid, limit=5)
        mine = sorted(naive.scoped(t, Filters(), client)["product_id"])  # a client may own none
        product = data.draw(st.sampled_from(mine)) if mine else None
        scores = product_scores(s, actor, int(product), qid) if mine else None
    if client is None:
        _check_exact(t, peers, groups, scores, filters, qid)
    else:
        _check_coarse(t, peers, groups, scores, filters, qid, client)
    _check_heatmap(t, heat.frame, heat.total, filters, client, qid)


def _check_exact(t, peers, groups, scores, filters, qid) -> None:
    """Staff: every peer (all organisations), exact quantiles, mean, count and percentile."""
    assert peers.withheld is None and peers.exact
    want = naive.distribution(t, filters, qid)
    assert set(peers.sections["section"]) == {k for k, v in want.items() if len(v)}
    for row in peers.sections.to_dict("records"):
        expected = naive.quantiles(want[row["section"]])
        assert row["assessments"] == len(want[row["section"]])
        assert all(_approx(row[k], v) for k, v in expected.items())
    ranked = rank_against(scores, peers)
    for key, score, rank in zip(
        ranked["section"], ranked["score"], ranked["percentile"], strict=False
    ):
        if not pd.isna(score) and key in want:
            assert _approx(rank, naive.percentile(want[key], score))
    _frames_equal(groups, naive.peer_groups(t, qid), ["industry", "tier"])


def _step(x):
    return np.floor(np.asarray(x, dtype=float) / 5 + 0.5) * 5


def _peer_rows(t, filters, qid, client) -> pd.DataFrame:
    """(section, score, organisation, industry, tier) of every other organisation's peer."""
    p = naive.peers(t, filters, qid)
    p = p[p["organization_id"] != client]
    rows = [
        ("overall", s, o) for s, o in zip(p["latest_score"], p["organization_id"], strict=False)
    ]
    sh = t["score_history"]
    latest = (
        sh[sh["assessment_id"].isin(p["id"])]
        .sort_values("id")
        .drop_duplicates("assessment_id", keep="last")
    )
    org = p.set_index("id")["organization_id"]
    rows += [
        (k, v, org[a])
        for a, scores in zip(latest["assessment_id"], latest["section_scores"], strict=False)
        for k, v in (scores or {}).items()
        if v is not None
    ]
    out = pd.DataFrame(rows, columns=["section", "score", "org"]).astype({"score": float})
    return out.merge(t["organizations"][["id", "industry", "tier"]], left_on="org", right_on="id")


def _coarse(scores: pd.Series) -> dict:
    stepped = pd.Series(_step(scores))
    return {
        "q1": _step(stepped.quantile(0.25)),
        "median": _step(stepped.quantile(0.5)),
        "q3": _step(stepped.quantile(0.75)),
        "mean": None,
        "p05": None,
        "p95": None,
    }


def _in_band(band: str, n: int) -> bool:
    low, _, high = band.replace(",", "").partition("–")
    return (
        int(low) <= n <= int(high)
        if high
        else (band.endswith("or more") and n >= int(low.split()[0]))
    )


def _big(g: pd.DataFrame) -> bool:
    return len(g) >= MIN_PEERS and g["org"].nunique() >= MIN_PEER_ORGANIZATIONS


def _visible(rows: pd.DataFrame, industry, tier) -> bool:
    """The anonymity rule, the pandas way: the group is big, and so is what separates it from
    each wider choice of industry and tier (or nothing does)."""

    def pick(i, tr):
        return rows[((rows["industry"] == i) | (i is None)) & ((rows["tier"] == tr) | (tr is None))]

    group = pick(industry, tier)
    rests = [pick(*w).drop(group.index) for w in {(industry, None), (None, tier), (None, None)}]
    return _big(group) and all(r.empty or _big(r) for r in rests)


def _check_coarse(t, peers, groups, scores, filters, qid, client) -> None:
    """Clients: other organisations only, groups that pass the anonymity rule, quartiles of
    scores rounded to 5 points, a size band and a quarter; no mean, whiskers, counts or N."""
    everyone = _peer_rows(t, Filters(), qid, client)
    industry, tier = filters.industry or None, filters.tier or None
    sections = {k: g for k, g in everyone.groupby("section") if _visible(g, industry, tier)}
    assert (peers.withheld is None) == ("overall" in sections) and peers.counts == {}
    rows = _peer_rows(t, filters, qid, client)
    shown = (
        {k: g for k, g in rows.groupby("section") if k in sections} if "overall" in sections else {}
    )
    assert set(peers.sections["section"]) == set(shown) and not peers.exact
    for row in peers.sections.to_dict("records"):
        assert _in_band(row["assessments"], len(shown[row["section"]]))
        assert all(_approx(row[k], v) for k, v in _coarse(shown[row["section"]]["score"]).items())
    if scores is not None and peers.withheld is None:
        dist = peers.sections.set_index("section")
        for key, score, standing, rank in rank_against(scores, peers)[
            ["section", "score", "standing", "percentile"]
        ].itertuples(index=False):
            assert rank is None
            if key in dist.index and not pd.isna(score):
                q = dist.loc[key]
                assert standing == (
                    "Bottom quarter"
                    if score < q["q1"]
                    else "Second quarter"
                    if score < q["median"]
                    else "Third quarter"
                    if score < q["q3"]
                    else "Top quarter"
                )
    overall = everyone[everyone["section"] == "overall"]
    want = [
        (i or "(none)", tr, *_coarse(g["score"]).values())
        for (i, tr), g in overall.groupby(["industry", "tier"], sort=True)
        if _visible(overall, i, tr)
    ]
    assert list(groups.columns) == ["industry", "tier", "products", "q1", "median", "q3"]
    assert [tuple(r[:2]) + tuple(r[3:]) for r in groups.itertuples(index=False)] == [
        w[:5] for w in want
    ]
    sizes = {(i or "(none)", tr): len(g) for (i, tr), g in overall.groupby(["industry", "tier"])}
    assert all(
        _in_band(b, sizes[(i, tr)])
        for i, tr, b in groups[["industry", "tier", "products"]].itertuples(index=False)
    )


def _check_heatmap(t, heat, total, filters, client, qid) -> None:
    scoped = naive.scoped(
        t,
        Filters(
            organization_id=filters.organization_id,
            industry=filters.industry,
            tier=filters.tier,
            questionnaire_id=qid,
            min_accepted=filters.min_accepted,
        ),
        client,
    )
    scored = scoped[scoped["latest_score"].notna()]
    assert total == scored["product_id"].nunique()
    names = t["products"].set_index("id")["name"]
    allowed = set(names.loc[scored["product_id"]])
    assert set(heat["product"]) <= allowed and heat["product"].nunique() == min(5, total)
    sh = t["score_history"].sort_values("id").drop_duplicates("assessment_id", keep="last")
    latest = dict(
        zip(
            names.loc[t["assessments"].set_index("id").loc[sh["assessment_id"], "product_id"]],
            sh["section_scores"],
            strict=False,
        )
    )
    if filters.min_accepted:  # each product's newest scored assessment with the accepted share
        newest = sh.set_index("assessment_id")["section_scores"]
        chosen = scored.groupby("product_id")["id"].max()
        latest = {names.loc[p]: newest.get(aid) or {} for p, aid in chosen.items()}
    for product, key, score in zip(heat["product"], heat["section"], heat["score"], strict=False):
        assert _approx(score, latest[product].get(key))


def _ranged(frame: pd.DataFrame, column: str, filters: Filters) -> pd.DataFrame:
    if filters.since is not None:
        frame = frame[frame[column] >= filters.since]
    if filters.until is not None:
        frame = frame[frame[column] < filters.until]
    return frame


def _timeline(t: dict, filters: Filters) -> pd.DataFrame:
    a = naive.scoped(t, filters)
    ps = t["product_statuses"][t["product_statuses"]["assessment_id"].isin(a["id"])]
    ps = ps.sort_values(["assessment_id", "created_at", "id"]).copy()
    ps["sent"] = (
        ps["created_at"].where(ps["to_status"] == "submitted").groupby(ps["assessment_id"]).ffill()
    )
    ps["ended"] = ps.groupby("assessment_id")["created_at"].shift(-1).fillna(NOW)
    ps["month"] = ps["created_at"].dt.strftime("%Y-%m")
    return ps


@EXAMPLES
@given(seed=st.integers(0, 10_000), data=st.data())
def test_review_operations_match_pandas(new_db, seed, data):
    url, t = build(new_db, seed)
    _, _, filters = data.draw(cases(t))
    with db.reading(url) as s:
        got = {
            "turnaround": turnaround_frame(s, SYSTEM, filters),
            "stays": time_in_status_frame(s, SYSTEM, filters, now=NOW),
            "rounds": rounds_frame(s, SYSTEM, filters),
            "workload": workload_frame(s, SYSTEM, filters, now=NOW),
            "decisions": decisions_frame(s, SYSTEM, filters),
        }
        with pytest.raises(AccessDenied):
            turnaround_frame(s, Actor(None, "c", "client", 1), filters)
    ps = _timeline(t, filters)
    users = t["users"].set_index("id")["name"]
    decided = _ranged(
        ps[ps["to_status"].isin(["changes_requested", "approved", "rejected"])],
        "created_at",
        filters,
    )
    done = decided[decided["sent"].notna()].assign(
        days=lambda f: (f["created_at"] - f["sent"]).dt.total_seconds() / 86400
    )
    want = done.groupby("month").agg(
        decisions=("days", "size"),
        mean_days=("days", "mean"),
        max_days=("days", "max"),
        over_sla=("days", lambda d: int((d > SLA).sum())),
    )
    _frames_equal(got["turnaround"], want.reset_index(), ["month"])
    stays = _ranged(ps[~ps["to_status"].isin(["approved", "rejected"])], "created_at", filters)
    stays = stays.assign(days=(stays["ended"] - stays["created_at"]).dt.total_seconds() / 86400)
    want = stays.groupby("to_status")["days"].agg(stays="size", mean_days="mean", max_days="max")
    _frames_equal(
        got["stays"], want.reset_index().rename(columns={"to_status": "status"}), ["status"]
    )
    a = _ranged(naive.scoped(t, filters), "submitted_at", filters)
    a = a[a["submitted_at"].notna()]
    rounds = ps[ps["to_status"] == "changes_requested"].groupby("assessment_id").size()
    want = rounds.reindex(a["id"]).fillna(0).astype(int).value_counts().sort_index()
    assert (
        dict(zip(got["rounds"]["rounds"], got["rounds"]["assessments"], strict=False))
        == want.to_dict()
    )
    waiting = naive.scoped(t, filters)
    waiting = waiting[waiting["status"].isin(["submitted", "under_review"])]
    who = waiting["reviewer_id"].map(users).fillna("Unassigned")
    want = (
        waiting.assign(reviewer=who)
        .groupby("reviewer")
        .agg(
            under_review=("status", lambda x: int((x == "under_review").sum())),
            submitted=("status", lambda x: int((x == "submitted").sum())),
            overdue=("submitted_at", lambda x: int((x < NOW - timedelta(days=SLA)).sum())),
        )
    )
    _frames_equal(got["workload"], want.reset_index(), ["reviewer"])
    want = (
        decided.assign(reviewer=decided["actor_id"].map(users).fillna("system"))
        .groupby(["month", "reviewer"])
        .size()
        .rename("decisions")
        .reset_index()
    )
    _frames_equal(got["decisions"], want, ["month", "reviewer"])


@EXAMPLES
@given(seed=st.integers(0, 10_000), data=st.data())
def test_user_activity_matches_pandas(new_db, seed, data):
    url, t = build(new_db, seed)
    _, _, filters = data.draw(cases(t))
    with db.reading(url) as s:
        sign_ins = sign_ins_frame(s, SYSTEM, filters)
        users = active_users_frame(s, SYSTEM, filters)
        actions = actions_frame(s, SYSTEM, filters, limit=50)
        with pytest.raises(AccessDenied):
            sign_ins_frame(s, Actor(None, "r", "lead_reviewer"), filters)
    attempts = _ranged(t["sign_in_attempts"], "created_at", filters)
    ok = attempts["succeeded"].astype(bool)
    want = (
        attempts.assign(
            day=attempts["created_at"].dt.strftime("%Y-%m-%d"),
            ok=ok.astype(int),
            bad=(~ok).astype(int),
        )
        .groupby("day")
        .agg(succeeded=("ok", "sum"), failed=("bad", "sum"))
    )
    _frames_equal(sign_ins, want.reset_index(), ["day"])
    people = t["users"].set_index("id")["role"]
    signed = attempts[ok].drop_duplicates("user_id")["user_id"].map(people).value_counts()
    accounts = t["users"][t["users"]["is_active"].astype(bool)]["role"].value_counts()
    for role, active, count in users.itertuples(index=False):
        assert active == signed.get(role, 0) and count == accounts.get(role, 0)
    trail = _ranged(t["audit_log"], "created_at", filters)["action"].value_counts()
    assert dict(zip(actions["action"], actions["count"], strict=False)) == trail.to_dict()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgres_plans_every_run_for_its_bound_values(db_url):
    """After psycopg prepares a repeated statement, PostgreSQL would move to a generic plan that
    ignores the review cutoff; the engine asks for a plan per run instead (core.db)."""
    with db.reading(db_url) as s:
        for _ in range(12):  # past psycopg's prepare threshold and PostgreSQL's five custom plans
            overview(s, SYSTEM, Filters(), now=NOW)
        assert s.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
