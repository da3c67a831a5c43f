"""Analytics overview: totals, the funnel, risk bands, how well the scores are proven and the
assessments that need attention."""

import streamlit as st

from core.analytics import overview
from core.attention import attention
from core.dashboard_charts import band_figure, funnel_figure, status_figure
from core.workflow import LABELS
from ui.assurance import portfolio_assurance_block
from ui.cache import aggregate, figure
from ui.filters import filter_block
from ui.navigation import guard
from ui.reports import board_pack_button
from ui.tables import show_table

REASONS = {
    "overdue": "Overdue reviews",
    "failed_critical": "Failed critical questions",
    "score_drop": "Score drops",
}

actor = guard(__file__)
st.title("Overview")
filters = filter_block(
    actor,
    ("organization", "questionnaire", "industry", "tier", "accepted"),
    caption="The overview shows assessments as they stand now; the date range "
    "applies to trends, review operations, activity and extracts.",
)
with st.spinner("Counting assessments…"):
    summary = aggregate(overview, filters)
    needing = aggregate(attention, filters)
totals, needs, counts = summary.totals, needing.rows, needing.counts

c1, c2, c3, c4, c5, c6 = st.columns(6)
c1.metric("Organisations", totals.organizations)
c2.metric("Products", totals.products)
c3.metric("Assessments", totals.assessments)
c4.metric(
    "Average latest score", "–" if totals.average_score is None else f"{totals.average_score:.1f}"
)
c5.metric("Completion", "–" if totals.completion_rate is None else f"{totals.completion_rate:.0%}")
c6.metric("Overdue reviews", totals.overdue)
board_pack_button(filters)
if not totals.assessments:
    st.info(
        'No assessment matches these filters. Choose "All" in a sidebar filter, or start an '
        "assessment from a product page.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

left, middle, right = st.columns(3)
left.plotly_chart(figure(funnel_figure, overview, filters, part="funnel"), width="stretch")
middle.plotly_chart(figure(status_figure, overview, filters, part="statuses"), width="stretch")
if summary.bands.empty:
    right.info("No scored assessment yet: scores appear once an assessment is submitted.")
else:
    right.plotly_chart(figure(band_figure, overview, filters, part="bands"), width="stretch")

portfolio_assurance_block(filters)

st.subheader("Needs attention")
tabs = st.tabs([f"{label} ({counts.get(reason, 0)})" for reason, label in REASONS.items()])
for tab, reason in zip(tabs, REASONS, strict=False):
    rows = needs[needs["reason"] == reason].drop(columns=["reason"])
    if rows.empty:
        tab.success("Nothing here.", icon=":material/task_alt:")
        continue
    if counts[reason] > len(rows):
        tab.caption(f"The first {len(rows)} of {counts[reason]}.")
    with tab:
        show_table(
            rows.assign(status=rows["status"].map(LABELS)),
            {
                "assessment_id": "Assessment",
                "organization": "Organisation",
                "product": "Product",
                "questionnaire": "Questionnaire",
                "status": "Status",
                "latest_band": "Risk band",
                "detail": "Why",
                "latest_score": st.column_config.NumberColumn("Latest score", format="%.1f"),
            },
        )
