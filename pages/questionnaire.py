"""Questionnaire: answer an assessment section by section, with evidence; submit when complete."""
import streamlit as st

from core import assessments
from core.workflow import LABELS
from core.text import md_escape
from core.worksheet import worksheet
from ui.navigation import guard
from ui.questionnaire import render_section
from ui.widgets import assessment_picker
from ui.state import load, reading, run_action

actor = guard(__file__)
st.title("Questionnaire")
with reading() as s:
    rows = assessments.client_overview(s, actor)
if not rows:
    st.info("No assessment to answer yet. Start one from My products.", icon=":material/assignment:")
    st.stop()

aid = assessment_picker(rows)
ws = load(lambda s, a: worksheet(s, a, aid))

required = sum(p["required"] for p in ws.progress)
answered = sum(p["answered"] for p in ws.progress)
c1, c2, c3 = st.columns([2, 1, 1])
c1.progress(answered / required if required else 1.0,
            text=f"{answered} of {required} required answers · {len(ws.missing)} item(s) left")
c2.metric("Status", LABELS[ws.status])
c3.metric("Due", ws.due_date.strftime("%d %b") if ws.due_date else "—",
          help=ws.due_date.isoformat() if ws.due_date else None)
if not ws.editable:
    st.info("This assessment is read-only in its current status.", icon=":material/lock:")
for comment in ws.general_comments:
    st.info(f"**{md_escape(comment['author'])}**: {md_escape(comment['body'], multiline=True)}",
            icon=":material/forum:")
if message := st.session_state.pop(f"ws{aid}:message", None):
    (st.success if message[0] == "saved" else st.error)(md_escape(message[1]))

sections = {p["key"]: p for p in ws.progress}
nav, body = st.columns([1, 3])
with nav:
    # Labels must not change as answers come in: Streamlit would take it for a new widget.
    current = st.radio("Sections", list(sections), key=f"ws{aid}:section",
                       format_func=lambda k: md_escape(sections[k]["title"]))
    st.caption("  \n".join((":green[:material/check_circle:]" if p["answered"] == p["required"] else
                             ":material/radio_button_unchecked:") +
                            f" {md_escape(p['title'])}: {p['answered']}/{p['required']}" for p in ws.progress))
    if ws.editable and st.button("Submit for review", type="primary", icon=":material/send:",
                                 width="stretch"):
        if run_action(lambda s, a: assessments.submit(s, a, aid), success="Submitted for review."):
            st.rerun()
        for item in ws.missing:
            st.markdown(f"- {md_escape(sections[item['section']]['title'])}: `{item['key']}` needs {item['what']}")
with body:
    st.subheader(md_escape(sections[current]["title"]))
    render_section(ws, ws.bank.section(current))
