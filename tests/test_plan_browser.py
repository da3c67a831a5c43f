"""In Chromium, on the demo data: a Demo Corp client opens the Scores page of an assessment with a
score snapshot, sees how well its score is proven (the sentence, the legend and the chart), plans a
better answer to a question that lost points, sees the projected score move by what core projects,
saves the plan (read back from assessment_plans), finds it in the assessment report PDF, and
clears it again; neither the page nor the PDF names another organisation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from core import db
from core.access import SYSTEM
from core.assurance_view import live_assurance
from core.banks.model import Answer
from core.explain import score_explanation
from core.models import Assessment, AssessmentPlan, Organization, ScoreHistory
from core.planner import candidates, project
from core.scoring import answer_score
from tests.support import browser as b
from tests.support.pdf import flat, read
from ui.assurance import LEVELS_CAPTION, shares_in_words

pytestmark = pytest.mark.browser
expect.set_options(timeout=b.STEP_TIMEOUT_MS)
PASSWORD = "plan journey 2026"
MAIN = '[data-testid="stMain"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from b.demo_server(tmp_path_factory, "plan_browser", password=PASSWORD)


@pytest.fixture(scope="module")
def browser():
    yield from b.chromium_browser()


def _journey(url):
    """Demo Corp's first assessment with a snapshot and a question that lost points with an answer
    between the current one and full marks (so the planned answer is a real choice)."""
    with db.reading(url) as s:
        aids = s.scalars(
            select(Assessment.id)
            .join(Organization, Organization.id == Assessment.organization_id)
            .join(ScoreHistory, ScoreHistory.assessment_id == Assessment.id)
            .where(Organization.name == "Demo Corp")
            .group_by(Assessment.id)
            .order_by(Assessment.id)
        ).all()
        others = list(s.scalars(select(Organization.name).where(Organization.name != "Demo Corp")))
        for aid in aids:
            ex = score_explanation(s, SYSTEM, aid)
            for change in sorted(candidates(ex.bank, ex.answers), key=lambda c: -c.gain):
                question = ex.bank.question(change.key)
                now = answer_score(question, ex.answers.get(change.key, Answer())) or 0.0
                for option in question.options:
                    if now < (answer_score(question, Answer(option.key)) or 0.0) < 1.0:
                        shares = shares_in_words(live_assurance(s, SYSTEM, aid).overall)
                        return ex, question, option, shares, others
    raise AssertionError("no Demo Corp assessment with a question to plan a partial answer for")


def _plan(url, aid) -> dict | None:
    """The saved plan's planned answers as stored, None without a plan."""
    with db.reading(url) as s:
        row = s.get(AssessmentPlan, aid)
        return row and dict(row.planned)


def _download_report(page, path):
    with page.expect_download(timeout=120_000) as done:
        page.locator(MAIN).get_by_role("button", name="Assessment report (PDF)").click()
    done.value.save_as(path)
    return read(path.read_bytes())


def test_a_client_plans_a_better_score_and_finds_the_plan_in_the_report(browser, server, tmp_path):
    ex, question, option, shares, others = _journey(server["db"])
    aid, key = ex.assessment_id, question.key
    page = b.new_page(browser, accept_downloads=True)
    page.goto(server["url"])
    b.wait_stable(page)
    b.sign_in_form(page, "demo_client", PASSWORD)
    page.goto(f"{server['url']}scores?assessment={aid}")
    b.wait_stable(page, timeout_ms=2 * b.STEP_TIMEOUT_MS)  # many charts: a slow first load
    main = page.locator(MAIN)

    expect(main.get_by_role("heading", name="How well the score is proven")).to_be_visible()
    expect(main.get_by_text(f"Of the overall score's points: {shares}.")).to_be_visible()
    expect(main.get_by_text(LEVELS_CAPTION).first).to_be_visible()
    chart = main.locator('[data-testid="stPlotlyChart"]').filter(has_text="Reviewer-accepted")
    expect(chart.first).to_be_visible()

    picker = page.get_by_label("Answers you plan to change", exact=True)
    picker.click()
    picker.fill(key)
    page.get_by_role("option", name=f"{key}:").first.click()
    b.wait_stable(page)
    picker.press("Escape")
    expect(main.get_by_role("button", name=f"Remove {key}:")).to_be_visible()
    b.choose(page, "Planned answer", option.label)
    projected = project(ex.bank, ex.answers, {key: Answer(option.key)}, ex.bands).overall
    change = f"{projected - ex.result.overall:+.1f}"
    assert change != "+0.0"
    metric = main.locator('[data-testid="stMetric"]').filter(has_text="Projected score")
    expect(metric).to_have_text(
        re.compile(rf"Projected score\D*{projected:.1f}.*{re.escape(change)}")
    )

    b.click_until(
        page,
        main.get_by_role("button", name="Save plan"),
        main.get_by_text("Plan saved. Nothing in the assessment changed."),
    )
    b.wait_stable(page)  # the rerun after saving draws the planner from the saved plan
    saved = b.eventually(lambda: _plan(server["db"], aid), what="the saved plan")
    assert saved == {key: {"value": option.key, "is_na": False}}
    expect(main.get_by_text(re.compile(r"Saved plan: 1 planned answer aiming at"))).to_be_visible()
    expect(page.get_by_label("Planned answer", exact=True)).to_have_value(option.label)
    print("screenshot:", b.screenshot(page, "plan_journey"))
    shown = main.inner_text()
    assert not [o for o in others if o in shown]

    report = _download_report(page, tmp_path / "report.pdf")
    part = report.flat[report.flat.index(flat("Saved plan for the next cycle")) :]
    assert f"Projected overall score {projected:.1f}" in report.words
    assert "by Dana Client" in report.words
    assert flat(f"{key}{question.text}")[:40] in part and flat(option.label) in part
    assert not [o for o in others if o in report.words]

    yes = page.get_by_role("button", name="Yes, clear plan")
    b.click_until(page, main.get_by_role("button", name="Clear plan"), yes)
    yes.click()
    b.eventually(lambda: _plan(server["db"], aid) is None, timeout=45, what="the plan cleared")
    # the outcome shows although the Clear button is gone; the saved plan's line and the picked
    # question go: the planner starts afresh
    expect(main.get_by_text("Plan cleared.")).to_be_visible()
    expect(main.get_by_text(re.compile(r"^Saved plan: "))).to_have_count(0)
    expect(main.get_by_role("button", name=f"Remove {key}:")).to_have_count(0)
    with db.reading(server["db"]) as s:
        assert s.scalar(select(func.count()).select_from(AssessmentPlan)) == 0
    page.context.close()
