"""In Chromium on a real server: the client pre-fills an SP 800-53 LOW assessment from the
product's CSF 2.0 one, sees the counts and where each carried answer came from, and confirms a
proposed answer; the lead reviewer sees the same provenance and filters on carried answers."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect
from sqlalchemy import select

from core import db
from core.models import Question, QuestionnaireResponse
from tests.factories import PASSWORD, World
from tests.support import browser as b
from tests.test_crosswalk_pages import COUNTS, build

pytestmark = pytest.mark.browser
expect.set_options(timeout=b.STEP_TIMEOUT_MS)
MAIN = '[data-testid="stMain"]'
SHOTS = Path("/tmp/shots")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    b.require_chromium()
    root = tmp_path_factory.mktemp("crosswalk_browser")
    env = b.app_env(root, PASSWORD)
    b.run_cli(env, ["init"])  # the shipped banks and crosswalk
    # the admin signs in with a password only (second_factor_roles would send them to set-up)
    b.run_cli(env, ["settings", "second_factor_roles", "[]"])
    world = build(World(env["SECURESPHERE_DATABASE_URL"], root / "data"))
    db.dispose_all()
    port = b.free_port()
    proc = b.start_streamlit(env, port, log_name="crosswalk_browser")
    yield {"url": b.base_url(port), "world": world}
    b.stop_streamlit(proc)
    db.dispose_all()


@pytest.fixture(scope="module")
def chromium():
    yield from b.chromium_browser()


def _shot(page, name: str, element=None) -> None:
    """tests/artifacts/NAME.png, and a copy under /tmp/shots (of one element, when given)."""
    path = b.screenshot(page, f"crosswalk_{name}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    if element is None:
        shutil.copyfile(path, SHOTS / f"{name}.png")
    else:
        element.screenshot(path=str(SHOTS / f"{name}.png"))


def _origin(w: World, key: str) -> str | None:
    with db.reading(w.url) as s:
        origin = s.scalar(
            select(QuestionnaireResponse.origin)
            .join(Question, Question.id == QuestionnaireResponse.question_id)
            .where(QuestionnaireResponse.assessment_id == w["low"], Question.key == key)
        )
    return origin and origin["kind"]


def _card(page, key: str):
    """The bordered block of one question (or answer card) by its key."""
    code = page.locator("code", has_text=re.compile(f"^{re.escape(key)}$"))
    return page.locator(f'{MAIN} [data-testid="stVerticalBlock"]').filter(has=code).last


def _download(page, button, opener=None) -> bytes:
    """Click a download button until the file comes, as a person clicks again when nothing
    happened (a rerun after the page was drawn, as the sign-in cookie's, retires the button's
    file link); `opener` is clicked first when the button is hidden in a popover."""
    for attempt in range(3):
        b.wait_stable(page)
        if opener is not None and not button.is_visible():
            opener.click()
            expect(button).to_be_visible()
        try:
            with page.expect_download(timeout=15_000) as download:
                button.click()
            return Path(download.value.path()).read_bytes()
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _open(chromium, server, username: str, path: str):
    page = b.new_page(chromium, width=1400, height=1000)
    page.goto(server["url"])
    b.wait_stable(page)
    b.sign_in_form(page, username, PASSWORD)
    page.goto(server["url"] + path)  # signed in again from the cookie
    b.wait_stable(page)
    return page


def test_the_client_pre_fills_and_confirms_and_the_reviewer_filters_on_carried(chromium, server):
    w = server["world"]
    low = w["low"]
    page = _open(chromium, server, "acme", f"questionnaire?assessment={low}")
    main = page.locator(MAIN)
    panel = main.locator('[data-testid="stExpander"]').filter(
        has_text="Pre-fill from another framework"
    )
    expect(panel).to_be_visible()
    panel.get_by_text("Pre-fill from another framework").click()
    expect(panel.get_by_text(f"What it would give: {COUNTS}.")).to_be_visible()
    expect(panel.get_by_text("count nowhere until you confirm them")).to_be_visible()
    b.wait_stable(page)
    _shot(page, "client_prefill_panel", panel)

    b.click_until(
        page,
        panel.get_by_role("button", name="Pre-fill"),
        main.get_by_text(f"Pre-filled from NIST Cybersecurity Framework 2.0: {COUNTS}."),
    )
    b.eventually(lambda: _origin(w, "ac-1") == "carried", what="the carried answer's row")
    carried = _card(page, "ac-1")
    expect(
        carried.get_by_text("Carried from NIST Cybersecurity Framework 2.0 (cycle 1)")
    ).to_be_visible()
    # the source assessment's file, linked rather than copied
    source_file = carried.get_by_role("button", name="mission-statement.pdf")
    assert _download(page, source_file).startswith(b"%PDF")
    # the input shows the carried answer: a fresh input, not the empty one the browser held
    expect(carried.get_by_role("radio", name="Yes", exact=True)).to_be_checked()
    b.wait_stable(page)
    _shot(page, "client_caption", carried)

    main.locator('[data-testid="stRadio"]').first.get_by_text("Awareness and Training (AT)").click()
    b.wait_stable(page)
    proposed = _card(page, "at-1")
    expect(proposed.get_by_text("Proposed: Yes")).to_be_visible()
    expect(proposed.get_by_text("does not count until you confirm it")).to_be_visible()
    _shot(page, "client_proposal", proposed)
    proposed.get_by_role("button", name="Confirm", exact=True).click()
    b.eventually(lambda: _origin(w, "at-1") == "confirmed", what="the confirmed answer's row")
    b.wait_stable(page)
    confirmed = _card(page, "at-1")
    expect(confirmed.get_by_text("Confirmed: Yes.")).to_be_visible()
    expect(confirmed.get_by_text("Confirmed from NIST Cybersecurity Framework 2.0")).to_be_visible()
    expect(confirmed.get_by_role("radio", name="Yes", exact=True)).to_be_checked()
    expect(_card(page, "at-2").get_by_text("Proposed: No")).to_be_visible()
    assert _origin(w, "ac-1") == "carried"  # nothing the browser held was saved over it
    _shot(page, "client_confirmed")
    page.context.close()

    page = _open(chromium, server, "lee", f"review?assessment={low}")
    main = page.locator(MAIN)
    expect(_card(page, "ac-3")).to_be_visible()  # answered by hand: shown under "All"
    caption = _card(page, "ac-1").get_by_text("Carried from NIST Cybersecurity Framework 2.0")
    expect(caption).to_be_visible()
    _shot(page, "reviewer_caption", _card(page, "ac-1"))
    linked = _card(page, "ac-1").get_by_role("button", name="mission-statement.pdf")
    assert _download(page, linked).startswith(b"%PDF")
    b.wait_stable(page)
    main.locator('[data-testid="stRadio"]').get_by_text("Carried", exact=True).click()
    b.wait_stable(page)
    expect(main.locator("code", has_text=re.compile("^ac-3$"))).to_have_count(0)
    expect(_card(page, "ac-1")).to_be_visible()
    expect(_card(page, "ac-2")).to_be_visible()
    _shot(page, "reviewer_carried_filter")
    page.context.close()
