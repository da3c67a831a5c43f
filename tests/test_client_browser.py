"""In Chromium, what AppTest cannot show: a confirmation drawn before the page reruns survives the
rerun (a toast would be dropped), and the next refusal replaces it beside the same button."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from core import db
from tests.support import browser as b
from tests.test_journeys import PASSWORD, sign_in

pytestmark = pytest.mark.browser
expect.set_options(timeout=b.STEP_TIMEOUT_MS)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    b.require_chromium()
    env = b.app_env(tmp_path_factory.mktemp("client_browser"), PASSWORD)
    b.run_cli(env, ["init", "--demo"])
    port = b.free_port()
    proc = b.start_streamlit(env, port, log_name="client_browser")
    yield b.base_url(port)
    b.stop_streamlit(proc)
    db.dispose_all()


def test_a_confirmation_survives_the_rerun_and_gives_way_to_the_next_refusal(server):
    with sync_playwright() as pw:
        chromium = b.launch_chromium(pw)
        context = chromium.new_context()
        context.add_init_script(b.STABLE_INIT_SCRIPT)
        page = context.new_page()
        page.goto(server)
        b.wait_stable(page)
        sign_in(page, "demo_client")
        form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_label("Product name"))
        page.get_by_text("Add a product").click()
        b.wait_stable(page)  # a click during a rerun (the cookie's, after sign-in) can be lost
        page.get_by_label("Product name").fill("Browser Product")
        b.click_until(
            page,
            page.get_by_role("button", name="Add product"),
            form.get_by_text('Product "Browser Product" added.'),
        )
        page.get_by_label("Product name").fill("Browser Product")
        page.get_by_role("button", name="Add product").click()
        b.wait_stable(page)
        expect(form.get_by_text("already exists in this organisation")).to_be_visible()
        expect(page.get_by_text('Product "Browser Product" added.')).to_have_count(0)
        b.screenshot(page, "client_add_product_refused")
        chromium.close()
