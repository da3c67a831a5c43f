"""Review desk: what waits for review, resubmissions and the latest client comments."""

from functools import partial

import streamlit as st

from core import review
from core.labels import format_datetime
from core.notices import latest_comments
from core.organizations import list_organizations
from core.review_queue import review_queue
from core.text import md_escape
from ui.navigation import guard
from ui.review_desk import queue_table, resubmission_notices
from ui.state import feedback, reading, run_action
from ui.widgets import page_of

actor = guard(__file__)
PAGE_SIZE = 20
STATUSES = {
    "Waiting": ("submitted", "under_review"),
    "Submitted": ("submitted",),
    "Under review": ("under_review",),
}
SORTS = {"submitted": "Waiting longest", "score": "Score", "organization": "Organisation"}
st.title("Review desk")
with reading() as s:
    counts = review.review_queue_counts(s, actor)
    comments = latest_comments(s, actor)
    orgs = {o.name: o.id for o in list_organizations(s, actor)}
    people = review.reviewers(s, actor)

c1, c2, c3 = st.columns(3)
c1.metric("Waiting for review", f"{counts.waiting:,}")
c2.metric("Under review", f"{counts.in_review:,}")
c3.metric("Assigned to me", f"{counts.mine:,}")
resubmission_notices()
if comments:
    with st.expander(f"Latest client comments ({len(comments)})", icon=":material/forum:"):
        for c in comments:
            st.markdown(
                f"**{md_escape(c.author)}** on {md_escape(c.product)} · {format_datetime(c.time)}"
                f"  \n{md_escape(c.body, multiline=True)}"
            )

f1, f2, f3, f4 = st.columns(4)
status = f1.selectbox("Status", list(STATUSES))
org = f2.selectbox("Organisation", ["All", *orgs])
sort = f3.selectbox("Sort by", list(SORTS), format_func=SORTS.get)
mine, overdue = f4.toggle("Assigned to me"), f4.toggle("Overdue only")
filters = dict(
    statuses=STATUSES[status],
    organization_id=orgs.get(org),
    mine=mine,
    overdue_only=overdue,
    sort=sort,
)
rows = page_of(partial(review_queue, **filters), page_size=PAGE_SIZE, key="queue_page")
if not rows:
    st.info("Nothing waits for review with these filters.", icon=":material/task_alt:")
    st.stop()
queue_table(rows)

left, right = st.columns(2)
pick = left.selectbox("Assessment", rows, format_func=lambda r: f"{r.product} ({r.organization})")
if right.button("Claim", icon=":material/assignment_ind:", disabled=pick.status != "submitted"):
    if run_action(lambda s, a: review.claim(s, a, pick.id), success="Claimed.", slot="desk"):
        st.rerun()
if people:
    who = right.selectbox("Assign to", people, format_func=lambda u: u.name)
    if right.button("Assign", icon=":material/person_add:"):
        if run_action(
            lambda s, a: review.assign(s, a, pick.id, who.id), success="Assigned.", slot="desk"
        ):
            st.rerun()
with right:
    feedback("desk")
