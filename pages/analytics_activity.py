"""User activity: sign-ins per day, active users by role, audited actions by type."""

import streamlit as st

from core.activity_charts import actions_figure, active_users_figure, sign_ins_per_day_figure
from core.activity_metrics import actions_frame, active_users_frame, sign_ins_frame
from ui.cache import aggregate, figure
from ui.filters import filter_block
from ui.navigation import guard

actor = guard(__file__)
st.title("User activity")
filters = filter_block(actor, ("dates",))
with st.spinner("Counting sign-ins and actions…"):
    sign_ins = aggregate(sign_ins_frame, filters)
    users = aggregate(active_users_frame, filters)
    actions = aggregate(actions_frame, filters)

c1, c2, c3 = st.columns(3)
c1.metric("Sign-ins", int(sign_ins["succeeded"].sum()) if not sign_ins.empty else 0)
c2.metric("Failed sign-ins", int(sign_ins["failed"].sum()) if not sign_ins.empty else 0)
c3.metric("People who signed in", int(users["active_users"].sum()))
if sign_ins.empty:
    st.info(
        "No sign-in in this date range. Widen the date range in the sidebar.",
        icon=":material/history:",
    )
else:
    st.plotly_chart(figure(sign_ins_per_day_figure, sign_ins_frame, filters), width="stretch")
left, right = st.columns(2)
left.plotly_chart(figure(active_users_figure, active_users_frame, filters), width="stretch")
if actions.empty:
    right.info("No audited action in this date range.", icon=":material/receipt_long:")
else:
    right.plotly_chart(figure(actions_figure, actions_frame, filters), width="stretch")
