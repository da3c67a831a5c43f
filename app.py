"""SecureSphere entrypoint: page config, sign-in, then the pages the user's role may open."""

import os
from pathlib import Path

import streamlit as st

from core import auth, migrate
from core.demo_accounts import demo_usernames, password_source
from core.errors import ConfigError
from core.second_factor import must_enrol
from core.text import md_escape
from core.users import demo_accounts_exist
from ui import login
from ui.bell import show_bell
from ui.link_landing import forgot_password, link_landing
from ui.navigation import pages_for, sign_in_doors
from ui.sso import password_form_shown
from ui.state import reading, settings

os.umask(0o077)  # the database, its -wal/-shm and evidence files are the owner's only
LOGO = Path(__file__).parent / "ui" / "assets" / "logo.svg"
st.set_page_config(page_title="SecureSphere", page_icon=":material/shield_lock:", layout="wide")

try:
    url = settings().database_url
except ConfigError as exc:
    st.error(f"SecureSphere cannot start: {exc}")
    st.stop()
if migrate.current_revision(url) != migrate.head_revision():
    st.error("The database is not at the current schema. Run: `python -m core.cli init`")
    st.stop()

with reading() as s:
    demo = demo_accounts_exist(s)


def sign_in_screen() -> None:
    """The only page before sign-in: no other page is registered, so no URL reaches one."""
    _, centre, _ = st.columns([1, 1.4, 1])
    with centre:
        st.image(str(LOGO), width=260)
        st.caption("Security assessments: answered, reviewed and scored.")
        if link_landing():  # an invitation or password reset link from an e-mail
            return
        if reason := st.session_state.get("_signed_out_reason"):
            st.info(reason)  # kept until the next sign-in: component reruns must not hide it
        if login.sign_in() is not None:
            if not st.session_state.pop("_cookie_pending", False):
                st.rerun()
            # No st.rerun() yet: the remember-me cookie component must reach the browser first;
            # it reruns the app itself once the cookie is set.
            st.caption("Signing you in…")
            st.stop()
        if password_form_shown():  # no password to forget when only single sign-on shows
            forgot_password()
            if demo:
                demo_hint()


def demo_hint() -> None:
    """Demo mode only: the demo usernames, and where the operator finds their passwords."""
    with reading() as s:
        names = demo_usernames(s)
    st.caption(
        ":material/science: Demo data is loaded. Sign in as "
        + ", ".join(f"`{name}`" for name in names)
        + f". {md_escape(password_source(settings()))}"
    )


if not st.session_state.get("sid"):
    st.navigation(sign_in_doors(sign_in_screen), position="hidden").run()
    st.stop()
actor = login.sign_in()

with reading() as s:
    me = auth.user_summary(s, actor)
    enrol = must_enrol(s, actor)  # the role needs a second factor this session has not given
only_profile = me.must_change_password or enrol
st.logo(str(LOGO), size="large")

with st.sidebar:
    st.markdown(
        f"**{md_escape(me.name)}**  \n{me.role.replace('_', ' ').title()}"
        + (f" · {md_escape(me.organization)}" if me.organization else "")
    )
    if demo:
        st.badge("Demo data", icon=":material/science:", color="orange")
    if not only_profile:  # until then only the profile page exists
        show_bell(actor)
    if st.button("Sign out", icon=":material/logout:", width="stretch"):
        login.sign_out()  # renders the cookie deletion, which reruns the app once done
        st.caption("Signing you out…")
        st.stop()

if me.must_change_password:
    st.warning("You signed in with a one-time password. Choose a new password to continue.")
elif enrol:
    st.warning(
        "Your role signs in with two steps. Set up your authenticator app below to continue.",
        icon=":material/phonelink_lock:",
    )
st.navigation(pages_for(actor, only_profile), expanded=True).run()
