"""DataFrame -> Plotly figure for the trends page: score and completion by month, biggest movers.

Past MAX_LINES groups a trend chart names only the KEEP_LINES highest and lowest and draws the
others as their median inside their middle half; no queries here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.chart_layout import date_axis, layout, month_dates, month_span
from core.text import plotly_escape

MAX_LINES = 8  # past this many groups a trend chart names only the highest and lowest...
KEEP_LINES = 4  # ...this many of each, and draws the others as a median inside their middle half
OTHERS_COLOUR = "#9e9e9e"


def readable_lines(
    frame: pd.DataFrame, value: str
) -> tuple[pd.DataFrame, pd.DataFrame | None, int]:
    """The lines a person can read: every group while there are at most MAX_LINES; else the
    KEEP_LINES highest and lowest by their latest `value`, plus per month the median and quartiles
    of the others (columns month, median, q1, q3, groups) and how many others there are. Named
    groups come highest first."""
    latest = (
        frame.dropna(subset=[value])
        .sort_values("month")
        .groupby("group")[value]
        .last()
        .sort_values(ascending=False, kind="stable")
    )
    drawn = list(latest.index)
    if frame["group"].nunique() <= MAX_LINES:
        order = drawn + sorted(set(frame["group"]) - set(drawn))
        return _in_order(frame, order), None, 0
    names = list(dict.fromkeys([*drawn[:KEEP_LINES], *drawn[-KEEP_LINES:]]))
    rest = frame[~frame["group"].isin(names)].dropna(subset=[value])
    others = (
        rest.groupby("month")[value]
        .agg(
            median="median",
            q1=lambda v: v.quantile(0.25),
            q3=lambda v: v.quantile(0.75),
            groups="size",
        )
        .reset_index()
        .sort_values("month")
    )
    return _in_order(frame, names), others, frame["group"].nunique() - len(names)


def _in_order(frame: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    rank = {g: i for i, g in enumerate(groups)}
    kept = frame[frame["group"].isin(rank)]
    return (
        kept.assign(_rank=kept["group"].map(rank))
        .sort_values(["_rank", "month"])
        .drop(columns="_rank")
    )


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
    MAX_LINES groups, the highest and lowest in their latest month are drawn by name and
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
