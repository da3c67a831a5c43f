"""Assurance shares -> Plotly figure: the share of a score's points at each level as horizontal
stacked bars, in core.assurance's order from least to most assured, one colour per level on
every page. No queries here (the shares come from core/assurance_view.py)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from core.assurance import LEVEL_LABELS, LEVELS, Assurance, Shares
from core.assurance_view import NOT_ASSURED, PORTFOLIO_LEVELS
from core.chart_layout import esc, layout
from core.text import plotly_escape

LABELS = {**LEVEL_LABELS, NOT_ASSURED: "Self-attested or with evidence"}
# Least to most assured, light to dark: readable in grey too.
COLOURS = {
    "self_attested": "#d9d9d9",
    "evidence": "#9ecae1",
    NOT_ASSURED: "#c6cdd4",
    "evidence_valid": "#3182bd",
    "accepted": "#08519c",
}
OVERALL = "Overall score"
SMALL_SHARE = 6.0  # a segment narrower than this many percent carries no text (hover has it)


def percent(value: float) -> str:
    """A share in words on the chart: whole percent, or "under 1%" for a sliver."""
    return "under 1%" if 0 < value < 0.5 else f"{value:.0f}%"


def percents(shares: Shares, levels: Sequence[str]) -> dict[str, str]:
    """Each level's share in whole percent that add up to 100 (largest remainders round up);
    "under 1%" for a sliver that rounds to nothing. Shares that do not sum to 100 round alone."""
    values = {level: float(shares.get(level, 0.0)) for level in levels}
    whole = {level: math.floor(v) for level, v in values.items()}
    short = 100 - sum(whole.values())
    if abs(sum(values.values()) - 100) > 1e-6:
        return {level: percent(v) for level, v in values.items()}
    for level in sorted(values, key=lambda lv: values[lv] - whole[lv], reverse=True)[:short]:
        whole[level] += 1
    return {
        level: "under 1%" if whole[level] == 0 and values[level] > 0 else f"{whole[level]}%"
        for level in levels
    }


def shares_figure(
    rows: Sequence[tuple[str, Shares]], levels: Sequence[str], title: str
) -> go.Figure:
    """One horizontal bar per (name, shares) row, first on top, stacked by `levels` in order;
    each segment's percent as text (when wide enough) and in the hover, a legend in words."""
    names = esc(name for name, _ in rows)
    fig = go.Figure()
    words = [percents(shares, levels) for _, shares in rows]
    for level in levels:
        values = [float(shares.get(level, 0.0)) for _, shares in rows]
        said = [w[level] for w in words]
        fig.add_trace(
            go.Bar(
                x=values,
                y=names,
                name=LABELS[level],
                orientation="h",
                marker_color=COLOURS[level],
                text=[w if v >= SMALL_SHARE else "" for w, v in zip(said, values, strict=True)],
                textposition="inside",
                insidetextanchor="middle",
                customdata=[
                    f"{plotly_escape(name)}: {w} of the points {LABELS[level].lower()}"
                    for (name, _), w in zip(rows, said, strict=True)
                ],
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    ticks = [0, 20, 40, 60, 80, 100]  # texts, not a suffix: Streamlit's theme drops suffixes
    fig.update_xaxes(range=[0, 100], tickvals=ticks, ticktext=[f"{t}%" for t in ticks])
    fig.update_yaxes(autorange="reversed")
    layout(fig, title, "Share of the points", "")
    return fig.update_layout(
        barmode="stack",
        height=150 + 34 * len(rows),
        margin=dict(t=80, r=30),  # room for the 100% tick
        showlegend=True,
        legend=dict(orientation="h", traceorder="normal", yanchor="bottom", y=1.01, x=0),
        uniformtext=dict(minsize=10, mode="hide"),
    )


def assurance_figure(assurance: Assurance, sections: Mapping[str, str]) -> go.Figure:
    """The overall score's points by level on top, then each section's (`sections`: key to
    title, in the questionnaire's order); a section with no points has no bar."""
    rows = [(OVERALL, assurance.overall)] + [
        (title, assurance.sections.get(key)) for key, title in sections.items()
    ]
    shown = [(name, shares) for name, shares in rows if shares is not None]
    return shares_figure(shown, LEVELS, "Points by assurance level")


def portfolio_assurance_figure(shares: Shares) -> go.Figure:
    """The portfolio's points by level: not assured, evidence in date, reviewer-accepted."""
    return shares_figure([("Latest scores", shares)], PORTFOLIO_LEVELS, "Points by assurance level")
