"""Sign-in with streamlit-authenticator's form, backed by server-side sessions in core.auth."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from core import auth
from core.access import Actor
from ui.state import reading, session, settings

COOKIE_NAME = "securesphere_auth"
COOKIE_DAYS = 0.5  # the server-side absolute timeout (12 h default) still applies on top
_SUBMIT_KEY = "FormSubmitter:Login-Sign in"


def _authenticator(creds: dict) -> stauth.Authenticate:
    return stauth.Authenticate(creds, COOKIE_NAME, settings().cookie_key, COOKIE_DAYS,
                               auto_hash=False, login_sleep_time=0)


def sign_in() -> Actor | None:
    """Return the signed-in actor, or render the login form and return None."""
    with reading() as s:
        creds = auth.credentials(s, client_address=_client_address())
    authenticator = _authenticator(creds)
    st.session_state["_authenticator"] = authenticator
    if st.session_state.get("sid"):
        return _current(authenticator)
    if not st.session_state.get("authentication_status"):
        st.session_state["authentication_status"] = None
    try:
        authenticator.login(location="main", key="Login", callback=_mark_form_login,
                            fields={"Form name": "Sign in to SecureSphere", "Username": "Username",
                                    "Password": "Password", "Login": "Sign in"})
    except LoginError:  # a cookie for an account that no longer exists or is inactive
        _forget(authenticator)
        return None
    if st.session_state.get("authentication_status"):
        return _open(authenticator)
    if st.session_state.get(_SUBMIT_KEY):
        _record_failure(creds)
        st.error(auth.FAILED_SIGN_IN)
    return None


def _mark_form_login(_event: dict) -> None:
    st.session_state["_form_login"] = True


def _open(authenticator: stauth.Authenticate) -> Actor | None:
    username = st.session_state["username"]
    by_form = st.session_state.pop("_form_login", False)
    if not by_form and not _cookie_ok(authenticator, username):
        _forget(authenticator)
        st.rerun()
    # After a form sign-in the cookie component still has to reach the browser (it reruns the
    # app itself); after a cookie sign-in nothing is pending.
    st.session_state["_cookie_pending"] = by_form
    with session() as s:
        actor = auth.open_session(s, username, client_address=_client_address())
    st.session_state["sid"] = actor.session_id
    st.session_state["actor"] = actor
    st.session_state.pop("_signed_out_reason", None)
    return actor


def _cookie_ok(authenticator: stauth.Authenticate, username: str) -> bool:
    token = authenticator.cookie_controller.cookie_model.token
    if not isinstance(token, dict) or "exp_date" not in token:
        return False
    issued = datetime.fromtimestamp(token["exp_date"], timezone.utc) - timedelta(days=COOKIE_DAYS)
    with reading() as s:
        return auth.cookie_still_valid(s, username, issued)


def _current(authenticator: stauth.Authenticate) -> Actor | None:
    with session() as s:
        actor = auth.check_session(s, st.session_state["sid"])
    if actor is None:
        _forget(authenticator)
        st.session_state["_signed_out_reason"] = "Your session has ended. Please sign in again."
        st.rerun()
    st.session_state["actor"] = actor
    return actor


def _record_failure(creds: dict) -> None:
    tried = [u for u, data in creds["usernames"].items() if data.get("failed_login_attempts")]
    with session() as s:
        auth.record_failed_sign_in(s, tried[0] if tried else "", client_address=_client_address())


def _client_address() -> str:
    address = st.context.ip_address
    return address if isinstance(address, str) else ""  # absent behind some proxies and in AppTest


def _forget(authenticator: stauth.Authenticate) -> None:
    """Drop the browser's login state: library status, cookie, our session keys."""
    if st.session_state.get("authentication_status"):
        authenticator.logout(location="unrendered")
    st.session_state["logout"] = True
    for key in ("sid", "actor", "_form_login"):
        st.session_state.pop(key, None)


def sign_out() -> None:
    """End the server-side session, then the browser's."""
    actor = st.session_state.get("actor")
    if actor is not None:
        with session() as s:
            auth.close_session(s, actor)
    _forget(st.session_state["_authenticator"])
    st.session_state["_signed_out_reason"] = "You have been signed out."
