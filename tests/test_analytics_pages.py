"""The analytics pages through AppTest: roles, shared filters, downloads, anonymous benchmarks."""

import re

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core import db
from core.access import SYSTEM
from core.analytics import overview
from core.auth import actor_for
from core.filters import Filters
from core.models import Organization
from core.synthetic import seed_synthetic
from core.users import create_user
from tests.apptest import rerun, signed_in
from ui.navigation import PAGES

USERS = {
    "admin": "admin",
    "lead_reviewer": "lead_reviewer",
    "security_manager": "security_manager",
    "analyst": "analyst",
    "client": "demo_client",
}
OURS = [spec for spec in PAGES if spec.group == "Analytics"]
CASES = [(role, spec) for spec in OURS for role in USERS]


@pytest.fixture(scope="module")
def peers_url(demo_url):
    """The module's demo database plus a small synthetic portfolio with an active client in one
    of its organisations (enough peers for an anonymous benchmark)."""
    url, _ = demo_url
    seed_synthetic(url, products=36, questions=12, organizations=6, seed=11)
    with db.transaction(url) as s:
        org = s.scalar(select(Organization.id).where(Organization.name == "Synthetic Org 01"))
        create_user(
            s,
            SYSTEM,
            username="peer_client",
            name="Peer Client",
            role="client",
            organization_id=org,
            password="a long enough password 42",
            rounds=4,
        )
    return url


def _texts(at: AppTest) -> str:
    """Everything a person could read on the page: text, tables, charts, widget options."""
    parts = [
        e.value
        for kind in (
            "title",
            "subheader",
            "markdown",
            "caption",
            "info",
            "success",
            "warning",
            "error",
        )
        for e in at.get(kind)
    ]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [d.value.to_csv() for d in at.dataframe]
    parts += [p.proto.spec for p in at.get("plotly_chart")]
    parts += [" ".join(map(str, s.options)) for s in at.selectbox]
    return "\n".join(map(str, parts))


@pytest.mark.parametrize(
    "role, spec", CASES, ids=[f"{r}-{s.path.split('/')[-1]}" for r, s in CASES]
)
def test_each_page_runs_for_its_roles_and_refuses_the_others(app_env, role, spec):
    at = signed_in(app_env, USERS[role], page=spec.path).run()
    assert not at.exception
    if role in spec.roles:
        assert at.title[0].value == spec.title and not at.error
    else:
        assert [e.value for e in at.error] == ["You do not have access to this page."]
        assert not at.metric and not at.get("plotly_chart") and not at.get("download_button")


def test_a_filter_change_updates_the_overview_and_follows_to_other_pages(app_env):
    at = signed_in(app_env, "admin").run()
    at.switch_page("pages/analytics_overview.py").run()
    before = {m.label: m.value for m in at.metric}
    org = at.sidebar.selectbox(key="_w_flt_organization")
    org.select_index(org.options.index("Demo Corp"))
    rerun(at)
    after = {m.label: m.value for m in at.metric}
    assert not at.exception
    assert after["Organisations"] == "1" and int(before["Organisations"]) > 1
    assert int(after["Assessments"]) < int(before["Assessments"])
    at.switch_page("pages/analytics_trends.py").run()
    assert at.title[0].value == "Trends"
    assert (
        at.sidebar.selectbox(key="_w_flt_organization").value
        == at.session_state["flt_organization"]
    )
    assert "Enterprise Inc" not in " ".join(p.proto.spec for p in at.get("plotly_chart"))


def test_cached_overview_figures_stay_with_each_organisation(app_env):
    """Two clients of different organisations, one after the other in one process (one shared
    cache): each sees the counts core gives their own organisation, never the other's."""
    shown: dict[str, dict] = {}
    apps = {name: signed_in(app_env, name).run() for name in ("demo_client", "enterprise_client")}
    for username in ("demo_client", "enterprise_client", "demo_client"):  # nothing written between
        at = apps[username]
        at.switch_page("pages/analytics_overview.py").run()
        assert not at.exception
        metrics = {m.label: m.value for m in at.metric}
        with db.reading(app_env) as s:
            actor = actor_for(s, username)
            totals = overview(s, actor, Filters()).totals
        assert metrics["Assessments"] == f"{totals.assessments:,}"
        assert shown.setdefault(username, metrics) == metrics
    assert shown["demo_client"]["Assessments"] != shown["enterprise_client"]["Assessments"]


def test_trends_group_choice_redraws_the_lines(app_env):
    at = signed_in(app_env, "analyst", page="pages/analytics_trends.py").run()
    by_org = at.get("plotly_chart")[0].proto.spec
    assert "Demo Corp" in by_org and "Enterprise Inc" in by_org
    at.get("button_group")[0].set_value("questionnaire").run()
    assert not at.exception
    by_questionnaire = at.get("plotly_chart")[0].proto.spec
    assert (
        "Demo Corp" not in by_questionnaire
        and "SecureSphere Product Security Baseline" in by_questionnaire
    )


@pytest.mark.parametrize("username", ["admin", "demo_client"])
def test_extracts_page_offers_every_download(app_env, username):
    at = signed_in(app_env, username, page="pages/extracts.py").run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("CSV") == 6
    assert "All extracts as one workbook (XLSX)" in labels and "Data dictionary (CSV)" in labels
    assert len(at.dataframe[0].value) > 60  # the data dictionary


def test_client_benchmark_shows_peers_anonymously(peers_url, app_env):
    at = signed_in(peers_url, "peer_client", page="pages/analytics_benchmarks.py").run()
    assert not at.exception
    text = _texts(at)
    assert "Synthetic Org 01" in text  # its own products
    others = {f"Synthetic Org {i:02d}" for i in range(2, 7)} | {"Demo Corp", "Enterprise Inc"}
    assert not [name for name in others if name in text]
    assert "too small" not in text and '"name":"Peers"' in text  # the distribution is shown
    for product in at.selectbox(key="bench_product").options[1:]:
        assert "Synthetic Org 01" in product
    box = at.get("plotly_chart")[0].proto.spec
    assert '"mean"' not in box and "rounded to 5 points" in text  # no mean, no exact count
    at.selectbox(key="bench_product").select_index(1).run()
    label = at.metric[0].label
    assert re.search(r"overall standing among \d+–\d+ peers$", label), label
    assert at.metric[0].value in {
        "Bottom quarter",
        "Second quarter",
        "Third quarter",
        "Top quarter",
    }
    assert list(at.dataframe[0].value.columns) == ["title", "score", "standing"]


def test_demo_client_sees_peers_on_the_demo_and_a_one_organisation_industry_is_withheld(app_env):
    at = signed_in(app_env, "demo_client", page="pages/analytics_benchmarks.py").run()
    assert not at.exception
    text = _texts(at)
    assert "too small" not in text and '"name":"Peers"' in text  # the demo has enough peers
    industry = at.sidebar.selectbox(key="_w_flt_industry")
    industry.select_index(industry.options.index("Technology"))  # one other organisation's
    rerun(at)
    text = _texts(at)
    assert not at.exception
    assert "too small to compare anonymously" in text and "Fjord Analytics" not in text
