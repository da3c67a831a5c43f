"""DataFrame -> Plotly figure for products' scores and trends, and the layout all figures share.

The analytics dashboards' figures are in core/dashboard_charts.py; no queries here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.text import plotly_escape
from core.trends import readable_lines

BAND_COLOURS = {"Low": "#2e7d32", "Medium": "#f9a825", "High": "#ef6c00", "Critical": "#c62828"}
SMALL_COUNT = 20  # up to this many, a count axis ticks every whole number


def esc(values) -> list[str]:
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


def count_axis(fig: go.Figure, axis: str, top) -> go.Figure:
    """Whole-number ticks from zero on a count axis (a step of one while counts are small)."""
    top = 0 if top is None or pd.isna(top) else float(top)
    options = dict(rangemode="tozero", tickformat=",d", dtick=1 if top <= SMALL_COUNT else None)
    (fig.update_xaxes if axis == "x" else fig.update_yaxes)(**options)
    return fig


def most(values) -> float:
    """The largest value, ignoring gaps; 0 for none."""
    return max((float(v) for v in values if not pd.isna(v)), default=0.0)


def month_dates(months) -> list:
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


def month_span(months) -> int:
    """How many months the 'YYYY-MM' labels cover, first to last inclusive."""
    months = sorted(set(months))
    if not months:
        return 0
    first, last = (
        (int(months[0][:4]), int(months[0][5:7])),
        (int(months[-1][:4]), int(months[-1][5:7])),
    )
    return (last[0] - first[0]) * 12 + last[1] - first[1] + 1


NO_BAND_COLOUR = "#9e9e9e"
OTHERS_COLOUR = "#9e9e9e"


def _band_colour(band) -> str:
    return BAND_COLOURS.get(band, NO_BAND_COLOUR) if isinstance(band, str) else NO_BAND_COLOUR


def _points(value) -> str:
    return "no score" if value is None or pd.isna(value) else f"{value:.1f}"


def section_scores_figure(frame: pd.DataFrame) -> go.Figure:
    """Horizontal bars of section scores (0-100), coloured by each section's band."""
    scores = frame["score"].astype(float)
    hover = [
        f"{plotly_escape(s)}: {_points(v)} ({b if isinstance(b, str) else 'not scored'}), "
        f"{n} scored answers, weight {w:g}"
        for s, v, b, n, w in zip(
            frame["section"],
            scores,
            frame["band"],
            frame["answered"],
            frame["weight"],
            strict=False,
        )
    ]
    fig = go.Figure(
        go.Bar(
            x=scores.fillna(0),
            y=esc(frame["section"]),
            orientation="h",
            marker_color=[_band_colour(b) for b in frame["band"]],
            text=[_points(v) for v in scores],
            textposition="auto",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 100])
    fig.update_yaxes(autorange="reversed")
    return layout(fig, "Score per section", "Score (0-100)", "")


def lost_points_figure(frame: pd.DataFrame) -> go.Figure:
    """Horizontal bars of the overall points each question lost, largest on top."""
    hover = [
        f"{plotly_escape(k)} ({plotly_escape(s)}): {plotly_escape(t[:90])}<br>lost {p:.2f} points"
        for k, s, t, p in zip(
            frame["question"], frame["section"], frame["text"], frame["points_lost"], strict=False
        )
    ]
    fig = go.Figure(
        go.Bar(
            x=frame["points_lost"],
            y=esc(frame["question"]),
            orientation="h",
            marker_color="#c62828",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return layout(fig, "Questions that cost the most points", "Overall points lost", "")


def waterfall_figure(
    frame: pd.DataFrame, before_overall: float | None, after_overall: float | None, top: int = 15
) -> go.Figure:
    """Waterfall from the before score, one bar per changed question (the smallest grouped), to the
    after score; the bars sum to the difference."""
    start = 0.0 if before_overall is None else float(before_overall)
    shown, rest = frame.iloc[:top], frame.iloc[top:]
    labels = (
        ["Before"]
        + esc(shown["question"])
        + ([f"{len(rest)} other questions"] if len(rest) else [])
    )
    changes = list(shown["change"]) + ([float(rest["change"].sum())] if len(rest) else [])
    hover = (
        [f"Before: {_points(before_overall)}"]
        + [
            f"{plotly_escape(k)}: {plotly_escape(t[:90])}<br>{c:+.2f} points"
            for k, t, c in zip(shown["question"], shown["text"], shown["change"], strict=False)
        ]
        + ([f"{len(rest)} smaller changes: {changes[-1]:+.2f} points"] if len(rest) else [])
        + [f"After: {_points(after_overall)}"]
    )
    fig = go.Figure(
        go.Waterfall(
            x=labels + ["After"],
            measure=["absolute"] + ["relative"] * len(changes) + ["total"],
            y=[start] + changes + [0.0],
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            text=[_points(before_overall)]
            + [f"{c:+.1f}" for c in changes]
            + [_points(after_overall)],
            increasing_marker_color="#2e7d32",
            decreasing_marker_color="#c62828",
            totals_marker_color="#1f4e79",
            connector_line_color="#9e9e9e",
        )
    )
    return layout(fig, "What moved the score", "", "Overall score")


def score_history_figure(frame: pd.DataFrame) -> go.Figure:
    """Overall score over time, one line per cycle, markers coloured by band (recomputes as diamonds)."""
    fig = go.Figure()
    for cycle, rows in frame.sort_values("time", kind="stable").groupby("cycle", sort=True):
        hover = [
            f"{plotly_escape(label)}<br>band: {b if isinstance(b, str) else 'none'}"
            for label, b in zip(rows["label"], rows["band"], strict=False)
        ]
        fig.add_trace(
            go.Scatter(
                x=rows["time"],
                y=rows["overall"],
                mode="lines+markers",
                name=f"Cycle {cycle}",
                customdata=hover,
                hovertemplate="%{customdata}<extra></extra>",
                marker=dict(
                    size=11,
                    color=[_band_colour(b) for b in rows["band"]],
                    symbol=["diamond" if t == "recompute" else "circle" for t in rows["trigger"]],
                    line=dict(width=1, color="#333"),
                ),
            )
        )
    fig.update_yaxes(range=[0, 100])
    return date_axis(layout(fig, "Score history", "", "Overall score"), tickformat="%d %b %Y")


def _trend_line(group: str, rows: pd.DataFrame, value: str, scale: float) -> go.Scatter:
    rows = rows.sort_values("month")
    # The group's name goes in as data, never into the template, where "%{...}" would be read.
    return go.Scatter(
        x=month_dates(rows["month"]),
        y=(rows[value] * scale).round(1),
        name=plotly_escape(group),
        mode="lines+markers",
        customdata=[[n, plotly_escape(group)] for n in rows["assessments"]],
        hovertemplate="%{customdata[1]}<br>%{x|%b %Y}: %{y:.1f}"
        "<br>%{customdata[0]} assessments<extra></extra>",
    )


def _others_band(others: pd.DataFrame, count: int, scale: float) -> list[go.Scatter]:
    """The groups not drawn by name: their median as a dashed line inside their middle half."""
    x = month_dates(others["month"])
    label = f"the other {count}"
    hover = [
        [f"{q1 * scale:.1f}–{q3 * scale:.1f}", n]
        for q1, q3, n in zip(others["q1"], others["q3"], others["groups"], strict=False)
    ]
    return [
        go.Scatter(
            x=x,
            y=(others["q3"] * scale).round(1),
            mode="lines",
            line_width=0,
            hoverinfo="skip",
            showlegend=False,
            name=f"Upper quartile of {label}",
        ),
        go.Scatter(
            x=x,
            y=(others["q1"] * scale).round(1),
            mode="lines",
            line_width=0,
            fill="tonexty",
            fillcolor="rgba(158,158,158,0.25)",
            hoverinfo="skip",
            name=f"Middle half of {label}",
        ),
        go.Scatter(
            x=x,
            y=(others["median"] * scale).round(1),
            mode="lines+markers",
            name=f"Median of {label}",
            line=dict(color=OTHERS_COLOUR, dash="dash"),
            marker_color=OTHERS_COLOUR,
            customdata=hover,
            hovertemplate="Median of " + label + "<br>%{x|%b %Y}: %{y:.1f}<br>middle half "
            "%{customdata[0]}, %{customdata[1]} lines<extra></extra>",
        ),
    ]


def trend_figure(frame: pd.DataFrame, value: str = "score") -> go.Figure:
    """One line per group over the months: latest score (0-100) or completion (%). Past
    trends.MAX_LINES groups, the highest and lowest in their latest month are drawn by name and
    the others as their median inside their middle half."""
    scale = 100.0 if value == "completion" else 1.0
    label = "Completion (%)" if value == "completion" else "Latest score (0-100)"
    named, others, count = readable_lines(frame, value)
    fig = go.Figure(
        [
            _trend_line(group, named[named["group"] == group], value, scale)
            for group in named["group"].drop_duplicates()
        ]
    )
    if others is not None:
        fig.add_traces(_others_band(others, count, scale))
    fig.update_layout(legend_traceorder="normal")  # a filled band would reverse it: highest first
    fig.update_yaxes(range=[0, 100])
    title = "Completion by month" if value == "completion" else "Latest score by month"
    return date_axis(layout(fig, title, "Month", label), month_span(frame["month"]))


def movers_figure(frame: pd.DataFrame) -> go.Figure:
    """Horizontal bars of the biggest score changes, rises green and falls red."""
    labels = [
        plotly_escape(f"{p} ({o})")
        for p, o in zip(frame["product"], frame["organization"], strict=False)
    ]
    fig = go.Figure(
        go.Bar(
            x=frame["change"].round(1),
            y=labels,
            orientation="h",
            marker_color=["#2e7d32" if c > 0 else "#c62828" for c in frame["change"]],
            customdata=list(
                zip(frame["start_score"].round(1), frame["end_score"].round(1), strict=False)
            ),
            hovertemplate="%{y}<br>%{customdata[0]} → %{customdata[1]}: "
            "%{x:+.1f} points<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return layout(fig, "Biggest movers in the period", "Score change (points)", "").update_layout(
        height=max(340, 24 * len(frame) + 80)
    )
