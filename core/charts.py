"""DataFrame -> Plotly figure; no queries here."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.workflow import LABELS

BAND_COLOURS = {"Low": "#2e7d32", "Medium": "#f9a825", "High": "#ef6c00", "Critical": "#c62828"}


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=340,
                      margin=dict(l=10, r=10, t=50, b=10))
    fig.update_layout(showlegend=len(fig.data) > 1)
    return fig


def status_figure(frame: pd.DataFrame) -> go.Figure:
    """Horizontal bars of assessments per status, in workflow order."""
    labels = [LABELS[s] for s in frame["status"]]
    fig = go.Figure(go.Bar(x=frame["assessments"], y=labels, orientation="h",
                           marker_color="#1f4e79",
                           hovertemplate="%{y}: %{x} assessments<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Assessments by status", "Assessments", "")


def band_figure(frame: pd.DataFrame) -> go.Figure:
    """Bars of assessments per risk band, coloured by band."""
    order = [b for b in BAND_COLOURS if b in set(frame["band"])]
    data = frame.set_index("band").reindex(order).reset_index()
    fig = go.Figure(go.Bar(x=data["band"], y=data["assessments"],
                           marker_color=[BAND_COLOURS[b] for b in data["band"]],
                           hovertemplate="%{x} risk: %{y} assessments<extra></extra>"))
    return _layout(fig, "Latest risk band", "Risk band", "Assessments")


def sign_in_figure(attempts: pd.DataFrame) -> go.Figure:
    """Grouped bars of successful and failed sign-ins per user."""
    outcome = attempts["succeeded"].map({True: "Success", False: "Failure"})
    counts = attempts.assign(outcome=outcome).groupby(["username", "outcome"]).size()
    fig = go.Figure([go.Bar(name=name, x=counts.xs(name, level="outcome").index,
                            y=counts.xs(name, level="outcome").values, marker_color=colour,
                            hovertemplate="%{x}: %{y} " + name.lower() + "s<extra></extra>")
                     for name, colour in (("Success", "#2e7d32"), ("Failure", "#c62828"))
                     if name in set(outcome)])
    fig.update_layout(barmode="group")
    return _layout(fig, "Sign-in attempts per user", "", "Attempts")
