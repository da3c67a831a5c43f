"""Admin: sign-in activity and active sessions."""

import pandas as pd
import streamlit as st

from core.activity_charts import sign_in_figure
from core.sign_ins import active_sessions, sign_in_activity
from ui.navigation import guard
from ui.state import reading
from ui.tables import show_table

actor = guard(__file__)
st.title("Sign-in activity")
with reading() as s:
    attempts = pd.DataFrame(
        sign_in_activity(s, actor, limit=500),
        columns=["time", "username", "succeeded", "client_address"],
    )
    sessions = pd.DataFrame(
        active_sessions(s, actor), columns=["username", "signed_in", "last_seen", "client_address"]
    )

c1, c2, c3 = st.columns(3)
c1.metric("Active sessions", len(sessions))
c2.metric("Recent sign-ins", int(attempts["succeeded"].sum()) if len(attempts) else 0)
c3.metric("Recent failures", int((~attempts["succeeded"]).sum()) if len(attempts) else 0)

st.subheader("Active sessions")
if sessions.empty:
    st.info("Nobody is signed in right now.", icon=":material/person_off:")
else:
    show_table(sessions, {"signed_in": "Signed in", "client_address": "Address"})

st.subheader("Recent sign-ins and failures")
if attempts.empty:
    st.info("No sign-in attempts recorded yet.", icon=":material/history:")
    st.stop()
st.plotly_chart(sign_in_figure(attempts), width="stretch")
show_table(attempts, {"client_address": "Address"})
