"""Journeys in Debian's Chromium against a real server, a real SMTP server (aiosmtpd) and the
real mail worker (`notify run --once`): an invitee opens the link from the received e-mail and
lands signed in; a person who forgot their password does the same with a reset link, and the
session they had open elsewhere ends."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core import db
from core.access import SYSTEM
from core.models import Organization, Outbox, User
from core.users import create_user
from tests.notify_world import MAIL_FROM
from tests.support import browser as b
from tests.support.smtp import SmtpServer

pytestmark = pytest.mark.browser
expect.set_options(timeout=b.STEP_TIMEOUT_MS)
PASSWORD = "journey passphrase 2026"
NAV = '[data-testid="stSidebarNav"]'
HEADING = '[data-testid="stMain"] h1'


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, smtp):
    """The demo server (as b.demo_server), and its environment with the mail settings: the
    worker must share the app's cookie key to write the links."""
    b.require_chromium()
    tmp = tmp_path_factory.mktemp("invitation_journeys")
    env = b.app_env(tmp, PASSWORD)
    b.run_cli(env, ["init", "--demo"])
    port = b.free_port()
    mail = {
        "SECURESPHERE_SMTP_URL": smtp.url,
        "SECURESPHERE_MAIL_FROM": MAIL_FROM,
        "SECURESPHERE_BASE_URL": b.base_url(port).rstrip("/"),
    }
    proc = b.start_streamlit(env, port, log_name="invitation_journeys")
    yield {"url": b.base_url(port), "db": env["SECURESPHERE_DATABASE_URL"], "env": env | mail}
    b.stop_streamlit(proc)
    db.dispose_all()


@pytest.fixture(scope="module")
def browser():
    yield from b.chromium_browser()


@pytest.fixture
def person(browser):
    """A fresh browser profile per person, opened at a URL."""
    pages = []

    def open_at(url):
        pages.append(b.new_page(browser))
        pages[-1].goto(url)
        b.wait_stable(pages[-1])
        return pages[-1]

    yield open_at
    for page in pages:
        page.context.close()


def _link_in_mail(server, smtp, address, param):
    """Run the mail worker, then the link of the e-mail the SMTP server received for address."""
    b.run_cli(server["env"], ["notify", "run", "--once"])
    mail = b.eventually(
        lambda: [m for m in smtp.inbox.messages() if m.rcpt_tos == [address]],
        what=f"the e-mail to {address}",
    )[-1]
    text = mail.message.get_body(("plain",)).get_content()
    found = re.search(re.escape(server["url"]) + rf"\?{param}=[A-Za-z0-9_-]+", text)
    assert found, text
    return found.group(0)


def _cookie(page):
    return any(c["name"] == "securesphere_auth" for c in page.context.cookies())


def _signed_in(page, title):
    page.locator(NAV).wait_for(state="visible", timeout=b.STEP_TIMEOUT_MS)
    b.wait_stable(page)
    expect(page.locator(HEADING).first).to_have_text(title)
    b.eventually(lambda: _cookie(page), what="the remember-me cookie")


def test_an_invitee_opens_the_link_from_the_email_and_lands_signed_in(server, smtp, person):
    with db.reading(server["db"]) as s:
        org = s.scalar(
            select(Organization.name)
            .join(User, User.organization_id == Organization.id)
            .where(User.username == "demo_client")
        )
    address = "journey.invitee@example.org"
    b.run_cli(
        server["env"], ["invite", "--email", address, "--role", "client", "--organization", org]
    )
    link = _link_in_mail(server, smtp, address, "invite")
    page = person(link)
    expect(page.get_by_text("Welcome to SecureSphere")).to_be_visible()
    page.get_by_label("Full name").fill("Journey Invitee")
    page.get_by_label("Username").fill("journey.invitee")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    _signed_in(page, "My products")
    assert "invite=" not in page.url
    page.reload()  # the cookie resumes the session the link opened
    b.wait_stable(page)
    expect(page.locator(NAV)).to_be_visible()
    with db.reading(server["db"]) as s:
        user = s.scalar(select(User).where(User.username == "journey.invitee"))
        assert (user.email, user.role, user.is_demo) == (address, "client", False)
    again = person(link)
    expect(again.get_by_text("This invitation link was already used.")).to_be_visible()
    expect(again.get_by_label("Password", exact=True)).to_have_count(0)
    b.screenshot(page, "journey_invitation")


def test_a_reset_link_from_the_email_signs_in_and_ends_the_other_session(server, smtp, person):
    address = "journey.forgetful@example.org"
    with db.transaction(server["db"]) as s:
        create_user(
            s,
            SYSTEM,
            username="journey.forgetful",
            name="Journey Forgetful",
            role="analyst",
            email=address,
            password=PASSWORD,
            rounds=4,
        )
    elsewhere = person(server["url"])
    b.sign_in_form(elsewhere, "journey.forgetful", PASSWORD)
    page = person(server["url"])
    page.get_by_text("Forgot your password?").click()
    page.get_by_label("E-mail address").fill(address.upper())
    b.click_until(  # a second request only sends a newer link; the last e-mail is read
        page,
        page.get_by_role("button", name="Send me a link"),
        page.get_by_text("If an account has this e-mail address"),
    )
    b.eventually(lambda: _queued(server, address), what="the reset e-mail in the outbox")
    link = _link_in_mail(server, smtp, address, "reset")
    page.goto(link)
    b.wait_stable(page)
    expect(page.get_by_text("For the account journey.forgetful")).to_be_visible()
    page.get_by_label("Password", exact=True).fill("a new journey passphrase")
    page.get_by_label("Repeat password").fill("a new journey passphrase")
    page.get_by_role("button", name="Save and sign in").click()
    _signed_in(page, "Portfolio")
    elsewhere.locator(NAV).get_by_text("My profile", exact=True).click()
    b.wait_stable(elsewhere)
    expect(elsewhere.get_by_text("Your session has ended. Please sign in again.")).to_be_visible()
    b.sign_in_form(person(server["url"]), "journey.forgetful", "a new journey passphrase")
    b.screenshot(page, "journey_password_reset")


def _queued(server, address):
    with db.reading(server["db"]) as s:
        return s.scalar(select(Outbox.id).where(Outbox.address == address))
