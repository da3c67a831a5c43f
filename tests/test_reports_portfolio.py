"""The board pack on the demo data, read back with pypdf against core's aggregates: staff see the
portfolio, a client its organisation against anonymous peers and nobody else's name."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from core import db
from core.access import SYSTEM
from core.analytics import overview
from core.attention import attention
from core.auth import actor_for
from core.errors import AccessDenied
from core.filters import Filters
from core.labels import format_score, status_label
from core.models import LeadComment, Organization, utcnow
from core.movers import movers_frame
from core.peer_benchmarks import peer_distribution, product_scores, rank_against, versions
from core.product_history import product_choices
from core.report_charts import RENDERER
from core.report_portfolio import portfolio_report_pdf, trend_period
from core.trends import trend_frame
from tests.clirun import run
from tests.support.pdf import Report, check_pages, flat, read, word_problems

NOW = utcnow()


@pytest.fixture(scope="module")
def demo(demo_url):
    url, _ = demo_url
    yield url
    RENDERER.close()


def actor(url: str, username: str | None):
    if username is None:
        return SYSTEM
    with db.reading(url) as s:
        return actor_for(s, username)


def pack(url: str, who=SYSTEM, filters: Filters | None = None) -> Report:
    with db.reading(url) as s:
        return read(portfolio_report_pdf(s, who, filters or Filters(), now=NOW))


def names(url: str) -> dict[str, list[str]]:
    with db.reading(url) as s:
        internal = s.scalars(select(LeadComment.body).where(LeadComment.visibility == "internal"))
        return {
            "organizations": list(s.scalars(select(Organization.name))),
            "internal": list(internal),
        }


def score(value) -> str:
    return format_score(None if value is None or value != value else float(value))


def test_the_pack_holds_what_core_aggregates(demo):
    report = pack(demo)
    dated = Filters(start=trend_period(NOW.date())[0], end=NOW.date())
    with db.reading(demo) as s:
        summary = overview(s, SYSTEM, Filters(), now=NOW)
        trend = trend_frame(s, SYSTEM, dated, group="portfolio", today=NOW.date())
        movers = movers_frame(s, SYSTEM, dated)
        needs = attention(s, SYSTEM, Filters(), now=NOW)
        version = versions(s, SYSTEM)[0]
        peers = peer_distribution(s, SYSTEM, Filters(), version.id)
    t = summary.totals
    tiles = f"{t.organizations} Organisations {t.products} Products {t.assessments} Assessments"
    assert tiles in report.words
    assert f"{score(t.average_score)} Average latest score" in report.words
    assert f"{t.completion_rate:.0%} Completion {t.overdue} Overdue reviews" in report.words
    for stage, n in summary.funnel.itertuples(index=False):
        assert f"{stage} {n:,} {n / t.assessments:.0%}" in report.words
    for status, n in t.by_status.items():
        assert f"{status_label(status)} {n:,}" in report.words
    assert not trend.empty and not movers.empty
    for month, value, done, n in trend[["month", "score", "completion", "assessments"]].itertuples(
        index=False
    ):
        label = f"{date.fromisoformat(month + '-01'):%b %Y}"
        assert f"{label} {score(value)} {done:.0%} {n:,}" in report.words
    for m in movers.itertuples():
        row = f"{m.product}{m.organization}{m.cycle}{score(m.start_score)}{score(m.end_score)}"
        assert flat(f"{row}{m.change:+.1f}") in report.flat
    for reason, title in (("overdue", "Overdue reviews"), ("failed_critical", "Failed critical")):
        assert (
            f"{title}{' questions' if reason != 'overdue' else ''} ({needs.counts[reason]:,})"
            in (report.words)
        )
        for r in needs.rows[needs.rows["reason"] == reason].itertuples():
            assert flat(f"{r.product}{r.organization}{r.questionnaire}") in report.flat
            assert flat(r.detail) in report.flat
    assert f"Questionnaire: {version.title}, version {version.version}." in report.words
    for row in peers.sections.itertuples():
        cells = f"{row.title}{row.assessments:,}{score(row.q1)}{score(row.median)}{score(row.q3)}"
        assert flat(cells) in report.flat
    user = names(demo)["organizations"] + list(movers["product"])
    assert word_problems(report.words, user) == {}


def test_a_clients_pack_is_its_organisation_against_anonymous_peers(demo, tmp_path):
    client = actor(demo, "demo_client")
    report = pack(demo, client)
    known = names(demo)
    with db.reading(demo) as s:
        own = s.scalar(select(Organization.name).where(Organization.id == client.organization_id))
        t = overview(s, client, Filters(), now=NOW).totals
        version = versions(s, client)[0]
        peers = peer_distribution(s, client, Filters(), version.id)
        mine = product_choices(s, client, Filters(questionnaire_id=version.id)).products
        standing = {
            p.name: rank_against(product_scores(s, client, p.id, version.id), peers).iloc[0]
            for p in mine
        }
    assert f"Organisation {own}" in report.words
    assert f"{t.organizations} Organisations {t.products} Products" in report.words
    for other in known["organizations"]:
        assert other == own or other not in report.words, other
    for note in known["internal"]:
        assert flat(note) not in report.flat
    assert not peers.exact and not peers.withheld  # enough peers, shown coarsened
    assert f"Peers are other organisations' products ({peers.size})" in report.words
    for name, row in standing.items():
        assert flat(f"{name}{score(row['score'])}{row['standing']}") in report.flat
    check_pages(report.pdf, tmp_path)


def test_the_pack_follows_the_filters(demo, tmp_path):
    with db.reading(demo) as s:
        orgs = dict(s.execute(select(Organization.name, Organization.id)).all())
    one = "Enterprise Inc"
    report = pack(demo, SYSTEM, Filters(organization_id=orgs[one]))
    assert f"Organisation {one}" in report.words
    assert all(name == one or name not in report.words for name in orgs)
    empty = pack(demo, SYSTEM, Filters(industry="No such industry"))
    assert "No assessment matches these filters" in empty.words and len(empty.pages) == 1
    check_pages(pack(demo).pdf, tmp_path)


def test_nobody_gets_a_pack_beyond_their_reach(demo):
    client = actor(demo, "demo_client")
    with db.reading(demo) as s:
        other = s.scalar(select(Organization.id).where(Organization.id != client.organization_id))
        with pytest.raises(AccessDenied):
            portfolio_report_pdf(s, client, replace(Filters(), organization_id=other))
        with pytest.raises(AccessDenied):  # reviewers work from the review desk, not analytics
            portfolio_report_pdf(s, actor(demo, "lead_reviewer"), Filters())


def test_the_command_writes_the_pack_with_the_overview_filters(demo, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", demo)
    out = tmp_path / "pack.pdf"
    code, _, stderr = run(
        capsys,
        "report",
        "portfolio",
        "--out",
        str(out),
        "--organization",
        "Demo Corp",
        "--as",
        "analyst",
    )
    assert code == 0, stderr
    assert "Organisation Demo Corp" in read(out.read_bytes()).words
    code, _, stderr = run(
        capsys,
        "report",
        "portfolio",
        "--out",
        str(out),
        "--organization",
        "Enterprise Inc",
        "--as",
        "demo_client",
    )
    assert code == 1 and stderr == "error: You do not have access to this organisation's data.\n"
