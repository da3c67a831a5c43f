"""DataFrame -> Plotly figure for a product's scores: per section, lost points, what moved, history.

The shared layout helpers are in core/chart_layout.py, the trends page's figures in
core/trend_charts.py and the analytics dashboards' in core/dashboard_charts.py; no queries here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.chart_layout import BAND_COLOURS, date_axis, esc, layout
from core.text import plotly_escape

NO_BAND_COLOUR = "#9e9e9e"


def _band_colour(band: object) -> str:
    return BAND_COLOURS.get(band, NO_BAND_COLOUR) if isinstance(band, str) else NO_BAND_COLOUR


def _points(value: float | None) -> str:
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
