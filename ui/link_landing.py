"""Before sign-in: the pages an e-mailed link opens (``?invite=TOKEN``, ``?reset=TOKEN``) and the
"Forgot your password?" form. A used link signs its person in (ui/login.sign_in_by_link)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy.orm import Session

from core import invitations, password_reset, passwords
from core.errors import SecureSphereError
from core.labels import role_label
from core.links import PARAMS, LinkRefused
from core.text import md_escape
from ui import login
from ui.state import reading, session, settings

POLICY = (
    f"At least {passwords.MIN_PASSWORD_CHARS} characters and at most "
    f"{passwords.MAX_PASSWORD_BYTES} bytes, not a common password. A long passphrase is best."
)


def link_landing() -> bool:
    """Render the page of an invitation or reset link in the URL; False when there is none."""
    for purpose, param in PARAMS.items():
        token = st.query_params.get(param)
        if token:
            authenticator = login.link_authenticator()
            (_invitation if purpose == "invitation" else _reset)(authenticator, token)
            return True
    return False


def _refused(exc: LinkRefused) -> None:
    st.error(md_escape(str(exc)), icon=":material/link_off:")
    if st.button("Go to sign-in", icon=":material/login:"):
        st.query_params.clear()
        st.rerun()


def _invitation(authenticator: stauth.Authenticate, token: str) -> None:
    try:
        with reading() as s:
            offer = invitations.landing(s, token)
    except LinkRefused as exc:
        _refused(exc)
        return
    st.subheader("Welcome to SecureSphere")
    where = f" at **{md_escape(offer.organization)}**" if offer.organization else ""
    st.markdown(
        f"You are invited as **{role_label(offer.role).lower()}**{where}, with the address "
        f"{md_escape(offer.email)}. Choose how you sign in."
    )
    with st.form("accept_invitation"):
        name = st.text_input("Full name")
        username = st.text_input("Username", value=offer.suggested_username)
        password, again = _password_inputs()
        sent = st.form_submit_button(
            "Create my account", icon=":material/person_add:", type="primary"
        )
    if sent:  # outside the form: a component inside one cannot rerun the app (the cookie's)
        _finish(
            authenticator,
            password,
            again,
            lambda s: (
                invitations.accept(
                    s,
                    token,
                    username=username,
                    name=name,
                    password=password,
                    rounds=settings().bcrypt_rounds,
                ).username
            ),
        )


def _reset(authenticator: stauth.Authenticate, token: str) -> None:
    try:
        with reading() as s:
            username = password_reset.account_for(s, token)
    except LinkRefused as exc:
        _refused(exc)
        return
    st.subheader("Choose a new password")
    st.markdown(
        f"For the account **{md_escape(username)}**. Every session of this account ends "
        "when you save it."
    )
    with st.form("reset_password"):
        password, again = _password_inputs()
        sent = st.form_submit_button("Save and sign in", icon=":material/key:", type="primary")
    if sent:
        _finish(
            authenticator,
            password,
            again,
            lambda s: (
                password_reset.reset_with_link(
                    s, token, password=password, rounds=settings().bcrypt_rounds
                ).username
            ),
        )


def _password_inputs() -> tuple[str, str]:
    st.caption(POLICY)
    return (
        st.text_input("Password", type="password"),
        st.text_input("Repeat password", type="password"),
    )


def _finish(
    authenticator: stauth.Authenticate, password: str, again: str, prepare: Callable[[Session], str]
) -> None:
    """Run the link's action and sign in, or say why not (nothing is written then)."""
    if password != again:
        st.error("The two passwords differ.")
        return
    try:
        login.sign_in_by_link(authenticator, prepare)
    except SecureSphereError as exc:
        st.error(md_escape(str(exc)))  # messages can quote what the user typed
        return
    st.query_params.clear()  # the spent link leaves the address bar
    st.session_state.pop("_cookie_pending", None)
    # The remember-me cookie component reruns the app once the cookie is set (as after the form).
    st.caption("Signing you in…")
    st.stop()


def forgot_password() -> None:
    """The e-mail form for a reset link; the same answer whether or not the address exists."""
    with st.expander("Forgot your password?", icon=":material/lock_reset:"):
        with st.form("forgot_password", clear_on_submit=True):
            email = st.text_input("E-mail address")
            if st.form_submit_button("Send me a link", icon=":material/mail:"):
                with session() as s:
                    answer = password_reset.request_reset(
                        s, email, client_address=login.client_address()
                    )
                st.success(answer, icon=":material/mark_email_read:")
