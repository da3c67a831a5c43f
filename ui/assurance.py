"""How well scores are proven (core/assurance.py's levels): the share of an assessment's points at
each level on the Scores page, and the portfolio's assured and reviewer-accepted shares on the
Overview."""

from __future__ import annotations

import streamlit as st

from core.assurance import LEVEL_LABELS, LEVELS, Shares
from core.assurance_charts import assurance_figure, percent, percents, portfolio_assurance_figure
from core.assurance_view import live_assurance, portfolio_assurance
from core.explain import ScoreExplanation
from core.filters import Filters
from core.text import md_escape
from ui.cache import aggregate, figure
from ui.state import load

LEVELS_CAPTION = (
    "Self-attested: the answer alone. With evidence: a file is attached, with no "
    "'valid until' date or only dates that have passed. Evidence in date: at least one attached "
    "file is valid until today or later. Reviewer-accepted: a reviewer accepted the answer as it "
    "stands (a changed answer goes back to the reviewer). Evidence in date and reviewer-accepted "
    "points count as assured."
)


def shares_in_words(shares: Shares) -> str:
    """'40% reviewer-accepted, 10% evidence in date, …', most assured first."""
    said = percents(shares, LEVELS)
    return ", ".join(f"{said[level]} {LEVEL_LABELS[level].lower()}" for level in reversed(LEVELS))


def assurance_section(ex: ScoreExplanation) -> None:
    """The live score's points by assurance level, overall and per section, or why there are
    none."""
    st.subheader("How well the score is proven")
    aid = ex.assessment_id
    assurance = load(lambda s, a: live_assurance(s, a, aid))
    if assurance.overall is None:
        st.info(
            "No points to break down by assurance level yet: no scored answer earns points.",
            icon=":material/verified_user:",
        )
        st.caption(LEVELS_CAPTION)
        return
    st.markdown(f"Of the overall score's points: {shares_in_words(assurance.overall)}.")
    titles = {section.key: section.title for section in ex.bank.sections}
    st.plotly_chart(assurance_figure(assurance, titles), width="stretch")
    empty = [title for key, title in titles.items() if assurance.sections.get(key) is None]
    if empty:
        st.caption(
            "No points yet, so no bar, in: " + "; ".join(md_escape(title) for title in empty) + "."
        )
    st.caption(LEVELS_CAPTION)


def portfolio_assurance_block(filters: Filters) -> None:
    """The points-weighted assured and reviewer-accepted shares of the latest scores within the
    filters, and their split by level; an empty state while no score has shares."""
    st.subheader("How well the scores are proven")
    summary = aggregate(portfolio_assurance, filters)
    if summary.assured is None or summary.accepted is None:
        st.info(
            "No latest score has assurance shares yet: they are recorded with each score "
            "snapshot, once an assessment is submitted.",
            icon=":material/verified_user:",
        )
        return
    left, right, _ = st.columns([1, 1, 2])
    left.metric(
        "Assured points",
        percent(summary.assured),
        help="Points on evidence in date or accepted by a reviewer.",
    )
    right.metric("Reviewer-accepted points", percent(summary.accepted))
    st.plotly_chart(
        figure(portfolio_assurance_figure, portfolio_assurance, filters, part="shares"),
        width="stretch",
    )
    scores = "score" if summary.assessments == 1 else "scores"
    st.caption(
        f"Weighted by points across the {summary.assessments} latest {scores} with shares "
        "within the filters: a high score counts for more than a low one. Evidence in date and "
        "reviewer-accepted points count as assured."
    )
