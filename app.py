"""SecureSphere entrypoint: page config, sign-in, then the pages the user's role may open."""
import html

import streamlit as st

from core.errors import ConfigError
from core import auth
from core.users import demo_accounts_exist
from ui import login
from ui.navigation import pages_for
from ui.state import reading, settings

st.set_page_config(page_title="SecureSphere", page_icon=":material/shield_lock:", layout="wide")

try:
    settings()
except ConfigError as exc:
    st.error(f"SecureSphere cannot start: {exc}")
    st.stop()

with reading() as s:
    demo = demo_accounts_exist(s)

actor = login.sign_in()
if actor is None:
    if reason := st.session_state.pop("_signed_out_reason", None):
        st.info(reason)
    if demo:
        st.caption(":material/science: Demo data is loaded: sign in with a demo account "
                   "(see the README for usernames and passwords).")
    st.stop()

with reading() as s:
    me = auth.user_summary(s, actor)

with st.sidebar:
    st.markdown(f"**{html.escape(me['name'])}**  \n{me['role'].replace('_', ' ').title()}"
                + (f" · {html.escape(me['organization'])}" if me["organization"] else ""))
    if demo:
        st.badge("Demo data", icon=":material/science:", color="orange")
    if st.button("Sign out", icon=":material/logout:", width="stretch"):
        login.sign_out()
        st.rerun()

if me["must_change_password"]:
    st.warning("You signed in with a one-time password. Choose a new password to continue.")
st.navigation(pages_for(actor, me["must_change_password"])).run()
