"""Review: work through one assessment answer by answer, comment, and decide."""

import pandas as pd
import streamlit as st

from core import comments, review
from core.labels import format_datetime
from core.review_queue import changed_since_last_round
from core.text import md_escape
from core.timelines import timeline
from core.workflow import LABELS
from core.worksheet import worksheet
from ui.navigation import guard
from ui.review import FILTERS, answer_card, decision_panel, keep
from ui.state import feedback, load, run_action
from ui.tables import when_column
from ui.widgets import choose_assessment

actor = guard(__file__)
st.title("Review")
aid = choose_assessment(
    "Nothing to review yet. Submitted assessments appear on the Review desk.",
    icon=":material/rate_review:",
    include=lambda r: r.status != "not_started",
    prefer_next=True,
)
ws = load(lambda s, a: worksheet(s, a, aid))
changes = load(lambda s, a: changed_since_last_round(s, a, aid))
changed = changes.questions
reviewing = ws.status == "under_review"

c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
c1.metric("Status", LABELS[ws.status])
c2.metric("Latest score", "—" if ws.latest_score is None else f"{ws.latest_score:.1f}")
c3.metric("Completion", f"{ws.completion * 100:.0f}%")
c4.metric("Changed this round", len(changed))

if ws.status == "submitted" and st.button(
    "Claim for review", type="primary", icon=":material/assignment_ind:"
):
    if run_action(
        lambda s, a: review.claim(s, a, aid),
        success="You are reviewing this assessment.",
        slot=f"claim{aid}",
    ):
        st.rerun()
feedback(f"claim{aid}")
if reviewing:
    decision_panel(aid)

answers_tab, general_tab, timeline_tab = st.tabs(["Answers", "General comments", "Timeline"])
with answers_tab:
    f1, f2 = st.columns([1, 3])
    shown = f1.radio("Show", FILTERS, key=f"filter{aid}")
    section = f2.selectbox(
        "Section",
        [s.key for s in ws.bank.sections],
        key=f"rsec{aid}",
        format_func=lambda k: ws.bank.section(k).title,
    )
    questions = [
        q
        for q in ws.bank.section(section).questions
        if q.key in ws.answers and keep(q, ws, changed, shown)
    ]
    if not questions:
        st.info("No answer in this section matches the filter.", icon=":material/filter_alt_off:")
    for q in questions:
        answer_card(ws, q, changed, reviewing)
with general_tab:
    for c in ws.general_comments:
        st.markdown(
            f"**{md_escape(c.author)}** · {format_datetime(c.time)} "
            f"{':violet-badge[internal]' if c.visibility == 'internal' else ''}  \n"
            f"{md_escape(c.body, multiline=True)}"
        )
    with st.form(f"general{aid}", clear_on_submit=True):
        body = st.text_area("New comment on the whole assessment")
        internal = st.checkbox("Internal note (reviewers only)")
        if st.form_submit_button("Post", icon=":material/send:"):
            if run_action(
                lambda s, a: comments.add_comment(
                    s, a, aid, body, visibility="internal" if internal else "shared"
                ),
                success="Comment posted.",
                slot=f"general{aid}",
            ):
                st.rerun()
        feedback(f"general{aid}")
with timeline_tab:
    history = load(lambda s, a: timeline(s, a, aid))
    if not history:
        st.info("No status change recorded yet.", icon=":material/timeline:")
        st.stop()
    frame = pd.DataFrame(history).rename(columns={"from_status": "from", "to_status": "to"})
    frame["from"] = frame["from"].map(lambda v: LABELS.get(v, "—"))
    frame["to"] = frame["to"].map(LABELS)
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "time": when_column("When"),
            "days_in_state": st.column_config.NumberColumn("Days in state", format="%.1f"),
        },
    )
