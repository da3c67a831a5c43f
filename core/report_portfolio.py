"""The board pack: the portfolio within the Overview page's filters, as a PDF for a board.

KPI tiles, the funnel, the risk bands, the 12-month score trend, the biggest movers both ways,
overdue reviews, failed critical questions and the peer benchmark, each from the same core
aggregate and figure code the analytics pages use, so the pack is scoped like them: a client's
covers its own organisation against anonymous, coarsened peers (core/peer_benchmarks.py).
The tables under each chart hold its figures; core/report_portfolio_parts.py draws them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import pandas as pd
from reportlab.platypus import Flowable
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import ANALYTICS_AUDIENCE, Actor, require_org_read, require_role
from core.analytics import Overview, overview
from core.attention import Attention, attention
from core.dashboard_charts import band_figure, funnel_figure, section_box_figure
from core.filters import Filters
from core.labels import tier_label
from core.models import Organization, Questionnaire, utcnow
from core.movers import movers_frame
from core.peer_benchmarks import (
    PeerDistribution,
    peer_distribution,
    product_scores,
    rank_against,
    versions,
)
from core.product_history import product_choices
from core.report_charts import CHART_WIDTH, RENDERER, ChartRenderer, draw, report_figure
from core.report_document import build_pdf
from core.report_portfolio_parts import (
    attention_part,
    benchmark_part,
    funnel_part,
    movers_part,
    overview_tiles,
    trend_part,
)
from core.report_render import facts, gap, paragraph
from core.trend_charts import movers_figure, trend_figure
from core.trends import trend_frame

TREND_MONTHS = 12
OWN_PRODUCTS = 20  # a client's products shown against the peers, the first by name


@dataclass(frozen=True)
class PortfolioReport:
    """What the board pack shows, read for one actor within the filters."""

    covers: list[tuple[str, str]]  # what the pack covers, in words
    period: tuple[date, date]  # the trend's and the movers' months
    overview: Overview
    trend: pd.DataFrame
    movers: pd.DataFrame
    attention: Attention
    benchmark: PeerDistribution | None
    version: str  # the benchmarked questionnaire version, in words
    own: pd.DataFrame | None  # a client's products against the peers: product, score, standing
    own_total: int  # how many of its products have a score on the version (own: the first)


def trend_period(today: date) -> tuple[date, date]:
    """The 12 calendar months up to today's: from the first day of the month 11 months back."""
    months = today.year * 12 + today.month - 1 - (TREND_MONTHS - 1)
    return date(months // 12, months % 12 + 1, 1), today


def _covers(session: Session, actor: Actor, filters: Filters) -> list[tuple[str, str]]:
    org = filters.organization_id or (actor.organization_id if actor.is_client else None)
    name = session.scalar(select(Organization.name).where(Organization.id == org)) if org else None
    questionnaire = (
        session.execute(
            select(Questionnaire.title, Questionnaire.version).where(
                Questionnaire.id == filters.questionnaire_id
            )
        ).first()
        if filters.questionnaire_id
        else None
    )
    accepted = (
        [("Reviewer-accepted points", f"At least {filters.min_accepted:g}%")]
        if filters.min_accepted
        else []
    )
    return [
        ("Organisation", name or "All organisations"),
        (
            "Questionnaire",
            f"{questionnaire[0]}, version {questionnaire[1]}"
            if questionnaire
            else "All questionnaires",
        ),
        ("Industry", filters.industry or "All industries"),
        ("Tier", tier_label(filters.tier) if filters.tier else "All tiers"),
        *accepted,
    ]


def _benchmark(
    session: Session, actor: Actor, filters: Filters
) -> tuple[PeerDistribution | None, str, pd.DataFrame | None, int]:
    """The peer distribution of the filtered questionnaire (else the most used one), in words,
    and for a client its own products' overall standing against those peers."""
    choices = versions(session, actor)
    chosen = next((v for v in choices if v.id == filters.questionnaire_id), None)
    chosen = chosen or (choices[0] if choices and filters.questionnaire_id is None else None)
    if chosen is None:
        return None, "", None, 0
    peers = peer_distribution(session, actor, filters, chosen.id)
    label = f"{chosen.title}, version {chosen.version}"
    if not actor.is_client or peers.withheld or peers.sections.empty:
        return peers, label, None, 0
    mine = product_choices(session, actor, replace(filters, questionnaire_id=chosen.id))
    rows = []
    for product in mine.products[:OWN_PRODUCTS]:
        ranked = rank_against(product_scores(session, actor, product.id, chosen.id), peers)
        overall = ranked.iloc[0]
        rows.append((product.name, overall["score"], overall["standing"]))
    own = pd.DataFrame(rows, columns=["product", "score", "standing"])
    return peers, label, own, mine.total


def load_portfolio_report(
    session: Session, actor: Actor, filters: Filters, *, now: datetime | None = None
) -> PortfolioReport:
    """Everything the board pack shows, within the actor's scope and the filters."""
    require_role(actor, *ANALYTICS_AUDIENCE)
    if actor.is_client:  # a client's pack is its organisation's, and names no other
        if filters.organization_id is not None:
            require_org_read(actor, filters.organization_id)
        filters = replace(filters, organization_id=actor.organization_id)
    now = now or utcnow()
    period = trend_period(now.date())
    dated = replace(filters, start=period[0], end=period[1])
    peers, version, own, own_total = _benchmark(session, actor, filters)
    return PortfolioReport(
        covers=_covers(session, actor, filters),
        period=period,
        overview=overview(session, actor, filters, now=now),
        trend=trend_frame(session, actor, dated, group="portfolio", today=now.date()),
        movers=movers_frame(session, actor, dated),
        attention=attention(session, actor, filters, now=now),
        benchmark=peers,
        version=version,
        own=own,
        own_total=own_total,
    )


def portfolio_figures(report: PortfolioReport) -> dict[str, Any]:
    """The charts there is something to draw for, by name."""
    summary, figures = report.overview, {}
    half = CHART_WIDTH // 2
    figures["funnel"] = report_figure(funnel_figure(summary.funnel), height=300, width=half)
    if not summary.bands.empty:
        figures["bands"] = report_figure(band_figure(summary.bands), height=300, width=half)
    if not report.trend.empty and report.trend["score"].notna().any():
        figures["trend"] = report_figure(trend_figure(report.trend, "score"), height=320)
    if not report.movers.empty:
        figures["movers"] = report_figure(
            movers_figure(report.movers), height=max(300, 24 * len(report.movers) + 80)
        )
    peers = report.benchmark
    if peers is not None and not peers.withheld and not peers.sections.empty:
        figures["peers"] = report_figure(section_box_figure(peers.sections), height=380)
    return figures


def portfolio_story(report: PortfolioReport, renderer: ChartRenderer = RENDERER) -> list[Flowable]:
    """The pack's flowables, first page to last."""
    figures = portfolio_figures(report)
    drawn, note = draw(list(figures.values()), renderer)
    svg = dict(zip(figures, drawn, strict=True))
    story: list[Flowable] = [
        paragraph("Security portfolio board pack", "title"),
        paragraph(report.covers[0][1], "subtitle"),
        facts(report.covers),
        gap(4),
        overview_tiles(report.overview),
    ]
    if not report.overview.totals.assessments:
        return story + [
            paragraph("No assessment matches these filters: there is nothing to report yet.")
        ]
    story += funnel_part(report.overview, svg.get("funnel"), svg.get("bands"), note)
    story += trend_part(report.trend, report.period, svg.get("trend"), note)
    story += movers_part(report.movers, svg.get("movers"), note)
    story += attention_part(report.attention)
    return story + benchmark_part(
        report.benchmark, report.version, (report.own, report.own_total), svg.get("peers"), note
    )


def portfolio_report_pdf(
    session: Session,
    actor: Actor,
    filters: Filters,
    *,
    now: datetime | None = None,
    renderer: ChartRenderer = RENDERER,
) -> bytes:
    """The board pack within the filters, as the actor may see it, as PDF bytes."""
    now = now or utcnow()
    report = load_portfolio_report(session, actor, filters, now=now)
    return build_pdf(
        portfolio_story(report, renderer),
        title=f"Board pack · {report.covers[0][1]}",
        subject="Security portfolio board pack",
        generated=now,
    )
