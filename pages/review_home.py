"""Review desk: what waits for review, resubmissions and the latest client comments."""
import pandas as pd
import streamlit as st

from core import review
from core.organizations import list_organizations
from core.review_queue import notices, review_queue
from core.labels import format_datetime
from core.text import md_escape
from core.workflow import LABELS
from ui.navigation import guard
from ui.state import reading, run_action
from ui.widgets import pager

actor = guard(__file__)
PAGE_SIZE = 20
st.title("Review desk")
with reading() as s:
    counts = review.review_queue_counts(s, actor)
    notes = notices(s, actor)
    orgs = {o["name"]: o["id"] for o in list_organizations(s, actor)}
    people = review.reviewers(s, actor)

c1, c2, c3 = st.columns(3)
c1.metric("Waiting for review", counts["waiting"])
c2.metric("Under review", counts["in_review"])
c3.metric("Assigned to me", counts["mine"])
for item in notes["assessments"]:
    st.info(f"**{md_escape(item['product'])}** was resubmitted (round {item['round']}).", icon=":material/replay:")
if notes["comments"]:
    with st.expander(f"Latest client comments ({len(notes['comments'])})", icon=":material/forum:"):
        for c in notes["comments"]:
            st.markdown(f"**{md_escape(c['author'])}** on {md_escape(c['product'])} · {format_datetime(c['time'])}"
                        f"  \n{md_escape(c['body'], multiline=True)}")

f1, f2, f3, f4 = st.columns(4)
status = f1.selectbox("Status", ["Waiting", "Submitted", "Under review"])
org = f2.selectbox("Organisation", ["All", *orgs])
sort = f3.selectbox("Sort by", ["submitted", "due", "score", "organization"],
                    format_func={"submitted": "Submitted date", "due": "Due date", "score": "Score",
                                 "organization": "Organisation"}.get)
mine, overdue = f4.toggle("Assigned to me"), f4.toggle("Overdue only")
statuses = {"Waiting": ("submitted", "under_review"), "Submitted": ("submitted",),
            "Under review": ("under_review",)}[status]
filters = dict(statuses=statuses, organization_id=orgs.get(org), mine=mine, overdue_only=overdue, sort=sort)
with reading() as s:
    total = review_queue(s, actor, **filters, page_size=1)[1]
page = pager(total, PAGE_SIZE, "queue_page")
with reading() as s:
    rows, _ = review_queue(s, actor, **filters, page=page, page_size=PAGE_SIZE)
if not rows:
    st.info("Nothing waits for review with these filters.", icon=":material/task_alt:")
    st.stop()
frame = pd.DataFrame(rows)
frame["open"] = "/review?assessment=" + frame["id"].astype(str)
frame["status"] = frame["status"].map(LABELS)
frame["reviewer"] = frame["reviewer"].fillna("unassigned")
st.dataframe(frame.drop(columns=["id"]), hide_index=True, width="stretch", column_config={
    "open": st.column_config.LinkColumn("Open", display_text="Review"),
    "organization": "Organisation", "product": "Product", "questionnaire": "Questionnaire",
    "status": "Status", "reviewer": "Reviewer",
    "submitted_at": st.column_config.DatetimeColumn("Submitted", format="D MMM YYYY"),
    "due_date": st.column_config.DateColumn("Due", format="D MMM YYYY"), "round": "Round",
    "latest_score": st.column_config.NumberColumn("Score", format="%.1f"),
    "overdue": st.column_config.CheckboxColumn("Overdue")})

left, right = st.columns(2)
pick = left.selectbox("Assessment", rows, format_func=lambda r: f"{r['product']} ({r['organization']})")
if right.button("Claim", icon=":material/assignment_ind:", disabled=pick["status"] != "submitted"):
    if run_action(lambda s, a: review.claim(s, a, pick["id"]), success="Claimed."):
        st.rerun()
if people:
    who = right.selectbox("Assign to", people, format_func=lambda u: u["name"])
    if right.button("Assign", icon=":material/person_add:"):
        if run_action(lambda s, a: review.assign(s, a, pick["id"], who["id"]), success="Assigned."):
            st.rerun()
