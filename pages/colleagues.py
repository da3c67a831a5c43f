"""Client: invite colleagues of my organisation by e-mail (when the admin allows it)."""

import streamlit as st

from core.settings import get_settings
from ui.invitations import invite_form, pending_invitations
from ui.navigation import guard
from ui.state import reading

actor = guard(__file__)
st.title("Colleagues")
with reading() as s:
    allowed = get_settings(s)["client_invitations"] == "on"
if not allowed:
    st.info(
        "Only administrators invite people here. Ask yours to add your colleague.",
        icon=":material/info:",
    )
    st.stop()
st.caption(
    "Invite a colleague of your organisation by e-mail. The link works once; they choose their "
    "own username and password."
)
invite_form(actor)
st.subheader("Waiting to be accepted")
pending_invitations()
