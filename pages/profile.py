"""Profile: who I am, changing my password, two-step sign-in."""

import streamlit as st

from core import auth, passwords
from core.labels import role_label
from core.second_factor import must_enrol
from core.text import md_escape
from ui.navigation import guard
from ui.notify_preferences import preferences_form
from ui.second_factor import two_step_section
from ui.state import reading, run_action, settings
from ui.tokens import tokens_section

actor = guard(__file__)
st.title("My profile")
with reading() as s:
    me = auth.user_summary(s, actor)
    enrol = must_enrol(s, actor)
st.markdown(
    f"Signed in as **{md_escape(actor.username)}** ({role_label(me.role).lower()})"
    + (f", {md_escape(me.organization)}" if me.organization else "")
)
if enrol:  # the role needs a second factor first: nothing else until it is set up
    two_step_section(actor)
    st.stop()

with st.form("change_password", clear_on_submit=True):
    st.subheader("Change password")
    st.caption(
        f"At least {passwords.MIN_PASSWORD_CHARS} characters and at most "
        f"{passwords.MAX_PASSWORD_BYTES} bytes. A long passphrase is best."
    )
    old = st.text_input("Current password", type="password")
    new = st.text_input("New password", type="password")
    again = st.text_input("Repeat new password", type="password")
    if st.form_submit_button("Change password", icon=":material/key:"):
        if new != again:
            st.error("The two new passwords differ.")
        elif run_action(
            lambda s, a: passwords.change_password(
                s, a, old=old, new=new, rounds=settings().bcrypt_rounds
            ),
            success="Password changed.",
        ):
            st.success("Password changed. Other sessions were signed out.")
            if me.must_change_password:
                st.rerun()

if not me.must_change_password:
    two_step_section(actor)
    preferences_form(actor)
    tokens_section(actor)
