"""DataFrame -> Plotly figure for the analytics dashboards: portfolio counts, reviews, peers, activity.

Scores and trends of products, and the shared layout helpers, are in core/charts.py; no queries here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.charts import (
    BAND_COLOURS,
    count_axis,
    date_axis,
    esc,
    layout,
    month_dates,
    month_span,
    most,
)
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


def sign_in_figure(attempts: pd.DataFrame) -> go.Figure:
    """Grouped bars of successful and failed sign-ins per user."""
    outcome = attempts["succeeded"].map({True: "Success", False: "Failure"})
    counts = attempts.assign(outcome=outcome).groupby(["username", "outcome"]).size()
    fig = go.Figure(
        [
            go.Bar(
                name=name,
                x=esc(counts.xs(name, level="outcome").index),
                y=counts.xs(name, level="outcome").values,
                marker_color=colour,
                hovertemplate="%{x}: %{y} " + name.lower() + "s<extra></extra>",
            )
            for name, colour in (("Success", "#2e7d32"), ("Failure", "#c62828"))
            if name in set(outcome)
        ]
    )
    fig.update_layout(barmode="group")
    return count_axis(layout(fig, "Sign-in attempts per user", "", "Attempts"), "y", most(counts))


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


def _every_day(frame: pd.DataFrame) -> pd.DataFrame:
    """The per-day counts with the days between the first and the last filled in as zeros."""
    days = pd.to_datetime(frame["day"])
    counts = frame.assign(day=days).set_index("day")[["succeeded", "failed"]]
    every = pd.date_range(days.min(), days.max(), freq="D")
    return counts.reindex(every, fill_value=0).astype(int).rename_axis("day").reset_index()


def sign_ins_per_day_figure(frame: pd.DataFrame) -> go.Figure:
    """Successful and failed sign-ins per day (days without any drawn as zero)."""
    daily = _every_day(frame)
    fig = go.Figure(
        [
            go.Scatter(
                x=daily["day"],
                y=daily[column],
                name=name,
                mode="lines+markers",
                line_color=colour,
                marker_size=6,
                hovertemplate=f"%{{x|%d %b %Y}}: %{{y}} {name.lower()}<extra></extra>",
            )
            for column, name, colour in (
                ("succeeded", "Sign-ins", "#2e7d32"),
                ("failed", "Failures", "#c62828"),
            )
        ]
    )
    fig = date_axis(layout(fig, "Sign-ins per day", "Day (UTC)", "Attempts"), tickformat="%d %b")
    if len(daily) == 1:  # one day: a range of its own, not fractions of a millisecond
        day = daily["day"].iloc[0]
        fig.update_xaxes(
            range=[day - pd.Timedelta(days=1), day + pd.Timedelta(days=1)], dtick=86_400_000
        )
    return count_axis(fig, "y", most([*daily["succeeded"], *daily["failed"]]))


def active_users_figure(frame: pd.DataFrame) -> go.Figure:
    """Grouped bars per role: people who signed in, and active accounts."""
    roles = [r.replace("_", " ").title() for r in frame["role"]]
    fig = go.Figure(
        [
            go.Bar(
                x=roles,
                y=frame[column],
                name=name,
                marker_color=colour,
                hovertemplate=f"%{{x}}: %{{y}} {name.lower()}<extra></extra>",
            )
            for column, name, colour in (
                ("active_users", "Signed in", "#1f4e79"),
                ("accounts", "Active accounts", "#9e9e9e"),
            )
        ]
    )
    fig.update_layout(barmode="group")
    return count_axis(
        layout(fig, "Active users by role", "Role", "People"),
        "y",
        most([*frame["active_users"], *frame["accounts"]]),
    )


def actions_figure(frame: pd.DataFrame) -> go.Figure:
    """Horizontal bars of the most frequent audited actions."""
    fig = go.Figure(
        go.Bar(
            x=frame["count"],
            y=esc(a.replace("_", " ") for a in frame["action"]),
            orientation="h",
            marker_color="#1f4e79",
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return count_axis(
        layout(fig, "Actions by type", "Times", ""), "x", most(frame["count"])
    ).update_layout(height=max(340, 22 * len(frame) + 80))
