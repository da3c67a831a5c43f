"""DataFrame -> Plotly figure for the portfolio and overview counts and the benchmarks against peers.

Review operations' figures are in core/review_charts.py, user activity's in core/activity_charts.py,
a product's scores and trends in core/charts.py and core/trend_charts.py; no queries here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.chart_layout import BAND_COLOURS, count_axis, esc, layout, most
from core.text import plotly_escape
from core.workflow import LABELS


def status_figure(frame: pd.DataFrame) -> go.Figure:
    """Horizontal bars of assessments per status, in workflow order."""
    labels = [LABELS[s] for s in frame["status"]]
    fig = go.Figure(
        go.Bar(
            x=frame["assessments"],
            y=labels,
            orientation="h",
            marker_color="#1f4e79",
            hovertemplate="%{y}: %{x} assessments<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return count_axis(
        layout(fig, "Assessments by status", "Assessments", ""), "x", most(frame["assessments"])
    )


def band_figure(frame: pd.DataFrame) -> go.Figure:
    """Bars of assessments per risk band, coloured by band."""
    order = [b for b in BAND_COLOURS if b in set(frame["band"])]
    data = frame.set_index("band").reindex(order).reset_index()
    fig = go.Figure(
        go.Bar(
            x=data["band"],
            y=data["assessments"],
            marker_color=[BAND_COLOURS[b] for b in data["band"]],
            hovertemplate="%{x} risk: %{y} assessments<extra></extra>",
        )
    )
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order)
    return count_axis(
        layout(fig, "Latest risk band", "Risk band", "Assessments"), "y", most(data["assessments"])
    )


def funnel_figure(frame: pd.DataFrame) -> go.Figure:
    """Funnel of assessments: started, answering, submitted, decided, approved."""
    fig = go.Figure(
        go.Funnel(
            y=frame["stage"],
            x=frame["assessments"],
            marker_color="#1f4e79",
            textinfo="value+percent initial",
            hovertemplate="%{y}: %{x} assessments<extra></extra>",
        )
    )
    return count_axis(
        layout(fig, "Assessment funnel", "Assessments", ""), "x", most(frame["assessments"])
    )


def section_box_figure(
    dist: pd.DataFrame, position: pd.DataFrame | None = None, product: str = ""
) -> go.Figure:
    """Box per section from peer quantiles (whiskers at the 5th and 95th percentiles, none where
    those and the mean are withheld, as for clients), with the chosen product's scores and
    standing (text) as diamonds."""
    fig = go.Figure(
        go.Box(
            x=esc(dist["title"]),
            q1=dist["q1"],
            median=dist["median"],
            q3=dist["q3"],
            lowerfence=dist["p05"].fillna(dist["q1"]),
            upperfence=dist["p95"].fillna(dist["q3"]),
            mean=dist["mean"] if dist["mean"].notna().any() else None,
            name="Peers",
            marker_color="#1f4e79",
            boxpoints=False,
        )
    )
    if position is not None and not position.empty:
        shown = position.dropna(subset=["score"])
        fig.add_trace(
            go.Scatter(
                x=esc(shown["title"]),
                y=shown["score"].round(1),
                mode="markers",
                name=plotly_escape(product) or "Product",
                customdata=shown["standing"],
                marker=dict(
                    symbol="diamond", size=13, color="#ef6c00", line=dict(width=1, color="#333")
                ),
                hovertemplate="%{x}: %{y:.1f} (%{customdata})<extra></extra>",
            )
        )
    fig.update_yaxes(range=[0, 100])
    return layout(fig, "Latest scores per section against peers", "", "Score (0-100)")


def heatmap_figure(frame: pd.DataFrame) -> go.Figure:
    """Products (rows) by sections (columns), coloured by latest section score."""
    grid = frame.pivot_table(index="product", columns="title", values="score", sort=False)
    fig = go.Figure(
        go.Heatmap(
            z=grid.round(1).values,
            x=esc(grid.columns),
            y=esc(grid.index),
            zmin=0,
            zmax=100,
            colorscale="RdYlGn",
            colorbar=dict(title="Score"),
            hovertemplate="%{y} · %{x}: %{z:.1f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return layout(fig, "Section scores per product", "Section", "").update_layout(
        height=max(340, 22 * len(grid) + 120)
    )
