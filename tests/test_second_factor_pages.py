"""Two-step sign-in through AppTest on the demo database: setting it up on My profile, the code
step of a sign-in (every rerun before the code stays there, with no session), a reset link that
still asks for the code, and the admin's reset on the Users page."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from core import auth, db, links, password_reset
from core import second_factor as sf
from core.access import SYSTEM
from core.models import AuthSession, Outbox, RecoveryCode, User, utcnow
from core.settings import get_setting, update_setting
from core.text import md_escape
from core.users import create_user
from tests.apptest import APP, DEMO_PASSWORD, rerun, signed_in
from ui.second_factor import _HELD, HOLD_SECONDS, TOO_LATE


def _user(url, username) -> User:
    with db.reading(url) as s:
        return s.scalar(select(User).where(User.username == username))


def _sessions(url, username) -> int:
    with db.reading(url) as s:
        return s.scalar(
            select(func.count())
            .select_from(AuthSession)
            .join(User, User.id == AuthSession.user_id)
            .where(User.username == username, AuthSession.revoked_at.is_(None))
        )


def _enrol(url, username) -> tuple[str, list[str]]:
    """Turn the factor on with a code of 90 s ago, so the current code is still unused."""
    past = utcnow() - timedelta(seconds=90)
    with db.transaction(url) as s:
        actor = auth.open_session(s, username)
        secret = sf.begin_enrolment(s, actor).secret
        code = pyotp.TOTP(secret).at(past)
        codes = sf.confirm_enrolment(s, actor, code, now=past)
        auth.close_session(s, actor)
    return secret, codes


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _password_step(username) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input[0].input(username)
    at.text_input[1].input(DEMO_PASSWORD)
    at.button[0].click().run()
    return at


def _code_field(at):
    return next(t for t in at.text_input if t.label == "Code")


def test_setting_up_on_my_profile_shows_the_qr_code_and_the_recovery_codes_once(app_env):
    at = signed_in(app_env, "analyst").run().switch_page("pages/profile.py").run()
    assert not at.exception
    assert any("off for your account" in i.value for i in at.info)
    at.button(key="second_factor_begin").click()
    rerun(at)
    assert not at.exception
    shown = at.code[0].value
    pending = _user(app_env, "analyst").totp_pending
    assert shown.replace(" ", "") == pending and len(shown.split()) == 8  # groups of 4
    urls = [url for image in at.get("image") for url in image.value]
    assert any(url.startswith("data:image/svg+xml;base64,") for url in urls)  # the QR code
    assert _user(app_env, "analyst").totp_secret is None  # nothing on before the code

    next(t for t in at.text_input if t.label == "Code from the app").input("000000")
    _button(at, "Confirm").click()
    rerun(at)
    assert [e.value for e in at.error] == [md_escape(sf.FAILED_CODE)]
    assert _user(app_env, "analyst").totp_secret is None

    next(t for t in at.text_input if t.label == "Code from the app").input(
        pyotp.TOTP(pending).now()
    )
    _button(at, "Confirm").click()
    rerun(at)
    assert not at.exception
    assert _user(app_env, "analyst").totp_secret == pending
    codes = at.code[0].value.split("\n")
    assert len(codes) == 10 and len(set(codes)) == 10
    assert any("shown only this once" in w.value for w in at.warning)
    download = at.get("download_button")[0]
    assert download.proto.label == "Download recovery-codes.txt"

    at.button(key="second_factor_codes_kept").click()
    rerun(at)
    assert not at.code  # gone for good
    rerun(at.switch_page("pages/profile.py"))
    assert not at.code
    status = " ".join(m.value for m in at.success)
    assert "On since" in status and "10 recovery codes left" in status
    assert _button(at, "Set up again")


def test_a_right_password_asks_for_the_code_and_no_rerun_skips_it(app_env):
    secret, _ = _enrol(app_env, "security_manager")
    before = _sessions(app_env, "security_manager")
    at = _password_step("security_manager")
    assert not at.exception
    assert _code_field(at)
    assert not at.session_state["authentication_status"]  # the library's state is gone
    assert "sid" not in at.session_state and "Sign in" not in [b.label for b in at.button]
    for _ in range(2):  # component reruns, reloading the app in this session
        rerun(at)
        assert _code_field(at) and "sid" not in at.session_state
    assert _sessions(app_env, "security_manager") == before

    _code_field(at).input("123456" if pyotp.TOTP(secret).now() != "123456" else "654321")
    rerun(_button(at, "Verify").click())
    assert [e.value for e in at.error] == [sf.FAILED_CODE]
    at.run()  # the refusal stays through a rerun, and still no session
    assert [e.value for e in at.error] == [sf.FAILED_CODE] and "sid" not in at.session_state
    assert _user(app_env, "security_manager").failed_logins == 1

    _code_field(at).input(pyotp.TOTP(secret).now())
    rerun(_button(at, "Verify").click())
    rerun(at)
    assert not at.exception
    assert at.session_state["sid"] and at.title[0].value == "Portfolio"
    assert _sessions(app_env, "security_manager") == before + 1


def test_a_recovery_code_works_once_and_cancel_goes_back_to_the_password(app_env):
    _, codes = _enrol(app_env, "lead_reviewer")
    at = _password_step("lead_reviewer")
    _code_field(at).input(codes[0])
    rerun(_button(at, "Verify").click())
    rerun(at)
    assert at.session_state["sid"]
    with db.reading(app_env) as s:
        assert sf.recovery_codes_left(s, at.session_state["actor"]) == 9

    at = _password_step("lead_reviewer")
    _code_field(at).input(codes[0])
    rerun(_button(at, "Verify").click())
    assert [e.value for e in at.error] == [sf.FAILED_CODE] and "sid" not in at.session_state
    rerun(_button(at, "Use another account").click())
    assert not at.exception
    assert "Sign in" in [b.label for b in at.button] and not any(
        t.label == "Code" for t in at.text_input
    )


def test_the_code_step_ends_after_five_minutes(app_env):
    _enrol(app_env, "demo_client")
    at = _password_step("demo_client")
    at.session_state[_HELD] = at.session_state[_HELD] | {
        "since": time.monotonic() - HOLD_SECONDS - 1
    }
    rerun(at)
    assert not at.exception
    assert TOO_LATE in [i.value for i in at.info]
    assert "Sign in" in [b.label for b in at.button] and "sid" not in at.session_state


def test_a_reset_link_for_an_account_with_a_second_factor_still_asks_for_the_code(app_env):
    secret, _ = _enrol(app_env, "enterprise_client")
    email = _user(app_env, "enterprise_client").email
    with db.transaction(app_env) as s:
        password_reset.request_reset(s, email, client_address="127.0.0.1")
        nonce = s.scalars(
            select(Outbox).where(Outbox.address == email).order_by(Outbox.id.desc())
        ).first()
        token = links.derive_token(nonce.data["nonce"])
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["reset"] = token
    rerun(at)
    new = "a brand new passphrase 2026"
    next(t for t in at.text_input if t.label == "Password").input(new)
    next(t for t in at.text_input if t.label == "Repeat password").input(new)
    _button(at, "Save and sign in").click()
    rerun(at)
    assert not at.exception
    assert "sid" not in at.session_state and _code_field(at)  # the password changed, no session
    assert _sessions(app_env, "enterprise_client") == 0
    _code_field(at).input(pyotp.TOTP(secret).now())
    rerun(_button(at, "Verify").click())
    rerun(at)
    assert at.session_state["sid"] and _sessions(app_env, "enterprise_client") == 1


def test_the_admin_resets_a_second_factor_and_the_users_sessions_end(app_env):
    with db.transaction(app_env) as s:
        create_user(
            s,
            SYSTEM,
            username="two.step",
            name="Two Step",
            role="analyst",
            email="two.step@example.org",
            password=DEMO_PASSWORD,
            rounds=4,
        )
    _enrol(app_env, "two.step")
    with db.transaction(app_env) as s:
        victim = auth.open_session(s, "two.step")
    at = signed_in(app_env, "admin").run().switch_page("pages/admin_users.py").run()
    next(s for s in at.selectbox if s.label == "Manage user").select("two.step")
    rerun(at)
    assert _user(app_env, "two.step").totp_secret is not None  # the popover alone changes nothing
    at.button(key="reset_second_factor").click()
    rerun(at)
    assert not at.exception
    user = _user(app_env, "two.step")
    assert (user.totp_secret, user.totp_enabled_at) == (None, None)
    assert [m.value for m in at.success] == [
        md_escape("Second factor of two.step reset. Their sessions were ended.")
    ]
    with db.transaction(app_env) as s:
        assert auth.check_session(s, victim.session_id) is None
        assert not s.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
    reset = next(b for b in at.button if b.label == "Reset second factor")
    assert reset.disabled  # nothing left to reset


def _require(url, roles) -> None:
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "second_factor_roles", roles)


def test_a_role_that_needs_the_factor_reaches_only_my_profile_until_it_is_set_up(app_env):
    _require(app_env, ["admin", "lead_reviewer"])
    try:
        at = signed_in(app_env, "admin").run()
        assert not at.exception
        assert any("Your role signs in with two steps" in w.value for w in at.warning)
        assert at.title[0].value == "My profile"
        assert not any(b.label == "Change password" for b in at.button)  # only the set-up
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page("pages/portfolio_home.py")  # no other page of the role is registered
        at.button(key="second_factor_begin").click()
        rerun(at)
        secret = _user(app_env, "admin").totp_pending
        next(t for t in at.text_input if t.label == "Code from the app").input(
            pyotp.TOTP(secret).now()
        )
        _button(at, "Confirm").click()
        rerun(at)
        at.button(key="second_factor_codes_kept").click()
        rerun(at)
        assert not any("two steps" in w.value for w in at.warning)
        rerun(at.switch_page("pages/portfolio_home.py"))
        assert not at.exception and at.title[0].value == "Portfolio"
        analyst = signed_in(app_env, "analyst").run()  # a role not in the list: no gate
        assert analyst.title[0].value == "Portfolio" and not analyst.warning
    finally:
        _require(app_env, [])


def test_the_sign_in_settings_are_checked_and_saved_together(app_env):
    at = signed_in(app_env, "admin").run().switch_page("pages/admin_settings.py").run()
    assert not at.exception
    claim = next(t for t in at.text_input if t.label == "Claim holding the groups")
    claim.input("member of")
    next(m for m in at.multiselect if m.label.startswith("Roles that must")).select("Analyst")
    _button(at, "Save sign-in settings").click()
    rerun(at)
    assert any("claim name" in e.value for e in at.error)
    with db.reading(app_env) as s:  # all or nothing: the roles were not saved either
        assert get_setting(s, "second_factor_roles") == []
        assert get_setting(s, "sso_group_claim") == "groups"
    next(t for t in at.text_input if t.label == "Claim holding the groups").input("roles")
    _button(at, "Save sign-in settings").click()
    rerun(at)
    assert not at.exception and not at.error
    with db.reading(app_env) as s:
        assert get_setting(s, "second_factor_roles") == ["analyst"]
        assert get_setting(s, "sso_group_claim") == "roles"
    with db.transaction(app_env) as s:
        update_setting(s, SYSTEM, "sso_group_claim", "groups")
    _require(app_env, [])
