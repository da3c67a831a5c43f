"""What every figure shares: band colours, the common layout, count and date axes, plain labels.

The figures themselves are in core/charts.py (a product's scores), core/trend_charts.py and
core/dashboard_charts.py; no queries here.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

from core.text import plotly_escape

BAND_COLOURS = {"Low": "#2e7d32", "Medium": "#f9a825", "High": "#ef6c00", "Critical": "#c62828"}
SMALL_COUNT = 20  # up to this many, a count axis ticks every whole number


def esc(values: Iterable[object]) -> list[str]:
    """Each value as literal text for a Plotly label."""
    # Plotly reads <a href>, <b>, <br> in labels, ticks, legends and hover text: product,
    # organisation, user and section names are user text and must show as typed.
    return [plotly_escape(v) for v in values]


def layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    """Title, axis titles and the common size; a legend only when there are several traces."""
    fig.update_layout(
        title=title, xaxis_title=x, yaxis_title=y, height=340, margin=dict(l=10, r=10, t=50, b=10)
    )
    fig.update_layout(showlegend=len(fig.data) > 1)
    return fig


def count_axis(fig: go.Figure, axis: str, top: float | None) -> go.Figure:
    """Whole-number ticks from zero on a count axis (a step of one while counts are small)."""
    top = 0 if top is None or pd.isna(top) else float(top)
    options = dict(rangemode="tozero", tickformat=",d", dtick=1 if top <= SMALL_COUNT else None)
    (fig.update_xaxes if axis == "x" else fig.update_yaxes)(**options)
    return fig


def most(values: Iterable[float | None]) -> float:
    """The largest value, ignoring gaps; 0 for none."""
    return max((float(v) for v in values if not pd.isna(v)), default=0.0)


def month_dates(months: Iterable[str]) -> list[pd.Timestamp]:
    """'YYYY-MM' labels as the first day of each month, for a real date axis."""
    return list(pd.to_datetime([f"{m}-01" for m in months]))


def date_axis(fig: go.Figure, months: int | None = None, tickformat: str = "%b %Y") -> go.Figure:
    """A date x axis; monthly data gets one tick per month (fewer over long ranges), at month starts."""
    options = dict(type="date", tickformat=tickformat)
    if months is not None:
        options.update(
            dtick=f"M{1 if months <= 12 else 3 if months <= 36 else 6}", tick0="2000-01-01"
        )
    fig.update_xaxes(**options)
    return fig


def month_span(months: Iterable[str]) -> int:
    """How many months the 'YYYY-MM' labels cover, first to last inclusive."""
    ordered = sorted(set(months))
    if not ordered:
        return 0
    first, last = (
        (int(ordered[0][:4]), int(ordered[0][5:7])),
        (int(ordered[-1][:4]), int(ordered[-1][5:7])),
    )
    return (last[0] - first[0]) * 12 + last[1] - first[1] + 1


def stacked_bars(
    names: list[str],
    series: Iterable[tuple[str, str, list[int], list[str]]],
    title: str,
    x: str,
    *,
    row_height: int,
) -> go.Figure:
    """Horizontal bars stacked from (label, colour, counts, hover texts) series, one bar per
    name, first name on top, the legend above the plot."""
    fig = go.Figure()
    totals = [0] * len(names)
    for label, colour, counts, hover in series:
        totals = [t + n for t, n in zip(totals, counts, strict=True)]
        fig.add_trace(
            go.Bar(
                x=counts,
                y=names,
                name=label,
                orientation="h",
                marker_color=colour,
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
            )
        )
    fig.update_yaxes(autorange="reversed")
    layout(fig, title, x, "")
    fig.update_layout(
        barmode="stack",
        height=170 + row_height * len(names),
        margin=dict(t=80),
        showlegend=True,
        legend=dict(orientation="h", traceorder="normal", yanchor="bottom", y=1.01, x=0),
    )
    return count_axis(fig, "x", most(totals))
