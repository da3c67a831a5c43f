"""Questionnaire: answer an assessment section by section, with evidence; submit when complete."""

import streamlit as st

from core import submission
from core.labels import format_date
from core.text import md_escape
from core.timelines import current_decision, status_history
from core.workflow import CLOSED, LABELS
from core.worksheet import worksheet
from ui.crosswalk import confirm_section, crosswalk, prefill_panel
from ui.decisions import show_decision, show_timeline
from ui.missing_items import show_missing
from ui.navigation import guard
from ui.questionnaire import render_section
from ui.state import feedback, load, run_action
from ui.widgets import choose_assessment

actor = guard(__file__)
st.title("Questionnaire")
aid = choose_assessment(
    "No assessment to answer yet. Start one from My products.", icon=":material/assignment:"
)
ws = load(lambda s, a: worksheet(s, a, aid))
history = load(lambda s, a: status_history(s, a, aid))

required = sum(p.required for p in ws.progress)
answered = sum(p.answered for p in ws.progress)
files = sum(1 for m in ws.missing if m.what == "evidence")
left = f"{len(ws.missing)} item{'' if len(ws.missing) == 1 else 's'} left"
if files:
    left += (
        f" ({len(ws.missing) - files} answers, {files} evidence file{'' if files == 1 else 's'})"
    )
st.progress(
    answered / required if required else 1.0,
    text=f"{answered} of {required} required answers · {left}",
)
c2, c3 = st.columns(2)  # wide enough for the longest status ("Changes requested")
c2.metric("Status", LABELS[ws.status])
c3.metric("Due", format_date(ws.due_date))
if decision := current_decision(history):
    show_decision(decision)
if not ws.editable and ws.status not in CLOSED:  # a closed one says so in its decision
    st.info(
        f"This assessment is read-only in its current status ({LABELS[ws.status].lower()}).",
        icon=":material/lock:",
    )
show_timeline(history)
for comment in ws.general_comments:
    st.info(
        f"**{md_escape(comment.author)}**: {md_escape(comment.body, multiline=True)}",
        icon=":material/forum:",
    )

prefill_panel(ws)
offered = crosswalk(ws)  # proposals and earlier answers on offer: one read per run

sections = {p.key: p for p in ws.progress}
gaps = f"ws{aid}:gaps"  # set by a refused submission: the list stays until nothing is missing
nav, body = st.columns([1, 3])
with nav:
    # Labels must not change as answers come in: Streamlit would take it for a new widget.
    current = st.radio(
        "Sections",
        list(sections),
        key=f"ws{aid}:section",
        format_func=lambda k: md_escape(sections[k].title),
    )
    st.caption(
        "  \n".join(
            (
                ":green[:material/check_circle:]"
                if p.answered == p.required
                else ":material/radio_button_unchecked:"
            )
            + f" {md_escape(p.title)}: {p.answered}/{p.required}"
            for p in ws.progress
        )
    )
    if ws.editable and st.button(
        "Submit for review", type="primary", icon=":material/send:", width="stretch"
    ):
        if run_action(
            lambda s, a: submission.submit(s, a, aid),
            success="Submitted for review.",
            slot=f"ws{aid}:submit",
        ):
            st.session_state.pop(gaps, None)
            st.rerun()
        st.session_state[gaps] = True
    feedback(f"ws{aid}:submit")
with body:
    if ws.editable and ws.missing and st.session_state.get(gaps):
        show_missing(ws)
    st.subheader(md_escape(sections[current].title))
    confirm_section(ws, ws.bank.section(current), offered)
    render_section(ws, ws.bank.section(current), offered.beside)
