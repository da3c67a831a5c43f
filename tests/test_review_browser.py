"""In Chromium at 1280 px on a busy database (demo plus a small synthetic set): a page outside the
role's set says so, the review desk stays short, and decisions are in view and ask first."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core import db
from core.models import Assessment, AuditLog
from tests.support import browser as b

pytestmark = pytest.mark.browser
expect.set_options(timeout=b.STEP_TIMEOUT_MS)
PASSWORD = "review passphrase 2026"
MAIN = '[data-testid="stMain"]'
NAV = '[data-testid="stSidebarNav"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    synthetic = ["seed-synthetic", "--products", "300", "--questions", "8"]
    yield from b.demo_server(tmp_path_factory, "review_browser", synthetic, password=PASSWORD)


@pytest.fixture(scope="module")
def chromium():
    yield from b.chromium_browser()


@pytest.fixture
def signed_in(chromium, server):
    contexts = []

    def open_as(username):
        page = b.new_page(chromium, width=1280, height=900)
        contexts.append(page.context)
        page.goto(server["url"])
        b.wait_stable(page)
        b.sign_in_form(page, username, PASSWORD)
        return page

    yield open_as
    for context in contexts:
        context.close()


def _open(page, server, path):
    page.goto(server["url"] + path)
    b.wait_stable(page)


def _denials(server) -> list[tuple[str, str]]:
    with db.reading(server["db"]) as s:
        return [
            tuple(r)
            for r in s.execute(
                select(AuditLog.actor_role, AuditLog.object_id).where(
                    AuditLog.action == "access_denied"
                )
            )
        ]


def test_a_client_typing_an_admin_url_is_told_and_the_refusal_is_audited(signed_in, server):
    page = signed_in("demo_client")
    _open(page, server, "admin_users")
    expect(page.locator(MAIN).get_by_text("You do not have access to this page.")).to_be_visible()
    expect(page.locator(f"{MAIN} h1")).to_have_count(0)  # neither Users nor My products ran
    expect(page.locator(NAV).get_by_text("Users", exact=True)).to_have_count(0)
    expect(page.locator(NAV).get_by_text("My products", exact=True)).to_be_visible()
    b.eventually(
        lambda: ("client", "admin_users") in _denials(server), what="the access_denied row"
    )
    b.screenshot(page, "review_browser_client_denied")


def test_the_review_desk_is_short_and_its_table_fits_1280_px(signed_in, server):
    page = signed_in("admin")
    _open(page, server, "review_home")
    expect(page.locator(MAIN).get_by_text("resubmissions wait for review: show")).to_be_visible()
    grid = page.locator(f'{MAIN} [data-testid="stDataFrame"]').last
    expect(grid).to_be_visible()
    assert grid.bounding_box()["x"] + grid.bounding_box()["width"] <= 1280
    height = page.evaluate(f"() => document.querySelector('{MAIN}').scrollHeight")
    assert height < 2500, f"the desk is {height} px tall"
    b.screenshot(page, "review_browser_desk")


def _under_review(server) -> int:
    with db.reading(server["db"]) as s:
        return s.scalar(
            select(Assessment.id)
            .where(Assessment.status == "under_review")
            .order_by(Assessment.id)
            .limit(1)
        )


@pytest.mark.parametrize("decision", ["Request changes", "Reject"])
def test_decisions_are_in_view_and_ask_before_acting(signed_in, server, decision):
    aid = _under_review(server)
    page = signed_in("admin")
    _open(page, server, f"review?assessment={aid}")
    button = page.locator(MAIN).get_by_role("button", name=decision)
    expect(button).to_be_in_viewport()  # nothing to open first
    button.click()
    expect(page.get_by_role("button", name=f"Yes, {decision.lower()}")).to_be_visible()
    b.wait_stable(page)
    with db.reading(server["db"]) as s:
        assert s.get(Assessment, aid).status == "under_review"  # asked, not yet done
