"""Benchmarking: latest section scores of one questionnaire version against peers."""

from dataclasses import replace

import streamlit as st

from core.dashboard_charts import heatmap_figure, section_box_figure
from core.labels import tier_label
from core.peer_benchmarks import peer_distribution, product_scores, rank_against, versions
from core.peer_groups import peer_groups_frame
from core.product_history import product_choices
from core.section_heatmap import heatmap_frame
from core.text import md_escape
from ui.cache import aggregate, figure
from ui.filters import FILTER_KEYS, filter_block
from ui.navigation import guard

actor = guard(__file__)
st.title("Benchmarking")
filters = filter_block(
    actor,
    ("organization", "industry", "tier", "accepted"),
    caption="Industry and tier choose the peer group; the organisation and the "
    "reviewer-accepted share choose whose products are shown against it.",
)
choices = aggregate(versions)
if not choices:
    st.info(
        "No scored assessment yet: benchmarks appear once assessments are submitted.",
        icon=":material/leaderboard:",
    )
    st.stop()
ids = [c.id for c in choices]
wanted = st.session_state.get(FILTER_KEYS["questionnaire"])
version = st.selectbox(
    "Questionnaire version (versions are never mixed)",
    choices,
    index=ids.index(wanted) if wanted in ids else 0,
    key="bench_version",
    format_func=lambda c: f"{c.title} v{c.version}",
)
qid = version.id
with st.spinner("Reading the latest scores…"):
    peers = aggregate(peer_distribution, filters, qid)
    mine = aggregate(product_choices, replace(filters, questionnaire_id=qid)).products

st.subheader("Against the peers")
if peers.withheld:
    st.info(peers.withheld, icon=":material/visibility_off:")
elif peers.sections.empty:
    st.info(
        "No peer has a score on this version with these filters.", icon=":material/leaderboard:"
    )
else:
    if not peers.exact:
        st.caption(
            f"Peers are other organisations' products ({peers.size}). To keep them anonymous "
            "you see quartiles of scores rounded to 5 points, and your quarter rather than a percentile."
        )
    picked = st.selectbox(
        "Product to highlight",
        [None, *mine],
        key="bench_product",
        format_func=lambda p: (
            "No product highlighted" if p is None else f"{p.name} ({p.organization})"
        ),
    )
    ranked = None
    if picked is not None:
        ranked = rank_against(aggregate(product_scores, picked.id, qid), peers)
        overall = ranked.iloc[0]
        if overall["standing"]:  # clients get a quarter and a size band, never exact figures
            st.metric(
                f"{md_escape(picked.name)}: overall standing among {peers.size} peers",
                overall["standing"],
                help="Share of peers scoring lower, plus half of those equal."
                if peers.exact
                else "The quarter of the peers your score falls in, by the quartiles shown.",
            )
    st.plotly_chart(
        figure(section_box_figure, peer_distribution, filters, qid, part="sections")
        if picked is None
        else section_box_figure(peers.sections, ranked, picked.name),
        width="stretch",
    )
    if ranked is not None:
        st.dataframe(
            ranked[["title", "score", "standing"]],
            hide_index=True,
            width="stretch",
            column_config={
                "title": "Section",
                "score": st.column_config.NumberColumn("Score", format="%.1f"),
                "standing": "Standing",
            },
        )

st.subheader("Products by section")
heatmap = aggregate(heatmap_frame, filters, qid)
heat, count = heatmap.frame, heatmap.total
if heat.empty:
    st.info("None of your products has a score on this version yet.", icon=":material/grid_view:")
else:
    shown = heat["product"].nunique()
    st.caption(
        f"The {shown} lowest-scoring of {count} products" if count > shown else f"{count} products"
    )
    st.plotly_chart(
        figure(heatmap_figure, heatmap_frame, filters, qid, part="frame"), width="stretch"
    )

st.subheader("Peer groups")
groups = aggregate(peer_groups_frame, qid)
if groups.empty:
    st.info("No peer group is large enough to show.", icon=":material/groups:")
else:
    st.dataframe(
        groups.assign(tier=groups["tier"].map(tier_label)),
        hide_index=True,
        width="stretch",
        column_config={
            "industry": "Industry",
            "tier": "Tier",
            "organizations": "Organisations",
            "products": "Products",
            **{
                c: st.column_config.NumberColumn(label, format="%.1f")
                for c, label in (
                    ("q1", "Lower quartile"),
                    ("median", "Median"),
                    ("q3", "Upper quartile"),
                )
            },
        },
    )
