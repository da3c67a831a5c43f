"""Scores: an assessment's score per section, what costs points, its history, what moved it and
what it gives on other frameworks through a mapping."""

import streamlit as st

from core.charts import (
    lost_points_figure,
    score_history_figure,
    section_scores_figure,
    waterfall_figure,
)
from core.explain import score_explanation
from core.labels import format_score
from core.snapshots import RecomputeReport, recompute_scores
from core.text import md_escape
from ui.assurance import assurance_section
from ui.bank_import import answers_workbook_download
from ui.coverage import coverage_section
from ui.navigation import guard
from ui.planner import planner_section
from ui.reports import assessment_report_button
from ui.state import load
from ui.widgets import choose_assessment, confirm_action

actor = guard(__file__)
st.title("Scores")
if actor.role == "admin":
    done: list[RecomputeReport] = []
    if confirm_action(
        "Recompute scores",
        "Every assessment with a snapshot is scored again with "
        "today's bands and formula; those whose result changed get a new "
        "'recompute' snapshot. Existing snapshots are never changed.",
        lambda s, a: done.append(recompute_scores(s, a)),
        success="Scores recomputed.",
        key="recompute",
        icon=":material/calculate:",
        rerun=False,
    ):
        st.success(
            f"Checked {done[0].checked} assessments with snapshots: {done[0].changed} "
            f"changed and got a new snapshot."
        )
aid = choose_assessment("No assessment to show yet.", icon=":material/analytics:", prefer_next=True)
ex = load(lambda s, a: score_explanation(s, a, aid))
result = ex.result
assessment_report_button(aid)

c1, c2, c3, c4 = st.columns(4)
c1.metric("Overall score", "No score yet" if result.overall is None else f"{result.overall:.1f}")
c2.metric("Risk band", result.band or "—")
c3.metric("Completion", f"{result.completion * 100:.0f}%")
c4.metric("Snapshots", sum(s.assessment_id == aid for s in ex.snapshots))
if ex.latest is None:
    st.info(
        "Not yet submitted: this is the live score of the current answers. It is recorded "
        "in the score history when the assessment is submitted.",
        icon=":material/pending:",
    )
elif ex.recorded_differs:
    latest = ex.latest
    st.warning(
        f"The live score differs from the last snapshot ({md_escape(latest.label)}, band "
        f"{latest.band or 'none'}): answers or bands changed since it was recorded."
    )
if result.failed_critical:
    failed = "".join(
        f"\n- {md_escape(ex.bank.question(key).text)}" for key in result.failed_critical
    )
    st.warning(
        f"Critical controls failed, so the band is at best High however good the rest is:{failed}",
        icon=":material/report:",
    )
assurance_section(ex)  # the share of the live score's points at each assurance level

if result.overall is None:
    st.info(
        "No score yet: none of the answered questions is scored. A score of zero would mean "
        "every scored answer is 'no'; this assessment simply has none.",
        icon=":material/info:",
    )
else:
    st.subheader("Sections")
    left, right = st.columns([2, 3])
    sections = ex.sections.assign(
        score=ex.sections["score"].map(lambda v: format_score(v, empty="No score")),
        band=ex.sections["band"].fillna("—"),
    )
    left.dataframe(
        sections[["section", "score", "weight", "answered", "band"]],
        hide_index=True,
        width="stretch",
        column_config={
            "section": "Section",
            "answered": "Scored answers",
            "band": "Band",
            "score": st.column_config.TextColumn("Score"),
            "weight": st.column_config.NumberColumn("Weight", format="%g"),
        },
    )
    right.plotly_chart(section_scores_figure(ex.sections), width="stretch")
    st.subheader("Questions that cost the most points")
    if ex.lost.empty:
        st.success("Every scored answer is at full marks.")
    else:
        st.dataframe(
            ex.lost.assign(score=ex.lost["score"] * 100),
            hide_index=True,
            width="stretch",
            column_config={
                "question": "Question",
                "text": "Text",
                "section": "Section",
                "weight": st.column_config.NumberColumn("Weight", format="%g"),
                "score": st.column_config.NumberColumn("Answer score (0-100)", format="%.0f"),
                "points_lost": st.column_config.NumberColumn("Points lost", format="%.2f"),
            },
        )
        st.plotly_chart(lost_points_figure(ex.lost), width="stretch")
    planner_section(ex)

st.subheader("Score history")
if ex.history.empty:
    st.info("No snapshot yet for this product on this questionnaire.", icon=":material/timeline:")
else:
    st.plotly_chart(score_history_figure(ex.history), width="stretch")

st.subheader("What moved the score")
snaps = {s.id: s.label for s in ex.snapshots}
if len(snaps) >= 2 and ex.after is not None:
    order = list(snaps)
    b, a = st.columns(2)
    before_id = b.selectbox(
        "From snapshot",
        order,
        key=f"sc{aid}:before",
        format_func=snaps.get,
        index=order.index(ex.before.id) if ex.before else 0,
    )
    after_id = a.selectbox(
        "To snapshot",
        order,
        key=f"sc{aid}:after",
        format_func=snaps.get,
        index=order.index(ex.after.id),
    )
    if (before_id, after_id) != (ex.before.id if ex.before else None, ex.after.id):
        ex = load(lambda s, a: score_explanation(s, a, aid, before_id=before_id, after_id=after_id))
if ex.movement_note:
    st.info(md_escape(ex.movement_note), icon=":material/compare_arrows:")
if not ex.movement.empty:
    st.plotly_chart(
        waterfall_figure(ex.movement, ex.before.overall, ex.after.overall), width="stretch"
    )
    moved = ex.movement.assign(
        **{c: ex.movement[c].map(lambda v: format_score(v, scale=100)) for c in ("before", "after")}
    )
    st.dataframe(
        moved,
        hide_index=True,
        width="stretch",
        column_config={
            "question": "Question",
            "text": "Text",
            "section": "Section",
            "before": st.column_config.TextColumn("Answer score before (0-100)"),
            "after": st.column_config.TextColumn("Answer score after (0-100)"),
            "change": st.column_config.NumberColumn("Points", format="%+.2f"),
        },
    )

coverage_section(aid)  # only when a framework mapping starts from its questionnaire
answers_workbook_download(aid)  # only for a bank imported from an XLSX workbook
