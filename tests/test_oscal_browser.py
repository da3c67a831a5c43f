"""In Chromium: an admin uploads OSCAL catalogs on the Question banks page, and the page says what
the import will do: the shipped CSF again is already present, a new catalog is a new bank, and
its newer release becomes the bank's next version."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect, sync_playwright

from core import db
from core.access import SYSTEM
from core.banks.store import list_questionnaires
from core.users import create_user
from tests.oscal_data import CSF, ISO, oscal_bytes, oscal_json
from tests.support import browser as b

pytestmark = pytest.mark.browser
expect.set_options(timeout=b.STEP_TIMEOUT_MS)
PASSWORD = "oscal journey 2026"
MAIN = '[data-testid="stMain"]'
KEY = "iso-iec-27001-2022-annex-a-catalog"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    b.require_chromium()
    tmp = tmp_path_factory.mktemp("oscal")
    env = b.app_env(tmp, PASSWORD)
    b.run_cli(env, ["init"])
    # the admin signs in with a password only (second_factor_roles would send them to set-up)
    b.run_cli(env, ["settings", "second_factor_roles", "[]"])
    url = env["SECURESPHERE_DATABASE_URL"]
    with db.transaction(url) as s:
        create_user(
            s, SYSTEM, username="ada", name="Ada", role="admin", password=PASSWORD, rounds=4
        )
    files = {"csf": tmp / "csf-copy.xml", "iso": tmp / ISO, "newer": tmp / "iso-newer.json"}
    files["csf"].write_bytes(oscal_bytes(CSF))
    files["iso"].write_bytes(oscal_bytes(ISO))
    newer = oscal_json(ISO)
    newer["catalog"]["metadata"]["version"] = "2022.annex-a.1.1.0"
    newer["catalog"]["groups"][0]["controls"][0]["parts"][0]["prose"] += " (amended)"
    files["newer"].write_text(json.dumps(newer))
    port = b.free_port()
    proc = b.start_streamlit(env, port, log_name="oscal_browser")
    yield {"url": b.base_url(port), "db": url, "files": files}
    b.stop_streamlit(proc)
    db.dispose_all()


def versions(url):
    with db.reading(url) as s:
        return [q["version"] for q in list_questionnaires(s) if q["key"] == KEY]


def test_the_page_says_what_each_upload_will_do_and_imports_the_next_version(server):
    with sync_playwright() as pw:
        chromium = b.launch_chromium(pw)
        context = chromium.new_context(viewport={"width": 1400, "height": 1100})
        context.add_init_script(b.STABLE_INIT_SCRIPT)
        page = context.new_page()
        page.set_default_timeout(b.STEP_TIMEOUT_MS)
        page.goto(server["url"])
        b.wait_stable(page)
        b.sign_in_form(page, "ada", PASSWORD)
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Question banks").click()
        b.wait_stable(page)
        main = page.locator(MAIN)
        upload = main.locator('input[type="file"]').first
        upload.set_input_files(str(server["files"]["csf"]))
        b.wait_stable(page)
        expect(
            main.get_by_text("already present, unchanged (bank 'nist-csf-2.0' version 2)")
        ).to_be_visible()
        for name, verdict, stored in (
            ("iso", f"new bank '{KEY}', version 1", [1]),
            ("newer", f"new version 2 of bank '{KEY}' (stored: v1)", [2, 1]),
        ):
            upload.set_input_files(str(server["files"][name]))
            b.wait_stable(page)
            expect(main.get_by_text(verdict)).to_be_visible()
            main.get_by_role("button", name="Import this bank").click()
            b.wait_stable(page)
            assert b.eventually(lambda s=stored: versions(server["db"]) == s, what=name)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        b.screenshot(page, "oscal_import_new_version")
        context.close()
        chromium.close()
