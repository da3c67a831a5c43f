"""Reviewer home: what waits for review."""
import streamlit as st

from core.assessments import client_overview
from core.review import review_queue_counts
from ui.navigation import guard
from ui.state import reading
from ui.widgets import assessments_table

actor = guard(__file__)
st.title("Review desk")
with reading() as s:
    counts = review_queue_counts(s, actor)
    rows = [r for r in client_overview(s, actor) if r["status"] in ("submitted", "under_review")]

c1, c2, c3 = st.columns(3)
c1.metric("Waiting for review", counts["waiting"])
c2.metric("Under review", counts["in_review"])
c3.metric("Assigned to me", counts["mine"])
if rows:
    assessments_table(rows)
else:
    st.info("Nothing waits for review. Submitted assessments appear here.",
            icon=":material/task_alt:")
