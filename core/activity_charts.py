"""DataFrame -> Plotly figure for user activity: sign-ins per user and per day, active users, actions.

The frames come from core/activity_metrics.py and the sign-in log; no queries here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.chart_layout import count_axis, date_axis, esc, layout, most


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
