"""Two-step sign-in in Debian's Chromium against a real server: a user sets it up on My profile,
then every sign-in asks for the code after the password; a wrong code is refused, a reload during
the code step does not sign in, a recovery code works once, and an admin's reset ends it."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from core import auth, db
from core import second_factor as sf
from core.models import AuthSession, User, utcnow
from core.second_factor import FAILED_CODE, STEP
from tests.support import browser as b
from ui.second_factor import CODE_PROMPT

pytestmark = pytest.mark.browser
expect.set_options(timeout=b.STEP_TIMEOUT_MS)
PASSWORD = "two step passphrase 2026"
NAV = '[data-testid="stSidebarNav"]'
MAIN = '[data-testid="stMain"]'
SHOTS = Path("/tmp/shots")
USER = "analyst"
OTHER = "security_manager"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from b.demo_server(tmp_path_factory, "second_factor_browser", password=PASSWORD)


@pytest.fixture(scope="module")
def chromium():
    yield from b.chromium_browser()


@pytest.fixture
def new_page(chromium):
    pages = []

    def make():
        pages.append(b.new_page(chromium, width=1280, height=900))
        return pages[-1]

    yield make
    for page in pages:
        page.context.close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(1, 1)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _user(server, username=USER) -> User:
    with db.reading(server["db"]) as s:
        return s.scalar(select(User).where(User.username == username))


def _live_sessions(server, username=USER) -> int:
    with db.reading(server["db"]) as s:
        return s.scalar(
            select(func.count())
            .select_from(AuthSession)
            .join(User, User.id == AuthSession.user_id)
            .where(User.username == username, AuthSession.revoked_at.is_(None))
        )


def _cookie(page) -> bool:
    return any(c["name"] == "securesphere_auth" for c in page.context.cookies())


def _password(page, username=USER) -> None:
    """The first step: the password form, submitted."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _code_step(page) -> None:
    expect(page.get_by_text(CODE_PROMPT, exact=False)).to_be_visible()
    b.wait_stable(page)
    expect(page.locator(NAV)).to_have_count(0)


def _code(page, code: str) -> None:
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Verify").click()


def _signed_in(page) -> None:
    page.locator(NAV).wait_for(state="visible", timeout=b.STEP_TIMEOUT_MS)
    b.wait_stable(page)
    b.eventually(lambda: _cookie(page), what="the remember-me cookie")


def _sign_out(page) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    b.eventually(lambda: not _cookie(page), what="the cookie's deletion")
    b.wait_stable(page)


def _enrol(page, server) -> list[str]:
    page.locator(NAV).get_by_text("My profile", exact=True).click()
    b.wait_stable(page)
    page.get_by_role("button", name="Set up", exact=True).click()
    expect(page.get_by_text("Scan this QR code")).to_be_visible()
    expect(page.locator(f'{MAIN} img[src^="data:image/svg+xml"]')).to_be_visible()
    b.wait_stable(page)
    secret = b.eventually(lambda: _user(server).totp_pending, what="the pending secret")
    shown = page.locator('[data-testid="stCode"]').first.inner_text()
    assert shown.replace(" ", "").strip() == secret
    page.get_by_text("Scan this QR code").scroll_into_view_if_needed()
    _shot(page, "enrolment_qr")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("shown only this once", exact=False)).to_be_visible()
    b.wait_stable(page)
    codes = page.locator('[data-testid="stCode"]').first.inner_text().split()
    assert len(codes) == 10
    expect(page.get_by_role("button", name="Download recovery-codes.txt")).to_be_visible()
    _shot(page, "enrolment_recovery_codes")
    page.get_by_role("button", name="I have saved my recovery codes").click()
    expect(page.get_by_text("10 recovery codes left", exact=False)).to_be_visible()
    assert _user(server).totp_secret == secret
    return codes


def test_sign_in_asks_for_the_code_after_the_password(server, new_page):
    page = new_page()
    page.goto(server["url"])
    b.wait_stable(page)
    b.sign_in_form(page, USER, PASSWORD)  # not enrolled yet: the password alone, as before
    codes = _enrol(page, server)
    secret, used = _user(server).totp_secret, _user(server).totp_last_step
    _sign_out(page)
    before = _live_sessions(server)

    _password(page)
    _code_step(page)
    _shot(page, "code_step")
    page.reload()  # a reload during the code step starts again from the password
    b.wait_stable(page, quiet_ms=700)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Code", exact=True)).to_have_count(0)
    expect(page.locator(NAV)).to_have_count(0)
    assert not _cookie(page) and _live_sessions(server) == before

    _password(page)
    _code_step(page)
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    _code(page, wrong)
    expect(page.get_by_text(FAILED_CODE)).to_be_visible()
    b.wait_stable(page)
    expect(page.locator(NAV)).to_have_count(0)
    _shot(page, "code_step_refused")
    assert _live_sessions(server) == before
    # The code of the set-up's step was used; a code is accepted once only: wait for the next.
    b.eventually(lambda: int(time.time()) // STEP > used, timeout=STEP + 5, what="a step")
    _code(page, pyotp.TOTP(secret).now())
    _signed_in(page)
    assert _live_sessions(server) == before + 1
    _sign_out(page)

    _password(page)
    _code_step(page)
    _code(page, codes[0])
    _signed_in(page)
    _sign_out(page)
    _password(page)
    _code_step(page)
    _code(page, codes[0])  # the same recovery code again
    expect(page.get_by_text(FAILED_CODE)).to_be_visible()
    b.wait_stable(page)
    expect(page.locator(NAV)).to_have_count(0)


def test_an_admin_resets_the_second_factor_from_the_users_page(server, new_page):
    past = utcnow() - timedelta(seconds=90)
    with db.transaction(server["db"]) as s:
        actor = auth.open_session(s, OTHER)  # a session of theirs, which the reset ends
        secret = sf.begin_enrolment(s, actor).secret
        sf.confirm_enrolment(s, actor, pyotp.TOTP(secret).at(past), now=past)
    page = new_page()
    page.goto(server["url"])
    b.wait_stable(page)
    b.sign_in_form(page, "admin", PASSWORD)
    page.locator(NAV).get_by_text("Users", exact=True).click()
    b.wait_stable(page)
    b.choose(page, "Manage user", OTHER)
    page.get_by_role("button", name="Reset second factor").click()
    expect(page.get_by_text("will sign in with the password only", exact=False)).to_be_visible()
    b.wait_stable(page)
    _shot(page, "admin_reset_confirm")
    page.get_by_role("button", name="Yes, reset second factor").click()
    expect(page.get_by_text("Their sessions were ended", exact=False)).to_be_visible()
    b.wait_stable(page)
    page.get_by_text("Their sessions were ended", exact=False).scroll_into_view_if_needed()
    _shot(page, "admin_reset_done")
    assert _user(server, OTHER).totp_secret is None and _live_sessions(server, OTHER) == 0
    victim = new_page()
    victim.goto(server["url"])
    b.wait_stable(victim)
    _password(victim, OTHER)  # the password alone signs in again
    _signed_in(victim)
