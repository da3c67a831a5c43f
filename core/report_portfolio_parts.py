"""The board pack's parts, each a heading, its chart and the table of the chart's figures
(core/report_portfolio.py reads the data and puts them in order)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Table, TableStyle

from core.analytics import Overview
from core.attention import Attention
from core.labels import format_date, format_score, status_label
from core.peer_benchmarks import PeerDistribution
from core.report_render import TEXT_WIDTH, Column, chart, heading, paragraph, table, tiles
from core.scoring import BAND_NAMES

HALF = TEXT_WIDTH / 2 - 2 * mm


def _percent(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.0%}"


def _score(value: Any) -> str:
    """A frame's score cell (a number, None or NaN) as the screen shows it."""
    return format_score(None if value is None or pd.isna(value) else float(value))


def _month(month: str) -> str:
    """ "2026-03" as people read it: "Mar 2026"."""
    return f"{date.fromisoformat(month + '-01'):%b %Y}"


def overview_tiles(summary: Overview) -> Flowable:
    """Organisations, products, assessments, average latest score, completion, overdue reviews."""
    t = summary.totals
    return tiles(
        [
            ("Organisations", f"{t.organizations:,}"),
            ("Products", f"{t.products:,}"),
            ("Assessments", f"{t.assessments:,}"),
            ("Average latest score", _score(t.average_score)),
            ("Completion", _percent(t.completion_rate)),
            ("Overdue reviews", f"{t.overdue:,}"),
        ]
    )


def _side_by_side(left: Flowable, right: Flowable) -> Table:
    return Table(
        [[left, right]],
        colWidths=[TEXT_WIDTH / 2, TEXT_WIDTH / 2],
        hAlign="LEFT",
        style=TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
        ),
    )


def funnel_part(
    summary: Overview, funnel_svg: bytes | None, bands_svg: bytes | None, note: str
) -> list[Flowable]:
    """The funnel and the latest risk bands, side by side, with their figures."""
    started = int(summary.funnel["assessments"].iloc[0]) or 1
    stages = [
        (s, f"{n:,}", f"{n / started:.0%}") for s, n in summary.funnel.itertuples(index=False)
    ]
    counts: dict[str, int] = {b: int(n) for b, n in summary.bands.itertuples(index=False)}
    scored = sum(counts.values()) or 1
    bands = [
        (f"{b} risk", f"{counts[b]:,}", f"{counts[b] / scored:.0%}")
        for b in BAND_NAMES
        if b in counts
    ]
    no_bands = "No scored assessment yet: risk bands appear once an assessment is submitted."
    stage_table = table(
        [
            Column("Stage", 0.2),
            Column("Assessments", 0.15, wrap=False, align="RIGHT"),
            Column("Of started", 0.13, wrap=False, align="RIGHT"),
        ],
        stages,
    )
    band_table = (
        table(
            [
                Column("Risk band", 0.2),
                Column("Assessments", 0.15, wrap=False, align="RIGHT"),
                Column("Of scored", 0.13, wrap=False, align="RIGHT"),
            ],
            bands,
        )
        if bands
        else paragraph(no_bands, "note")
    )
    by_status = [(status_label(s), f"{n:,}") for s, n in summary.totals.by_status.items()]
    status_table = table(
        [Column("Status", 0.3), Column("Assessments", 0.18, wrap=False, align="RIGHT")], by_status
    )
    return [
        KeepTogether(
            [
                heading("Assessment funnel and risk bands"),
                _side_by_side(
                    chart(funnel_svg, note, HALF), chart(bands_svg, note or no_bands, HALF)
                ),
            ]
        ),
        _side_by_side(stage_table, band_table),
        heading("Assessments by status", 2),
        status_table,
    ]


def trend_part(
    trend: pd.DataFrame, period: tuple[date, date], svg: bytes | None, note: str
) -> list[Flowable]:
    """The monthly latest score and completion over the 12 months."""
    out: list[Flowable] = [
        heading("Score trend over 12 months"),
        paragraph(
            f"From {format_date(period[0])} to {format_date(period[1])}. Each month shows the mean "
            "of every assessment's newest snapshot up to the end of that month; completion also "
            "counts open assessments by the answers they had by then.",
            "note",
        ),
    ]
    if trend.empty:
        return [*out, paragraph("No score snapshot in these 12 months.")]
    rows = [
        (_month(m), _score(s), _percent(c), f"{n:,}")
        for m, s, c, n in trend[["month", "score", "completion", "assessments"]].itertuples(
            index=False
        )
    ]
    columns = [
        Column("Month", 0.25),
        Column("Latest score", 0.25, wrap=False, align="RIGHT"),
        Column("Completion", 0.25, wrap=False, align="RIGHT"),
        Column("Assessments", 0.25, wrap=False, align="RIGHT"),
    ]
    return [KeepTogether([*out, chart(svg, note)]), table(columns, rows)]


def movers_part(movers: pd.DataFrame, svg: bytes | None, note: str) -> list[Flowable]:
    """The assessments whose score rose and fell most over the 12 months."""
    out: list[Flowable] = [heading("Biggest movers")]
    if movers.empty:
        return [*out, paragraph("No assessment has two snapshots to compare in these 12 months.")]
    rows = [
        (p, o, f"{c}", _score(a), _score(b), f"{d:+.1f}")
        for p, o, c, a, b, d in movers[
            ["product", "organization", "cycle", "start_score", "end_score", "change"]
        ].itertuples(index=False)
    ]
    columns = [
        Column("Product", 0.28),
        Column("Organisation", 0.26),
        Column("Cycle", 0.08, wrap=False, align="RIGHT"),
        Column("From", 0.12, wrap=False, align="RIGHT"),
        Column("To", 0.12, wrap=False, align="RIGHT"),
        Column("Change", 0.14, wrap=False, align="RIGHT"),
    ]
    return [KeepTogether([*out, chart(svg, note)]), table(columns, rows)]


def attention_part(needs: Attention) -> list[Flowable]:
    """Overdue reviews and failed critical questions, the first of each with how many in all."""
    out: list[Flowable] = []
    for reason, title in (
        ("overdue", "Overdue reviews"),
        ("failed_critical", "Failed critical questions"),
    ):
        rows = needs.rows[needs.rows["reason"] == reason]
        count = needs.counts.get(reason, 0)
        out.append(heading(f"{title} ({count:,})"))
        if rows.empty:
            out.append(paragraph("None."))
            continue
        if count > len(rows):
            out.append(paragraph(f"The first {len(rows)} of {count:,}.", "note"))
        out.append(
            table(
                [
                    Column("Product", 0.2),
                    Column("Organisation", 0.18),
                    Column("Questionnaire", 0.2),
                    Column("Status", 0.12),
                    Column("Latest score", 0.1, wrap=False, align="RIGHT"),
                    Column("Why", 0.2),
                ],
                [
                    (
                        r.product,
                        r.organization,
                        r.questionnaire,
                        status_label(r.status),
                        _score(r.latest_score),
                        r.detail,
                    )
                    for r in rows.itertuples(index=False)
                ],
            )
        )
    return out


def benchmark_part(
    peers: PeerDistribution | None,
    version: str,
    own: tuple[pd.DataFrame | None, int],
    svg: bytes | None,
    note: str,
) -> list[Flowable]:
    """The latest section scores of one questionnaire version against the peers, and for a
    client its products' standing (own: the first of them by name, and how many there are)."""
    out: list[Flowable] = [heading("Benchmark against peers")]
    if peers is None:
        return [
            *out,
            paragraph("No scored assessment yet: benchmarks appear once one is submitted."),
        ]
    out.append(paragraph(f"Questionnaire: {version}.", "body"))
    if peers.withheld:
        return [*out, paragraph(peers.withheld, "note")]
    if peers.sections.empty:
        return [*out, paragraph("No peer has a score on this version with these filters.")]
    if not peers.exact:
        out.append(
            paragraph(
                f"Peers are other organisations' products ({peers.size}). To keep them anonymous "
                "the figures are quartiles of scores rounded to 5 points.",
                "note",
            )
        )
    columns = [
        Column("Section", 0.4),
        Column("Peers", 0.15, wrap=False, align="RIGHT"),
        Column("Lower quartile", 0.15, wrap=False, align="RIGHT"),
        Column("Median", 0.15, wrap=False, align="RIGHT"),
        Column("Upper quartile", 0.15, wrap=False, align="RIGHT"),
    ]
    rows = [
        (t, f"{n:,}" if isinstance(n, int) else str(n), _score(a), _score(m), _score(b))
        for t, n, a, m, b in peers.sections[
            ["title", "assessments", "q1", "median", "q3"]
        ].itertuples(index=False)
    ]
    out = [KeepTogether([*out, chart(svg, note)]), table(columns, rows)]
    products, total = own
    if products is not None and not products.empty:
        out.append(heading("Your products against the peers", 2))
        if total > len(products):
            out.append(paragraph(f"The first {len(products)} of {total:,} by name.", "note"))
        out += [
            table(
                [
                    Column("Product", 0.5),
                    Column("Overall score", 0.2, wrap=False, align="RIGHT"),
                    Column("Standing", 0.3),
                ],
                [(p, _score(s), st or "—") for p, s, st in products.itertuples(index=False)],
            )
        ]
    return out
