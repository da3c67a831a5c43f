"""Single sign-on on the sign-in screen: a button per provider of .streamlit/secrets.toml
(st.login, Authlib underneath), and the identity Streamlit brings back turned into one of our
sessions (core.sso) - after which Streamlit's identity cookie opens nothing more."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy.orm import Session

from core import sso
from core.access import Actor
from core.settings import get_setting
from ui.state import reading, session, settings

REFUSED = "_sso_refused"  # the message of a refused single sign-on, until the next attempt
_COOKIES_SEEN = "_sso_cookie_component_seen"
OpenNew = Callable[..., Actor | None]  # ui.login._open_new


def configured() -> list[sso.Provider]:
    """The providers in secrets.toml's [auth] section ([] without a secrets file)."""
    try:
        section = st.secrets.get("auth")
    except FileNotFoundError:
        return []
    return sso.providers(section) if section else []


def password_form_shown() -> bool:
    """The password form shows unless an admin turned it off and a provider is configured (so
    nobody is locked out by the setting alone)."""
    with reading() as s:
        wanted = get_setting(s, "sign_in_password") == "on"
    return wanted or not configured()


def buttons() -> None:
    """A button per provider; one that does not answer gets a message instead of a redirect."""
    providers = configured()
    if not providers:
        return
    if message := st.session_state.get(REFUSED):
        st.error(message, icon=":material/block:")
    if password_form_shown():
        st.caption("Or sign in with your organisation's account:")
    for provider in providers:
        if st.button(
            f"Sign in with {provider.label}",
            key=f"sso_{provider.key}",
            icon=":material/key:",
            width="stretch",
        ):
            st.session_state.pop(REFUSED, None)
            if sso.reachable(provider):
                st.login(provider.key)
            else:
                st.error(
                    sso.PROVIDER_DOWN.format(provider=provider.label), icon=":material/cloud_off:"
                )


def _identity() -> tuple[sso.Provider, dict[str, Any]] | None:
    """The provider and claims of Streamlit's identity cookie, when there is one not yet used."""
    if not st.user.get("is_logged_in"):  # (AppTest's st.user has no such key)
        return None
    claims = dict(st.user.to_dict())
    provider = next((p for p in configured() if p.key == claims.get("provider")), None)
    if provider is None:
        return None
    with reading() as s:
        if sso.spent(s, provider, claims):
            return None
    return provider, claims


def sign_in_by_identity(authenticator: stauth.Authenticate, open_new: OpenNew) -> Actor | None:
    """Open our session for a new identity from a provider (None when there is none, when it is
    refused - the message then shows by the buttons - or while its code step is held)."""
    found = _identity()
    if found is None:
        return None
    provider, claims = found
    if not st.session_state.get(_COOKIES_SEEN):
        # The provider's redirect is a new page load: this first run is the one that drew the
        # cookie component, whose first report reruns the app at once and would drop a cookie
        # set now unsent (as ui.login.link_authenticator explains). Sign in on that rerun.
        st.session_state[_COOKIES_SEEN] = True
        st.caption("Signing you in…")
        st.stop()
    outcome: list[sso.SsoSignIn] = []

    def prepare(s: Session) -> str:
        outcome.append(sso.sign_in(s, provider, claims, rounds=settings().bcrypt_rounds))
        return outcome[0].username

    try:
        actor = open_new(
            authenticator,
            prepare,
            second_factor=lambda: "provider" if outcome[0].second_factor else "",
            via=provider.label,
        )
    except sso.SsoRefused as refused:
        with session() as s:
            sso.record_refusal(s, provider, claims, str(refused))
        st.session_state[REFUSED] = str(refused)
        return None
    st.session_state.pop(REFUSED, None)
    if actor is None:
        st.rerun()  # the code step for an account with our own second factor
    return actor
