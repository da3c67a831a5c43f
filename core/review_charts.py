"""DataFrame -> Plotly figure for review operations: turnaround, time in status, rounds, decisions.

The frames come from core/operations_metrics.py; no queries here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.chart_layout import count_axis, date_axis, layout, month_dates, month_span, most
from core.text import plotly_escape
from core.workflow import LABELS


def turnaround_figure(frame: pd.DataFrame) -> go.Figure:
    """Mean days from submission to decision per month, with decisions and SLA breaches."""
    frame = frame.sort_values("month")
    fig = go.Figure(
        go.Bar(
            x=month_dates(frame["month"]),
            y=frame["mean_days"].round(1),
            xperiod="M1",
            xperiodalignment="middle",
            marker_color="#1f4e79",
            customdata=list(
                zip(frame["decisions"], frame["over_sla"], frame["max_days"].round(1), strict=False)
            ),
            hovertemplate="%{x|%b %Y}: %{y:.1f} days on average<br>%{customdata[0]} "
            "decisions, %{customdata[1]} past the SLA, longest "
            "%{customdata[2]} days<extra></extra>",
        )
    )
    return date_axis(
        layout(fig, "Review turnaround (submission to decision)", "Month of decision", "Mean days"),
        month_span(frame["month"]),
    )


def time_in_status_figure(frame: pd.DataFrame) -> go.Figure:
    """Horizontal bars of the mean days spent in each open status."""
    labels = [LABELS.get(s, s) for s in frame["status"]]
    fig = go.Figure(
        go.Bar(
            x=frame["mean_days"].round(1),
            y=labels,
            orientation="h",
            marker_color="#1f4e79",
            customdata=list(zip(frame["stays"], frame["max_days"].round(1), strict=False)),
            hovertemplate="%{y}: %{x:.1f} days on average<br>%{customdata[0]} stays, "
            "longest %{customdata[1]} days<extra></extra>",
        )
    )
    return layout(fig, "Time in each status", "Mean days", "")


def rounds_figure(frame: pd.DataFrame) -> go.Figure:
    """Bars of assessments by number of change-request rounds."""
    frame = frame.sort_values("rounds")
    labels = [str(int(r)) for r in frame["rounds"]]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=frame["assessments"],
            marker_color="#ef6c00",
            hovertemplate="%{x} rounds: %{y} assessments<extra></extra>",
        )
    )
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels)
    return count_axis(
        layout(fig, "Change-request rounds per assessment", "Rounds", "Assessments"),
        "y",
        most(frame["assessments"]),
    )


def decisions_figure(frame: pd.DataFrame) -> go.Figure:
    """Stacked bars of decisions per month, one colour per reviewer."""
    frame = frame.sort_values("month")
    fig = go.Figure(
        [
            go.Bar(
                x=month_dates(rows["month"]),
                y=rows["decisions"],
                name=plotly_escape(who),
                xperiod="M1",
                xperiodalignment="middle",
                customdata=[plotly_escape(who)] * len(rows),
                hovertemplate="%{customdata}<br>%{x|%b %Y}: %{y} decisions<extra></extra>",
            )
            for who, rows in frame.groupby("reviewer", sort=True)
        ]
    )
    fig.update_layout(barmode="stack")
    fig = layout(fig, "Decisions per reviewer", "Month", "Decisions")
    return count_axis(
        date_axis(fig, month_span(frame["month"])),
        "y",
        most(frame.groupby("month")["decisions"].sum()),
    )
