"""Trends: monthly latest score and completion, a product's score history, biggest movers."""

import streamlit as st

from core.charts import score_history_figure
from core.movers import movers_frame
from core.product_history import product_choices, product_history_frame
from core.trend_charts import KEEP_LINES, MAX_LINES, movers_figure, trend_figure
from core.trends import MAX_SERIES, trend_frame
from ui.cache import aggregate, figure
from ui.filters import filter_block
from ui.navigation import guard

GROUPS = {
    "organization": "Organisation",
    "product": "Product",
    "questionnaire": "Questionnaire",
    "portfolio": "Everything in the filters",
}

actor = guard(__file__)
st.title("Trends")
filters = filter_block(actor)
groups = [g for g in GROUPS if not (actor.is_client and g == "organization")]
group = (
    st.segmented_control(
        "One line per", groups, format_func=GROUPS.get, default=groups[0], key="trend_group"
    )
    or groups[0]
)
with st.spinner("Following scores month by month…"):
    trend = aggregate(trend_frame, filters, group=group)
if trend.empty:
    st.info(
        'No score snapshot within these filters. Widen the date range or choose "All" in a '
        "filter; snapshots are taken when assessments are submitted and decided.",
        icon=":material/timeline:",
    )
    st.stop()
if group == "product":
    st.caption(
        f"At most {MAX_SERIES} products are followed (the first by name): choose an "
        "organisation to narrow."
    )
if (lines := trend["group"].nunique()) > MAX_LINES:
    st.caption(
        f"{lines} lines are too many to read: the {KEEP_LINES} highest and {KEEP_LINES} lowest "
        "in their latest month are drawn by name, the others as their median (dashed) inside "
        "the band of their middle half."
    )
score_tab, completion_tab = st.tabs(["Latest score", "Completion"])
for tab, value in ((score_tab, "score"), (completion_tab, "completion")):
    if trend[value].notna().any():
        tab.plotly_chart(
            figure(trend_figure, trend_frame, filters, group=group, extra=(value,)), width="stretch"
        )
    else:
        tab.info(
            "No score yet within these filters: scores appear once an assessment is submitted.",
            icon=":material/timeline:",
        )
st.caption(
    "Each month shows, per line, the mean of every assessment's newest snapshot up to the "
    "end of that month; completion also counts open assessments not yet submitted, by the "
    "answers they had by then."
)

st.subheader("Biggest movers")
movers = aggregate(movers_frame, filters)
if movers.empty:
    st.info(
        "No assessment has a snapshot in this date range to compare.", icon=":material/swap_vert:"
    )
else:
    st.plotly_chart(figure(movers_figure, movers_frame, filters), width="stretch")

st.subheader("Score history of a product")
found = aggregate(product_choices, filters)
choices, total = found.products, found.total
if not choices:
    st.info("No scored product within these filters.", icon=":material/inventory_2:")
    st.stop()
if total > len(choices):
    st.caption(
        f"The first {len(choices)} of {total} products by name: choose an organisation to narrow."
    )
picked = st.selectbox(
    "Product", choices, format_func=lambda p: f"{p.name} ({p.organization})", key="trend_product"
)
history = aggregate(product_history_frame, picked.id)
if history.empty:
    st.info("This product has no score snapshot yet.", icon=":material/timeline:")
else:
    st.plotly_chart(figure(score_history_figure, product_history_frame, picked.id), width="stretch")
