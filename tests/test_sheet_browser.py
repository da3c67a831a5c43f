"""In Chromium: an admin imports a client's questionnaire spreadsheet on the Question banks page
(detected mapping, one choice changed, counts, import), and the client downloads the original
workbook filled with their answers from the Scores page."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from core import db
from core.access import SYSTEM, Actor
from core.assessments import start_assessment
from core.banks.store import load_bank
from core.models import Questionnaire
from core.organizations import create_organization
from core.products import create_product
from core.responses import AnswerInput, save_answers
from core.users import create_user
from tests.sheet_files import caiq_bytes
from tests.support import browser as b

pytestmark = pytest.mark.browser
expect.set_options(timeout=b.STEP_TIMEOUT_MS)
PASSWORD = "spreadsheet journey 2026"
MAIN = '[data-testid="stMain"]'
KEY = "consensus-assessments-initiative-questionnaire-v4-example"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    b.require_chromium()
    tmp = tmp_path_factory.mktemp("sheets")
    env = b.app_env(tmp, PASSWORD)
    b.run_cli(env, ["init"])
    # the admin signs in with a password only (second_factor_roles would send them to set-up)
    b.run_cli(env, ["settings", "second_factor_roles", "[]"])
    url = env["SECURESPHERE_DATABASE_URL"]
    with db.transaction(url) as s:
        org = create_organization(s, SYSTEM, name="Northwind Cloud", industry="Technology")
        for username, role, org_id in (("ada", "admin", None), ("cora", "client", org.id)):
            user, _ = create_user(
                s,
                SYSTEM,
                username=username,
                name=username.title(),
                role=role,
                organization_id=org_id,
                password=PASSWORD,
                rounds=4,
            )
        client = Actor(user.id, "cora", "client", org.id)
    port = b.free_port()
    proc = b.start_streamlit(env, port, log_name="sheet_browser")
    original = tmp / "caiq.xlsx"
    original.write_bytes(caiq_bytes())
    yield {"url": b.base_url(port), "db": url, "client": client, "original": original}
    b.stop_streamlit(proc)
    db.dispose_all()


@pytest.fixture(scope="module")
def browser():
    yield from b.chromium_browser()


def open_page(browser, server, username, path=""):
    page = b.new_page(browser)
    page.goto(server["url"] + path)
    b.wait_stable(page)
    b.sign_in_form(page, username, PASSWORD)
    return page


def stored_sections(url):
    with db.reading(url) as s:
        qid = s.scalar(select(Questionnaire.id).where(Questionnaire.key == KEY))
        return qid and [section.title for section in load_bank(s, qid).sections]


def test_an_admin_imports_a_questionnaire_spreadsheet_after_changing_one_choice(server, browser):
    page = open_page(browser, server, "ada")
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Question banks").click()
    b.wait_stable(page)
    page.locator(f'{MAIN} input[type="file"]').first.set_input_files(str(server["original"]))
    b.wait_stable(page)
    main = page.locator(MAIN)
    expect(main.get_by_text("How the spreadsheet is read")).to_be_visible()
    expect(page.get_by_label("Question column", exact=True)).to_have_value("B · Question")
    expect(main.get_by_text("Rows skipped")).to_be_visible()
    expect(main.get_by_text("row 13: End of Standard")).to_be_visible()
    b.choose(page, "Section column", "From the id prefix")
    # the preview table (a canvas grid: its cells exist for readers, not as visible text)
    expect(main.locator("[role=gridcell]", has_text="A&A").first).to_be_attached()
    main.get_by_role("button", name="Import this bank").scroll_into_view_if_needed()
    b.screenshot(page, "sheet_import_preview")
    main.get_by_role("button", name="Import this bank").click()
    b.wait_stable(page)
    assert b.eventually(lambda: stored_sections(server["db"]), what="the bank") == ["A&A", "AIS"]
    expect(main.get_by_text("Bank imported.")).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.context.close()


def test_the_client_downloads_their_workbook_filled_with_their_answers(server, browser, tmp_path):
    url = server["db"]
    b.eventually(lambda: stored_sections(url), what="the bank from the first journey")
    with db.transaction(url) as s:
        client = server["client"]
        qid = s.scalar(select(Questionnaire.id).where(Questionnaire.key == KEY))
        product = create_product(
            s, client, organization_id=client.organization_id, name="Cloud Portal"
        )
        aid = start_assessment(s, client, product_id=product.id, questionnaire_id=qid).id
        save_answers(s, client, aid, {"a-a-01.1": AnswerInput("yes", justification="Policy AUD-1")})
    page = open_page(browser, server, "cora", f"scores?assessment={aid}")
    main = page.locator(MAIN)
    expect(main.get_by_text("Answers in the original workbook")).to_be_visible()
    main.locator('input[type="file"]').last.set_input_files(str(server["original"]))
    b.wait_stable(page)
    b.screenshot(page, "sheet_scores_download")
    with page.expect_download() as download:
        main.get_by_role("button", name="Download the filled workbook (1 answer)").click()
    path = tmp_path / "filled.xlsx"
    download.value.save_as(path)
    assert download.value.suggested_filename == "caiq (answered).xlsx"
    sheet = load_workbook(io.BytesIO(path.read_bytes()))["CAIQv4"]
    assert (sheet["C5"].value, sheet["D5"].value, sheet["C6"].value) == (
        "Yes",
        "Policy AUD-1",
        None,
    )
    page.context.close()
