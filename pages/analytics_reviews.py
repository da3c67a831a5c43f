"""Review operations: turnaround, time in each status, change-request rounds, reviewer workload."""

import streamlit as st

from core.operations_metrics import (
    decisions_frame,
    rounds_frame,
    time_in_status_frame,
    turnaround_frame,
    workload_frame,
)
from core.review_charts import (
    decisions_figure,
    rounds_figure,
    time_in_status_figure,
    turnaround_figure,
)
from ui.cache import aggregate, figure
from ui.filters import filter_block
from ui.navigation import guard

actor = guard(__file__)
st.title("Review operations")
filters = filter_block(actor)
with st.spinner("Reading the status timeline…"):
    turnaround = aggregate(turnaround_frame, filters)
    stays = aggregate(time_in_status_frame, filters)
    rounds = aggregate(rounds_frame, filters)
    workload = aggregate(workload_frame, filters)
    decisions = aggregate(decisions_frame, filters)

c1, c2, c3 = st.columns(3)
decided = int(turnaround["decisions"].sum()) if not turnaround.empty else 0
c1.metric("Decisions in the period", decided)
c2.metric("Past the review SLA", int(turnaround["over_sla"].sum()) if decided else 0)
c3.metric("Overdue now", int(workload["overdue"].sum()) if not workload.empty else 0)
if not decided and stays.empty:
    st.info(
        'No review activity within these filters. Widen the date range or choose "All" in a '
        "filter.",
        icon=":material/timer_off:",
    )
    st.stop()

left, right = st.columns(2)
if decided:
    left.plotly_chart(figure(turnaround_figure, turnaround_frame, filters), width="stretch")
if not stays.empty:
    right.plotly_chart(
        figure(time_in_status_figure, time_in_status_frame, filters), width="stretch"
    )
left, right = st.columns(2)
if not rounds.empty:
    left.plotly_chart(figure(rounds_figure, rounds_frame, filters), width="stretch")
if not decisions.empty:
    right.plotly_chart(figure(decisions_figure, decisions_frame, filters), width="stretch")

st.subheader("Workload now")
if workload.empty:
    st.success("Nothing waits for review.", icon=":material/task_alt:")
else:
    st.dataframe(
        workload,
        hide_index=True,
        width="stretch",
        column_config={
            "reviewer": "Reviewer",
            "under_review": "Under review",
            "submitted": "Submitted, waiting",
            "overdue": "Overdue",
        },
    )
