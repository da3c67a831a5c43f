"""Every chart of every analytics page, for every role that may open it, on the demo and on a small
synthetic set: time axes are dates in order, counts are whole numbers on whole-number ticks, no
figure is empty when its frame has rows, and no payload is over 150 KB."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from core import db
from core.access import SYSTEM, Actor
from core.activity_charts import actions_figure, active_users_figure, sign_ins_per_day_figure
from core.activity_metrics import actions_frame, active_users_frame, sign_ins_frame
from core.analytics import band_frame, overview, status_frame
from core.chart_layout import SMALL_COUNT
from core.charts import score_history_figure
from core.dashboard_charts import (
    band_figure,
    funnel_figure,
    heatmap_figure,
    section_box_figure,
    status_figure,
)
from core.filters import Filters
from core.models import Organization, User
from core.movers import movers_frame
from core.operations_metrics import (
    decisions_frame,
    rounds_frame,
    time_in_status_frame,
    turnaround_frame,
)
from core.peer_benchmarks import peer_distribution, versions
from core.product_history import product_choices, product_history_frame
from core.review_charts import (
    decisions_figure,
    rounds_figure,
    time_in_status_figure,
    turnaround_figure,
)
from core.section_heatmap import heatmap_frame
from core.synthetic import seed_synthetic
from core.trend_charts import KEEP_LINES, MAX_LINES, movers_figure, trend_figure
from core.trends import GROUPS, trend_frame
from core.users import create_user
from tests.apptest import signed_in
from tests.conftest import _sqlite_url
from ui.navigation import PAGES

MAX_PAYLOAD = 150_000
# title: (the x axis is time, the axis whose values are counts)
KINDS = {
    "Assessments by status": (False, "x"),
    "Latest risk band": (False, "y"),
    "Assessment funnel": (False, "x"),
    "Latest score by month": (True, None),
    "Completion by month": (True, None),
    "Biggest movers in the period": (False, None),
    "Score history": (True, None),
    "Latest scores per section against peers": (False, None),
    "Section scores per product": (False, None),
    "Review turnaround (submission to decision)": (True, None),
    "Time in each status": (False, None),
    "Change-request rounds per assessment": (False, "y"),
    "Decisions per reviewer": (True, "y"),
    "Sign-ins per day": (True, "y"),
    "Active users by role": (False, "y"),
    "Actions by type": (False, "x"),
    "Points by assurance level": (False, None),  # percent of the points, not counts
}
CHART_PAGES = [
    spec
    for spec in PAGES
    if (spec.group == "Analytics" and spec.path != "pages/extracts.py")
    or spec.path == "pages/portfolio_home.py"
]
DEMO_USERS = {
    "admin": "admin",
    "lead_reviewer": "lead_reviewer",
    "security_manager": "security_manager",
    "analyst": "analyst",
    "client": "demo_client",
    "client2": "enterprise_client",
}
PASSWORD = "a long enough password 42"


# --- the data sets ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_url(tmp_path_factory, sqlite_template):
    """A small synthetic portfolio with more organisations than a trend chart names, and one
    active account per role (the synthetic accounts cannot sign in)."""
    url = _sqlite_url(tmp_path_factory.mktemp("walk"), sqlite_template)
    seed_synthetic(url, products=60, questions=12, organizations=MAX_LINES + 4, seed=7)
    with db.transaction(url) as s:
        org = s.scalar(select(Organization.id).order_by(Organization.id))
        for role in ("admin", "lead_reviewer", "security_manager", "analyst", "client"):
            create_user(
                s,
                SYSTEM,
                username=f"walk_{role}",
                name=f"Walk {role}",
                role=role,
                organization_id=org if role == "client" else None,
                password=PASSWORD,
                rounds=4,
            )
    yield url
    db.dispose_all()


@pytest.fixture(scope="module", params=["demo", "synthetic"])
def dataset(request):
    """(database URL, {role: username}) for the demo and the synthetic set."""
    if request.param == "demo":
        url, _ = request.getfixturevalue("demo_url")
        return url, DEMO_USERS
    url = request.getfixturevalue("synthetic_url")
    return url, {role: f"walk_{role}" for role in DEMO_USERS if role != "client2"} | {
        "client2": "walk_client"
    }


def _actor(url: str, username: str) -> Actor:
    with db.reading(url) as s:
        user = s.scalar(select(User).where(User.username == username))
        return Actor(user.id, user.username, user.role, user.organization_id)


# --- reading a figure ---------------------------------------------------------------------------


def _values(data):
    """A Plotly JSON array (plain list or base64 typed array) as a list."""
    if isinstance(data, dict) and "bdata" in data:
        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        return array.tolist()
    return list(data) if data is not None else []


def _present(values) -> list:
    return [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))]


def _title(spec: dict) -> str:
    title = spec["layout"].get("title", {})
    return title.get("text", "") if isinstance(title, dict) else str(title)


def _drawn(trace: dict) -> bool:
    return any(_present(_values(trace.get(k))) for k in ("x", "y", "z", "q1", "median"))


def check_figure(spec: dict, where: str) -> None:
    """The walk's rules for one figure (Plotly's JSON form)."""
    title = _title(spec)
    assert title in KINDS, f"{where}: a chart the walk does not know: {title!r}"
    time_axis, counts = KINDS[title]
    traces = spec["data"]
    assert any(_drawn(t) for t in traces), f"{where}: {title} draws nothing"
    if time_axis:
        axis = spec["layout"].get("xaxis", {})
        assert axis.get("type") == "date", f"{where}: {title} has no date axis: {axis}"
        for trace in traces:
            x = pd.to_datetime(_values(trace.get("x")))
            assert x.is_monotonic_increasing and x.is_unique, (
                f"{where}: {title} runs backwards: {list(x)}"
            )
    if counts:
        axis = spec["layout"].get(f"{counts}axis", {})
        values = [v for t in traces for v in _present(_values(t.get(counts)))]
        assert all(float(v).is_integer() for v in values), f"{where}: {title} counts {values}"
        assert axis.get("tickformat", "").endswith("d"), f"{where}: {title} ticks {axis}"
        assert axis.get("dtick") == 1 or max(values, default=0) > SMALL_COUNT, (
            f"{where}: {title} {axis}"
        )
    for trace in traces:
        points = len(_present(_values(trace.get("y"))))
        if points == 1 and trace.get("type") == "scatter" and not trace.get("fill"):
            assert "markers" in trace.get("mode", "markers"), f"{where}: a lone point is invisible"


def _spec(fig) -> dict:
    return json.loads(fig.to_json())


# --- the core walk: every frame and its figure --------------------------------------------------


def _page_filters() -> Filters:
    """The pages' default date range: the last two years."""
    return Filters(start=date.today() - timedelta(days=730), end=date.today())


def core_charts(s, actor: Actor, page: str, filters: Filters):
    """(title, frame, figure builder) of each chart a page draws for the actor."""
    if page == "portfolio_home":
        yield "Assessments by status", status_frame(s, actor), status_figure
        yield "Latest risk band", band_frame(s, actor), band_figure
    elif page == "analytics_overview":
        summary = overview(s, actor, filters)
        yield "Assessment funnel", summary.funnel, funnel_figure
        yield "Assessments by status", summary.statuses, status_figure
        yield "Latest risk band", summary.bands, band_figure
    elif page == "analytics_trends":
        groups = [g for g in GROUPS if not (actor.role == "client" and g == "organization")]
        for group in groups:
            trend = trend_frame(s, actor, filters, group=group)
            yield (
                "Latest score by month",
                trend.dropna(subset=["score"]),
                lambda f, t=trend: trend_figure(t),
            )
            yield "Completion by month", trend, lambda f: trend_figure(f, "completion")
        yield "Biggest movers in the period", movers_frame(s, actor, filters), movers_figure
        for product in product_choices(s, actor, filters).products[:3]:
            yield (
                "Score history",
                product_history_frame(s, actor, product.id),
                score_history_figure,
            )
    elif page == "analytics_benchmarks":
        for version in versions(s, actor):
            peers = peer_distribution(s, actor, filters, version.id)
            if not peers.withheld:
                yield (
                    "Latest scores per section against peers",
                    peers.sections,
                    section_box_figure,
                )
            yield (
                "Section scores per product",
                heatmap_frame(s, actor, filters, version.id).frame,
                heatmap_figure,
            )
    elif page == "analytics_reviews":
        yield (
            "Review turnaround (submission to decision)",
            turnaround_frame(s, actor, filters),
            turnaround_figure,
        )
        yield "Time in each status", time_in_status_frame(s, actor, filters), time_in_status_figure
        yield "Change-request rounds per assessment", rounds_frame(s, actor, filters), rounds_figure
        yield "Decisions per reviewer", decisions_frame(s, actor, filters), decisions_figure
    elif page == "analytics_activity":
        yield "Sign-ins per day", sign_ins_frame(s, actor, filters), sign_ins_per_day_figure
        yield "Active users by role", active_users_frame(s, actor, filters), active_users_figure
        yield "Actions by type", actions_frame(s, actor, filters), actions_figure


@pytest.mark.parametrize("role", list(DEMO_USERS))
def test_every_chart_frame_draws_ordered_whole_and_never_empty(dataset, role):
    url, users = dataset
    actor = _actor(url, users[role])
    drawn = 0
    with db.reading(url) as s:
        for spec in CHART_PAGES:
            if actor.role not in spec.roles:
                continue
            page = spec.path.split("/")[-1][:-3]
            for filters in (Filters(), _page_filters()):
                for title, frame, make in core_charts(s, actor, page, filters):
                    if frame.empty:
                        continue
                    figure = _spec(make(frame))
                    assert _title(figure) == title
                    check_figure(figure, f"{page} as {role}")
                    assert len(json.dumps(figure)) <= MAX_PAYLOAD
                    drawn += 1
    assert drawn >= 3, "the walk drew (almost) nothing: the data set lost its history"


# --- the page walk: what st.plotly_chart really receives -----------------------------------------


def _rendered(at) -> list[str]:
    return [p.proto.spec for p in at.get("plotly_chart")]


def _page_runs(url: str, username: str, spec):
    """Each state of a page worth looking at: as opened, every trend grouping, a highlighted
    benchmark product."""
    at = signed_in(url, username, page=spec.path).run()
    assert not at.exception, at.exception
    yield "opened", _rendered(at)
    if spec.path.endswith("analytics_trends.py") and at.get("button_group"):
        for group in GROUPS:
            if group == "organization" and "Organisation" not in at.get("button_group")[0].options:
                continue  # clients see one organisation: theirs
            at.get("button_group")[0].set_value(group).run()
            assert not at.exception, at.exception
            yield f"one line per {group}", _rendered(at)
    if (
        spec.path.endswith("analytics_benchmarks.py")
        and at.selectbox(key="bench_product") is not None
    ):
        picker = at.selectbox(key="bench_product")
        if len(picker.options) > 1:
            picker.select_index(1).run()
            assert not at.exception, at.exception
            yield "a product highlighted", _rendered(at)


def _has(at_specs, title) -> bool:
    return any(_title(json.loads(s)) == title for s in at_specs)


@pytest.mark.parametrize("role", list(DEMO_USERS))
def test_every_chart_on_every_page_is_ordered_whole_and_small(dataset, role, monkeypatch):
    url, users = dataset
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", url)
    monkeypatch.setenv("SECURESPHERE_BCRYPT_ROUNDS", "4")
    actor = _actor(url, users[role])
    seen = 0
    for spec in CHART_PAGES:
        if actor.role not in spec.roles:
            continue
        for state, charts in _page_runs(url, users[role], spec):
            where = f"{spec.title} ({state}) as {role}"
            for payload in charts:
                assert len(payload) <= MAX_PAYLOAD, f"{where}: {len(payload)} bytes"
                check_figure(json.loads(payload), where)
            seen += len(charts)
    assert seen >= 2


def test_trends_page_draws_the_charts_its_frames_have_rows_for(demo_url, monkeypatch):
    url, _ = demo_url
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", url)
    at = signed_in(url, "enterprise_client", page="pages/analytics_trends.py").run()
    charts = _rendered(at)
    with db.reading(url) as s:
        trend = trend_frame(s, _actor(url, "enterprise_client"), _page_filters(), group="product")
    assert not trend.empty
    assert _has(charts, "Latest score by month") and _has(charts, "Completion by month")


# --- the fixes, one by one ------------------------------------------------------------------------


def test_months_arriving_out_of_order_are_drawn_in_time_order():
    frame = pd.DataFrame(
        {
            "month": ["2026-10", "2026-11", "2026-12", "2026-09", "2026-05"],
            "group": ["B", "B", "B", "A", "A"],
            "score": [60.0, 62, 64, 50, 40],
            "completion": [1.0] * 5,
            "assessments": [1] * 5,
        }
    )
    spec = _spec(trend_figure(frame))
    assert spec["layout"]["xaxis"]["type"] == "date"
    for trace in spec["data"]:
        assert pd.to_datetime(trace["x"]).is_monotonic_increasing
    check_figure(spec, "out of order")


def test_sign_ins_on_one_day_are_drawn_on_a_day_wide_axis():
    spec = _spec(
        sign_ins_per_day_figure(
            pd.DataFrame({"day": ["2026-11-30"], "succeeded": [13], "failed": [2]})
        )
    )
    axis = spec["layout"]["xaxis"]
    assert axis["type"] == "date"
    low, high = pd.to_datetime(axis["range"])
    assert high - low >= pd.Timedelta(days=1)  # not fractions of a millisecond
    assert all("markers" in t["mode"] for t in spec["data"])
    assert _values(spec["data"][0]["y"]) == [13]
    check_figure(spec, "one day")


def test_sign_ins_fill_the_quiet_days_with_zero():
    spec = _spec(
        sign_ins_per_day_figure(
            pd.DataFrame(
                {"day": ["2026-11-01", "2026-11-04"], "succeeded": [3, 1], "failed": [0, 1]}
            )
        )
    )
    assert _values(spec["data"][0]["y"]) == [3, 0, 0, 1]
    check_figure(spec, "quiet days")


@pytest.mark.parametrize(
    "make, frame, axis",
    [
        (
            status_figure,
            pd.DataFrame({"status": ["submitted", "approved"], "assessments": [1, 2]}),
            "x",
        ),
        (rounds_figure, pd.DataFrame({"rounds": [2, 0, 1], "assessments": [1, 3, 2]}), "y"),
        (
            decisions_figure,
            pd.DataFrame(
                {"month": ["2026-11", "2026-10"], "reviewer": ["R", "R"], "decisions": [1, 2]}
            ),
            "y",
        ),
        (
            active_users_figure,
            pd.DataFrame({"role": ["admin"], "active_users": [1], "accounts": [2]}),
            "y",
        ),
        (actions_figure, pd.DataFrame({"action": ["sign_in"], "count": [3]}), "x"),
    ],
)
def test_small_counts_tick_in_whole_numbers(make, frame, axis):
    spec = _spec(make(frame))
    layout = spec["layout"][f"{axis}axis"]
    assert layout["dtick"] == 1 and layout["tickformat"] == ",d"
    check_figure(spec, make.__name__)


def test_rounds_are_in_numeric_order():
    spec = _spec(rounds_figure(pd.DataFrame({"rounds": [10, 2, 0], "assessments": [1, 1, 1]})))
    assert spec["layout"]["xaxis"]["categoryarray"] == ["0", "2", "10"]


def test_many_organisations_become_the_top_and_bottom_and_a_band():
    months = [f"2026-{m:02d}" for m in range(1, 7)]
    frame = pd.DataFrame(
        [
            (m, f"Org {g:02d}", 10.0 + g + i, 1.0, 1)
            for g in range(50)
            for i, m in enumerate(months)
        ],
        columns=["month", "group", "score", "completion", "assessments"],
    )
    spec = _spec(trend_figure(frame))
    names = [t["name"] for t in spec["data"]]
    assert names[:KEEP_LINES] == ["Org 49", "Org 48", "Org 47", "Org 46"]
    assert names[KEEP_LINES : 2 * KEEP_LINES] == ["Org 03", "Org 02", "Org 01", "Org 00"]
    assert "Median of the other 42" in names and "Middle half of the other 42" in names
    median = next(t for t in spec["data"] if t["name"].startswith("Median"))
    assert _values(median["y"])[0] == pytest.approx(10.0 + 24.5)
    assert len(spec["data"]) == 2 * KEEP_LINES + 3
    check_figure(spec, "50 organisations")


def test_a_few_organisations_are_all_drawn():
    frame = pd.DataFrame(
        [("2026-01", f"Org {g}", 50.0, 1.0, 1) for g in range(MAX_LINES)],
        columns=["month", "group", "score", "completion", "assessments"],
    )
    assert len(trend_figure(frame).data) == MAX_LINES


def test_completion_by_month_ends_at_the_overview_completion(demo_url):
    url, _ = demo_url
    with db.reading(url) as s:
        trend = trend_frame(s, SYSTEM, Filters(), group="portfolio")
        rate = overview(s, SYSTEM, Filters()).totals.completion_rate
    assert trend["completion"].iloc[-1] == pytest.approx(rate)
    assert trend["completion"].min() < 1.0  # not flat at 100 %


def test_the_legend_lists_the_highest_first_and_the_others_last():
    frame = pd.DataFrame(
        [("2026-01", f"Org {g:02d}", 10.0 + g, 1.0, 1) for g in range(20)],
        columns=["month", "group", "score", "completion", "assessments"],
    )
    spec = _spec(trend_figure(frame))
    assert spec["layout"]["legend"]["traceorder"] == "normal"
    assert spec["data"][0]["name"] == "Org 19" and spec["data"][-1]["name"].startswith("Median")
