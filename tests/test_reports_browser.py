"""In Chromium, on the demo data: a client downloads an assessment report from the Scores page
and a security manager the board pack from the Overview page; both PDFs read back with pypdf
hold what that reader may see."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from core import db
from core.models import Assessment, LeadComment, Organization, Product
from tests.support import browser as b
from tests.support.pdf import flat, read

pytestmark = pytest.mark.browser
expect.set_options(timeout=b.STEP_TIMEOUT_MS)
PASSWORD = "reports journey 2026"
MAIN = '[data-testid="stMain"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from b.demo_server(tmp_path_factory, "reports_browser", password=PASSWORD)


@pytest.fixture(scope="module")
def browser():
    yield from b.chromium_browser()


def open_page(browser, server, username, path):
    page = b.new_page(browser, accept_downloads=True)
    page.goto(server["url"])
    b.wait_stable(page)
    b.sign_in_form(page, username, PASSWORD)
    page.goto(server["url"] + path)  # the remember-me cookie resumes the session there
    b.wait_stable(page)
    return page


def download(page, button: str, path):
    with page.expect_download(timeout=120_000) as done:
        page.locator(MAIN).get_by_role("button", name=button).click()
    done.value.save_as(path)
    return done.value.suggested_filename, read(path.read_bytes())


def test_a_client_downloads_the_report_of_its_assessment(browser, server, tmp_path):
    with db.reading(server["db"]) as s:
        aid, product, org = s.execute(
            select(Assessment.id, Product.name, Organization.name)
            .join(Product, Product.id == Assessment.product_id)
            .join(Organization, Organization.id == Assessment.organization_id)
            .where(Organization.name == "Demo Corp", Assessment.status == "approved")
            .order_by(Assessment.id)
            .limit(1)
        ).one()
        others = list(s.scalars(select(Organization.name).where(Organization.name != org)))
        internal = list(
            s.scalars(select(LeadComment.body).where(LeadComment.visibility == "internal"))
        )
    page = open_page(browser, server, "demo_client", f"scores?assessment={aid}")
    name, report = download(page, "Assessment report (PDF)", tmp_path / "report.pdf")
    assert name == f"securesphere-assessment-{aid}.pdf"
    assert f"Product {product}" in report.words and f"Organisation {org}" in report.words
    assert "Status Approved" in report.words
    assert not [o for o in others if o in report.words]
    assert not [n for n in internal if flat(n) in report.flat]
    page.context.close()


def test_a_manager_downloads_the_board_pack_of_the_overview(browser, server, tmp_path):
    page = open_page(browser, server, "security_manager", "analytics_overview")
    expect(page.locator(MAIN).get_by_text("Overdue reviews").first).to_be_visible()
    name, report = download(page, "Board pack (PDF)", tmp_path / "pack.pdf")
    assert name == "securesphere-board-pack.pdf"
    with db.reading(server["db"]) as s:
        organizations = s.scalar(
            select(func.count()).select_from(Organization).where(Organization.is_active)
        )
    assert "Security portfolio board pack" in report.words
    assert f"{organizations} Organisations" in report.words
    assert "Benchmark against peers" in report.words
    page.context.close()
