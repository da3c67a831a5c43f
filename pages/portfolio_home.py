"""Portfolio home for managers, analysts and admins: totals and status at a glance."""

import streamlit as st

from core.analytics import band_frame, portfolio_totals, status_frame
from core.dashboard_charts import band_figure, status_figure
from ui.navigation import guard
from ui.state import reading

actor = guard(__file__)
st.title("Portfolio")
with reading() as s:
    totals = portfolio_totals(s, actor)
    statuses = status_frame(s, actor)
    bands = band_frame(s, actor)

c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Organisations", totals.organizations)
c2.metric("Products", totals.products)
c3.metric("Assessments", totals.assessments)
c4.metric(
    "Average latest score", "–" if totals.average_score is None else f"{totals.average_score:.1f}"
)
c5.metric(
    "Average completion",
    "–" if totals.average_completion is None else f"{totals.average_completion * 100:.0f}%",
)

if not totals.assessments:
    st.info(
        "No assessments yet. Clients start assessments from their products page.",
        icon=":material/dashboard:",
    )
    st.stop()
left, right = st.columns(2)
left.plotly_chart(status_figure(statuses), width="stretch")
if bands.empty:
    right.info("No scored assessments yet: scores appear once an assessment is submitted.")
else:
    right.plotly_chart(band_figure(bands), width="stretch")
