"""Client home: the organisation's products and their assessments."""
import streamlit as st

from core.assessments import client_overview, count_by_status
from ui.navigation import guard
from ui.state import reading
from ui.widgets import assessments_table

actor = guard(__file__)
st.title("My products")
with reading() as s:
    rows = client_overview(s, actor)
    counts = count_by_status(s, actor)

if not rows:
    st.info("No assessments yet. Once a product is added and an assessment started, "
            "it appears here with its progress and score.", icon=":material/inventory_2:")
    st.stop()

open_ = sum(counts.get(k, 0) for k in ("not_started", "in_progress", "changes_requested"))
c1, c2, c3 = st.columns(3)
c1.metric("Open for answers", open_)
c2.metric("With reviewers", counts.get("submitted", 0) + counts.get("under_review", 0))
c3.metric("Approved", counts.get("approved", 0))
if counts.get("changes_requested"):
    st.warning(f"{counts['changes_requested']} assessment(s) have changes requested by a reviewer.",
               icon=":material/feedback:")
assessments_table(rows)
