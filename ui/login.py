"""Sign-in with streamlit-authenticator's form, backed by server-side sessions in core.auth."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy.orm import Session
from streamlit_authenticator.utilities import LoginError

from core import auth, passwords, throttle
from core.access import Actor
from core.second_factor import is_enrolled
from ui.second_factor import code_step, held, held_via, hold
from ui.sso import buttons, password_form_shown, sign_in_by_identity
from ui.state import reading, session, settings

COOKIE_NAME = "securesphere_auth"
SESSION_ENDED = "Your session has ended. Please sign in again."
_SUBMIT_KEY = "FormSubmitter:Login-Sign in"
_DELETING = "_cookie_deleting"
_FIELDS = {
    "Form name": "Sign in to SecureSphere",
    "Username": "Username",
    "Password": "Password",
    "Login": "Sign in",
}
LOOPBACK = "127.0.0.1"


def _authenticator(creds: dict) -> stauth.Authenticate:
    # Expiry 0: the library never sets its own cookie; _set_cookie sets ours, bound to a session.
    return stauth.Authenticate(
        creds, COOKIE_NAME, settings().cookie_key, 0, auto_hash=False, login_sleep_time=0
    )


def sign_in() -> Actor | None:
    """Return the signed-in actor, or render the login form and return None (the code step of
    an account with a second factor stops the run instead)."""
    with reading() as s:
        creds = auth.credentials(s, client_address=client_address())
    authenticator = _authenticator(creds)
    st.session_state["_authenticator"] = authenticator
    if st.session_state.get("sid"):
        return _current(authenticator)
    if (username := held()) is not None:
        return _second_step(authenticator, username)
    _keep_deleting_cookie(authenticator)
    if (actor := sign_in_by_identity(authenticator, _open_new)) is not None:
        return actor
    if not st.session_state.get("authentication_status"):
        st.session_state["authentication_status"] = None
    _login_form(authenticator)
    buttons()
    if st.session_state.get("authentication_status"):
        return _open(authenticator)
    if st.session_state.get(_SUBMIT_KEY):
        _spend_check_if_none_ran(creds)
        _record_failure(creds)
        st.error(auth.FAILED_SIGN_IN)
    return None


def _login_form(authenticator: stauth.Authenticate) -> None:
    """The library's form (unrendered when single sign-on only: the cookie still resumes); it
    also signs in from a validly signed cookie, which _open then checks."""
    try:
        authenticator.login(
            location=_where(), key="Login", callback=_mark_form_login, fields=_FIELDS
        )
    except LoginError:  # a cookie for an account that no longer exists or is inactive
        _refuse_cookie(authenticator)


def _refuse_cookie(authenticator: stauth.Authenticate) -> None:
    _forget(authenticator)  # renders the cookie's deletion; the library now ignores the cookie
    st.session_state["_signed_out_reason"] = SESSION_ENDED
    # The message and form in this same run: an immediate rerun would drop the deletion unsent.
    st.info(SESSION_ENDED)
    authenticator.login(location=_where(), key="Login", callback=_mark_form_login, fields=_FIELDS)


def _where() -> Literal["main", "unrendered"]:
    return "main" if password_form_shown() else "unrendered"


def _spend_check_if_none_ran(creds: dict) -> None:
    # The library checks a password only for names in `creds` (and then counts the failure there);
    # any other refusal (unknown or inactive account) would answer at once and tell which
    # usernames exist.
    if not any(data.get("failed_login_attempts") for data in creds["usernames"].values()):
        with reading() as s:
            passwords.spend_password_check(s)


def _mark_form_login(_event: dict) -> None:
    st.session_state["_form_login"] = True


def _open(authenticator: stauth.Authenticate) -> Actor | None:
    if st.session_state.pop("_form_login", False):
        return _open_by_form(authenticator, st.session_state["username"])
    return _resume(authenticator)


def _open_by_form(authenticator: stauth.Authenticate, username: str) -> Actor:
    actor = _open_new(authenticator, lambda _s: username)
    if actor is None:
        st.rerun()  # the code step, without the password form this run has drawn
    return actor


def _second_step(authenticator: stauth.Authenticate, username: str) -> Actor:
    """Every run between a right password and a right code comes here (the library's signed-in
    state is gone, so nothing resumes or opens a session meanwhile); a right code opens the
    session as the form does."""
    if not code_step(username, client_address()):
        st.stop()  # nothing else of the sign-in screen under the code step
    actor = _open_new(authenticator, lambda _s: username, second_factor=_code, via=held_via())
    _as_after_library_login(actor)
    return actor


def _code() -> str:
    return "code"


def _open_new(
    authenticator: stauth.Authenticate,
    prepare: Callable[[Session], str],
    *,
    second_factor: Callable[[], str] = str,
    via: str = "",
) -> Actor | None:
    """A new server-side session for the account `prepare` names (run in the same transaction),
    and a cookie that is valid only as long as that session. `second_factor()`, asked after
    `prepare`, says how one was given (see auth.open_session); for an account with ours and none
    given yet, only `prepare` is committed and the code step is held: None. `via` names a single
    sign-on provider."""
    with session() as s:
        username = prepare(s)
        given = second_factor()
        if not given and is_enrolled(s, username):
            actor = None
        else:
            actor = auth.open_session(
                s, username, client_address=client_address(), via=via, second_factor=given
            )
            expires = datetime.now(UTC).replace(microsecond=0) + auth.session_lifetime(s)
            token = _cookie_token(username, expires)
            auth.bind_cookie(s, actor.session_id, token)
    if actor is None:
        hold(authenticator, username, via)
        return None
    st.session_state.pop(_DELETING, None)  # a pending deletion could overtake the new cookie
    _set_cookie(authenticator, token, expires)
    # The cookie component still has to reach the browser; it reruns the app itself once done.
    st.session_state["_cookie_pending"] = True
    return _remember(actor)


def link_authenticator() -> stauth.Authenticate:
    """This run's one Authenticate for a page that signs in by link. Made on every run of that
    page, so its cookie component has reported the cookies long before sign_in_by_link sets one:
    made only in the submitting run, its first report reruns the app at once and races the
    cookie being set (the cookie is then often never written)."""
    with reading() as s:
        creds = auth.credentials(s, client_address=client_address())
    authenticator = _authenticator(creds)
    st.session_state["_authenticator"] = authenticator
    return authenticator


def sign_in_by_link(authenticator: stauth.Authenticate, prepare: Callable[[Session], str]) -> Actor:
    """Sign in the account `prepare` names once it has run (accepting an invitation, resetting a
    password) in the same transaction as the new session: the same session row and cookie as the
    sign-in form, and the library's state as after its own login. Raises what `prepare` raises,
    with nothing written. `authenticator` is this run's, from link_authenticator()."""
    actor = _open_new(authenticator, prepare)
    if actor is None:  # a second factor: its code step in place of the spent link's page
        st.query_params.clear()
        st.rerun()
    _as_after_library_login(actor)
    return actor


def _as_after_library_login(actor: Actor) -> None:
    with reading() as s:
        me = auth.user_summary(s, actor)
    st.session_state.update(
        authentication_status=True, username=actor.username, name=me.name, roles=[actor.role]
    )


def _resume(authenticator: stauth.Authenticate) -> Actor | None:
    """A cookie (its signature checked by the library) resumes the session it was issued with."""
    token = st.context.cookies.get(COOKIE_NAME, "")
    with session() as s:
        actor = auth.resume_session(s, token) if token else None
    if actor is None or actor.username != st.session_state["username"]:
        _refuse_cookie(authenticator)
        return None
    st.session_state["_cookie_pending"] = False
    return _remember(actor)


def _remember(actor: Actor) -> Actor:
    st.session_state["sid"] = actor.session_id
    st.session_state["actor"] = actor
    st.session_state.pop("_signed_out_reason", None)
    return actor


def _cookie_token(username: str, expires: datetime) -> str:
    # The library's format (it reads the cookie back), plus a random id: every sign-in's cookie
    # differs, so its fingerprint names exactly one session row.
    claims = {
        "username": username,
        "exp_date": expires.timestamp(),
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, settings().cookie_key, algorithm="HS256")


def _set_cookie(authenticator: stauth.Authenticate, token: str, expires: datetime) -> None:
    # Set from JavaScript by the component, so it cannot be HttpOnly; Secure over HTTPS,
    # SameSite=Strict, and no longer-lived than the session's absolute timeout.
    manager = authenticator.cookie_controller.cookie_model.cookie_manager
    manager.set(
        COOKIE_NAME,
        token,
        expires_at=expires,
        max_age=int((expires - datetime.now(UTC)).total_seconds()),
        secure=served_over_https(st.context.url, st.context.headers.get("X-Forwarded-Proto")),
        same_site="strict",
    )


def served_over_https(url: str | None, forwarded_proto: str | None) -> bool:
    """True when the browser talks HTTPS: to us directly, or to a proxy that terminates TLS."""
    proto = (forwarded_proto or "").split(",")[0].strip().lower()
    return proto == "https" or (url or "").lower().startswith("https://")


def _current(authenticator: stauth.Authenticate) -> Actor | None:
    with session() as s:
        actor = auth.check_session(s, st.session_state["sid"])
    if actor is None:
        _forget(authenticator)  # renders the cookie's deletion, which reruns the app once done
        st.session_state["_signed_out_reason"] = SESSION_ENDED
        st.info(SESSION_ENDED)
        st.stop()
    st.session_state["actor"] = actor
    return actor


def _record_failure(creds: dict) -> None:
    # The library marks the typed name in creds when it is an account, cooldown included (such
    # accounts stay in creds with a refusing hash). A name that is no account is not recorded:
    # it may be a password typed into the wrong field.
    tried = [u for u, data in creds["usernames"].items() if data.get("failed_login_attempts")]
    with session() as s:
        auth.record_failed_sign_in(s, tried[0] if tried else "", client_address=client_address())


def client_address() -> str:
    """The client's address as the throttling counts it (core.throttle.client_address)."""
    # Streamlit reports a loopback peer (nginx on this host, a local browser) as None, and
    # AppTest has no real peer (a mock): both count as loopback.
    peer = st.context.ip_address
    peer = peer if isinstance(peer, str) and peer else LOOPBACK
    return throttle.client_address(
        peer, st.context.headers.get_all("X-Forwarded-For"), settings().trusted_proxies
    )


def _forget(authenticator: stauth.Authenticate) -> None:
    """Drop the browser's login state: library status, cookie, our session keys."""
    if st.session_state.get("authentication_status"):
        authenticator.authentication_controller.logout()  # the state only; the cookie is ours
    st.session_state["logout"] = True  # the library now ignores the cookie
    for key in ("sid", "actor", "_form_login"):
        st.session_state.pop(key, None)
    st.session_state[_DELETING] = True
    _keep_deleting_cookie(authenticator)


def _keep_deleting_cookie(authenticator: stauth.Authenticate) -> None:
    """Render the cookie's deletion on every run until the browser reports it done. Rendered in
    one run only, a rerun that starts before its frame has loaded (the cookie list reporting in,
    on a loaded machine) removes it unsent and the refused cookie stays. Never in the run that
    signs in by the form: that run sets the new cookie, which a deletion could overtake."""
    if not st.session_state.get(_DELETING):
        return
    if st.session_state.get(_SUBMIT_KEY):
        st.session_state.pop(_DELETING)
        return
    manager = authenticator.cookie_controller.cookie_model.cookie_manager
    done = manager.cookie_manager(
        method="delete", cookie=COOKIE_NAME, key="securesphere_cookie_delete", default=False
    )
    if done:
        st.session_state.pop(_DELETING)


def sign_out() -> None:
    """End the server-side session, then the browser's."""
    actor = st.session_state.get("actor")
    if actor is not None:
        with session() as s:
            auth.close_session(s, actor)
    _forget(st.session_state["_authenticator"])
    st.session_state["_signed_out_reason"] = "You have been signed out."
