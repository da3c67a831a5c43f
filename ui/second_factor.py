"""Two-step sign-in (core.second_factor): the code step of a sign-in, the set-up on My profile
and the admin's reset on the Users page."""

from __future__ import annotations

import time

import streamlit as st
import streamlit_authenticator as stauth

from core import second_factor
from core.access import Actor
from core.labels import format_date
from core.text import md_escape
from ui.state import feedback, reading, run_action, session
from ui.widgets import confirm_action

_HELD = "_second_factor_held"  # the password step passed: {"username", "since", "refused"}
HOLD_SECONDS = 5 * 60
CODE_PROMPT = "Enter the 6-digit code from your authenticator app (or a recovery code)."
TOO_LATE = "The code was not entered within 5 minutes. Please sign in again."
_SETUP = "_second_factor_setup"  # the Enrolment being set up on My profile
_CODES = "_second_factor_codes"  # the new recovery codes, until the user says they kept them


# --------------------------------------------------------------------------- the sign-in step


def hold(authenticator: stauth.Authenticate, username: str, via: str = "") -> None:
    """The password (or a link) was right for an account with a second factor: remember it in
    this browser's server-side state only, and make the library forget its signed-in state,
    which a rerun would otherwise try to resume (ui.login._resume) without a code."""
    if st.session_state.get("authentication_status"):
        authenticator.authentication_controller.logout()  # also: the library ignores the cookie
    for key in ("_form_login", "_signed_out_reason"):
        st.session_state.pop(key, None)
    st.session_state[_HELD] = {
        "username": username,
        "since": time.monotonic(),
        "refused": False,
        "via": via,
    }


def release() -> None:
    st.session_state.pop(_HELD, None)


def held_via() -> str:
    """The single sign-on provider of the held sign-in ("" for the password form)."""
    return str(st.session_state.get(_HELD, {}).get("via", ""))


def held() -> str | None:
    """The account whose code the sign-in waits for, or None. After HOLD_SECONDS the password
    step is void: back to the sign-in form, saying why."""
    pending = st.session_state.get(_HELD)
    if not pending:
        return None
    if time.monotonic() - pending["since"] > HOLD_SECONDS:
        release()
        st.session_state["_signed_out_reason"] = TOO_LATE
        st.rerun()
    return pending["username"]


def code_step(username: str, client_address: str) -> bool:
    """The second form of a sign-in; True in the run where a right code was given. A wrong one
    counts like a wrong password (core.throttle) and is refused with the same words each time."""
    pending = st.session_state[_HELD]
    with st.form("second_factor_code", clear_on_submit=True):
        st.subheader("Two-step sign-in")
        st.markdown(f"Signing in as **{md_escape(username)}**. {CODE_PROMPT}")
        code = st.text_input("Code", max_chars=32, autocomplete="one-time-code")
        verify = st.form_submit_button("Verify", type="primary", icon=":material/verified_user:")
        cancel = st.form_submit_button("Use another account", type="tertiary")
    if cancel:
        release()
        st.rerun()
    if verify:
        with session() as s:  # committed either way: a refusal is counted and audited
            right = second_factor.check_code(s, username, code, client_address=client_address)
        pending["refused"] = right is not True
        if not pending["refused"]:
            release()
            return True
    if pending["refused"]:  # kept in the session: a component's rerun must not hide it
        st.error(second_factor.FAILED_CODE, icon=":material/error:")
    return False


# --------------------------------------------------------------------------- My profile


def _status(actor: Actor) -> tuple[bool, str, int]:
    with reading() as s:
        status = second_factor.factor_status(s, actor)
    since = format_date(status.since) if status.since else ""
    return status.enrolled, since, status.recovery_codes_left


def two_step_section(actor: Actor) -> None:
    """Set up (or set up again) a code from an authenticator app, asked after the password."""
    st.subheader("Two-step sign-in")
    st.caption(
        "After your password, sign-in asks for a 6-digit code from an authenticator app on your "
        "phone (such as Google Authenticator, Microsoft Authenticator or 1Password)."
    )
    if codes := st.session_state.get(_CODES):
        _recovery_codes(codes)
        return
    if st.session_state.get(_SETUP):
        _setup(st.session_state[_SETUP])
        return
    enrolled, since, left = _status(actor)
    if enrolled:
        st.success(f"On since {since}. {left} recovery codes left.", icon=":material/lock:")
        st.caption(
            "Setting up again moves two-step sign-in to a new app or phone: the current one keeps "
            "working until the new one is confirmed, and new recovery codes replace the old ones. "
            "To turn it off, ask an administrator."
        )
    else:
        st.info("Two-step sign-in is off for your account.", icon=":material/lock_open:")
    label = "Set up again" if enrolled else "Set up"
    if st.button(label, icon=":material/qr_code_2:", key="second_factor_begin"):
        made = {}
        if run_action(lambda s, a: made.update(e=second_factor.begin_enrolment(s, a))):
            st.session_state[_SETUP] = made["e"]
            st.rerun()


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _setup(enrolment: second_factor.Enrolment) -> None:
    st.markdown("**1.** Scan this QR code with your authenticator app.")
    st.image(enrolment.qr_svg, width=220)  # st.image draws SVG text itself: no HTML needed
    st.markdown("Or type this key into the app instead:")
    st.code(_grouped(enrolment.secret), language=None)
    with st.form("second_factor_confirm", clear_on_submit=True):
        st.markdown("**2.** Enter the 6-digit code the app now shows for SecureSphere.")
        code = st.text_input("Code from the app", max_chars=7, autocomplete="one-time-code")
        confirm = st.form_submit_button("Confirm", type="primary", icon=":material/check:")
        cancel = st.form_submit_button("Cancel", type="tertiary")
    if cancel:
        st.session_state.pop(_SETUP, None)
        st.rerun()
    if confirm:
        made = {}
        if run_action(
            lambda s, a: made.update(codes=second_factor.confirm_enrolment(s, a, code)),
            slot="second_factor_confirm",
        ):
            st.session_state.pop(_SETUP, None)
            st.session_state[_CODES] = made["codes"]
            st.rerun()
    feedback("second_factor_confirm")


def _recovery_codes(codes: list[str]) -> None:
    st.success("Two-step sign-in is on.", icon=":material/check_circle:")
    st.warning(
        "Save these recovery codes now: they are shown only this once. Each one signs you in "
        "once in place of a code, if you lose your phone.",
        icon=":material/warning:",
    )
    text = "\n".join(codes)
    st.code(text, language=None)
    st.download_button(
        "Download recovery-codes.txt",
        data=text + "\n",
        file_name="recovery-codes.txt",
        mime="text/plain",
        icon=":material/download:",
        on_click="ignore",
    )
    if st.button("I have saved my recovery codes", key="second_factor_codes_kept"):
        st.session_state.pop(_CODES, None)
        st.rerun()


# --------------------------------------------------------------------------- the Users page


def reset_action(user_id: int, username: str) -> None:
    """An admin's reset of a user's second factor, confirmed first; disabled when there is none."""
    with reading() as s:
        enrolled = second_factor.is_enrolled(s, username)
    if not enrolled:
        st.button(
            "Reset second factor",
            icon=":material/phonelink_erase:",
            disabled=True,
            help="This user has not set up two-step sign-in.",
        )
        feedback("reset_second_factor")  # the outcome of a reset, after its rerun
        return
    confirm_action(
        "Reset second factor",
        f"{md_escape(username)} will sign in with the password only until they set up two-step "
        "sign-in again. Every session of theirs ends now.",
        lambda s, a: second_factor.reset_second_factor(s, a, user_id),
        success=f"Second factor of {username} reset. Their sessions were ended.",
        key="reset_second_factor",
        icon=":material/phonelink_erase:",
    )
