"""Journeys a person makes, in Debian's Chromium against a real server on the demo data:
throttled sign-in, deactivation of an open session, a client answering NIST CSF 2.0 with
evidence, and a full review loop with change requests."""

from __future__ import annotations

import random
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core import assessments, db, responses
from core.access import SYSTEM, Actor
from core.banks.store import load_bank
from core.demo_content import attach_evidence, demo_answers, sample_pdf
from core.models import (
    Assessment,
    LeadComment,
    Product,
    Question,
    QuestionnaireResponse,
    ScoreHistory,
    User,
)
from core.products import create_product
from core.review_queue import changed_since_last_round
from core.users import create_user
from tests.factories import baseline_id
from tests.support import browser as b

pytestmark = pytest.mark.browser
expect.set_options(timeout=b.STEP_TIMEOUT_MS)
PASSWORD = "journey passphrase 2026"
MAIN = '[data-testid="stMain"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from b.demo_server(tmp_path_factory, "journeys", password=PASSWORD)


@pytest.fixture(scope="module")
def browser():
    yield from b.chromium_browser()


@pytest.fixture
def person(browser):
    """A fresh browser profile per person in the story."""
    contexts = []

    def open_for(server):
        page = b.new_page(browser, height=1000)
        contexts.append(page.context)
        page.goto(server["url"])
        b.wait_stable(page)
        return page

    yield open_for
    for context in contexts:
        context.close()


def sign_in(page, username, password=PASSWORD, *, ok=True):
    if ok:
        b.sign_in_form(page, username, password)
        return
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    b.wait_stable(page)


def go(page, title):
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    b.wait_stable(page)
    expect(page.locator(f"{MAIN} h1").first).to_have_text(title)


def heading(page):
    return page.locator(f"{MAIN} h1").first


def test_six_wrong_passwords_then_the_right_one_is_refused_during_the_cooldown(server, person):
    page = person(server)
    for _ in range(6):
        sign_in(page, "enterprise_client", "not the right passphrase", ok=False)
        expect(page.get_by_text("Incorrect username or password.")).to_be_visible()
    sign_in(page, "enterprise_client", ok=False)
    expect(page.get_by_text("Incorrect username or password.")).to_be_visible()
    expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
    b.screenshot(page, "journey_cooldown")


def test_an_admin_deactivates_a_user_whose_open_session_ends_at_the_next_action(server, person):
    with db.transaction(server["db"]) as s:
        create_user(
            s,
            SYSTEM,
            username="temp_manager",
            name="Temp Manager",
            role="security_manager",
            password=PASSWORD,
            rounds=4,
        )
    user = person(server)
    sign_in(user, "temp_manager")
    expect(heading(user)).to_have_text("Portfolio")
    admin = person(server)
    sign_in(admin, "admin")
    go(admin, "Users")
    b.choose(admin, "Manage user", "temp_manager")
    admin.get_by_role("button", name="Deactivate").click()
    admin.get_by_role("button", name="Yes, deactivate").click()
    b.eventually(
        lambda: not _is_active(server, "temp_manager"), what="the deactivation to be stored"
    )
    user.locator('[data-testid="stSidebarNav"]').get_by_text("My profile", exact=True).click()
    b.wait_stable(user)
    expect(user.get_by_text("Your session has ended. Please sign in again.")).to_be_visible()
    expect(user.get_by_role("button", name="Sign in")).to_be_visible()
    b.screenshot(user, "journey_deactivated")


def _is_active(server, username):
    with db.reading(server["db"]) as s:
        return s.scalar(select(User.is_active).where(User.username == username))


def _answer_visible_radios(page, option):
    """Pick `option` in every unanswered question radio of the section on screen."""
    groups = page.locator(f'{MAIN} [role="radiogroup"]')
    for index in range(groups.count()):
        group = groups.nth(index)
        if (
            group.get_attribute("aria-label") == "Sections"
            or group.locator("input:checked").count()
        ):
            continue
        for attempt in range(3):  # a click while the page still shifts can land beside it
            group.get_by_text(option, exact=True).click()
            b.wait_stable(page, quiet_ms=250)
            try:
                expect(group.get_by_role("radio", name=option)).to_be_checked(timeout=10_000)
                break
            except AssertionError:
                if attempt == 2:
                    raise


def test_a_client_answers_nist_csf_with_evidence_and_submits_when_complete(
    server, person, tmp_path
):
    page = person(server)
    sign_in(page, "demo_client")
    expect(heading(page)).to_have_text("My products")
    b.wait_stable(page)  # a late rerun after sign-in would swallow the form's click
    page.get_by_text("Add a product").click()
    page.get_by_label("Product name").fill("Journey Portal")
    b.click_until(
        page,
        page.get_by_role("button", name="Add product"),
        page.get_by_text('Product "Journey Portal" added.'),
    )
    b.wait_stable(page)
    page.get_by_text("Start an assessment").click()
    b.choose(page, "Product", "Journey Portal")
    b.choose(page, "Questionnaire", "NIST Cybersecurity Framework 2.0")
    page.get_by_role("button", name="Start").click()
    b.wait_stable(page)
    journey = b.eventually(
        lambda: _journey_field(server, Assessment.id),
        what="the assessment the Start button creates",
    )
    page.goto(f"{server['url']}questionnaire?assessment={journey}")
    b.wait_stable(page, quiet_ms=1000)  # the cookie's sign-in reruns redraw the page first
    expect(heading(page)).to_have_text("Questionnaire")
    _answer_visible_radios(page, "Repeatable")
    pdf = tmp_path / "governance-charter.pdf"
    pdf.write_bytes(sample_pdf("Governance charter"))
    page.get_by_text("Justification and evidence (0 files)").first.click()
    page.locator(f'{MAIN} input[type="file"]').first.set_input_files(str(pdf))
    b.wait_stable(page)
    expect(page.get_by_text("Justification and evidence (1 file)")).to_be_visible()
    expect(page.get_by_text("of 106 required answers")).to_be_visible()
    page.get_by_role("button", name="Submit for review").click()
    b.wait_stable(page)
    expect(page.get_by_text("required answers or evidence files are missing")).to_be_visible()
    b.screenshot(page, "journey_csf_refused")
    first_pass = _stored_values(server, journey)
    all_answered = page.get_by_text("106 of 106 required answers")
    sections = page.get_by_role("radiogroup", name="Sections").locator("label")
    for _ in range(3):  # a section drawn in part when its radios were counted is done next pass
        for index in range(sections.count()):
            sections.nth(index).click()
            b.wait_stable(page)
            _answer_visible_radios(page, "Risk Informed")
        b.wait_stable(page)
        if all_answered.count():
            break
    b.screenshot(page, "journey_csf_all_answered")
    expect(all_answered).to_be_visible()
    stored = _stored_values(server, journey)  # answered again, none lost or overwritten
    assert first_pass and {key: stored[key] for key in first_pass} == first_pass
    page.get_by_role("button", name="Submit for review").click()
    b.wait_stable(page)
    expect(page.get_by_text("read-only in its current status")).to_be_visible()
    b.screenshot(page, "journey_csf_submitted")
    b.eventually(
        lambda: _journey_field(server, Assessment.status) == "submitted",
        what="the submission to be stored",
    )


def _stored_values(server, assessment_id):
    with db.reading(server["db"]) as s:
        rows = s.execute(
            select(Question.key, QuestionnaireResponse.value)
            .join(Question, Question.id == QuestionnaireResponse.question_id)
            .where(QuestionnaireResponse.assessment_id == assessment_id)
        )
        return {key: value for key, value in rows if value is not None}


def _journey_field(server, column):
    """One column of the journey's assessment, or None while it does not exist yet."""
    with db.reading(server["db"]) as s:
        return s.scalar(
            select(column)
            .join(Product, Product.id == Assessment.product_id)
            .where(Product.name == "Journey Portal")
        )


def _arrange_answered_assessment(server):
    """A Demo Corp product whose baseline assessment is fully answered, two governance answers
    weak, and not yet submitted (answering every question by hand is the journey above)."""
    url = server["db"]
    with db.transaction(url) as s:
        user = s.scalar(select(User).where(User.username == "demo_client"))
        client = Actor(user.id, user.username, user.role, user.organization_id)
        product = create_product(s, client, organization_id=user.organization_id, name="Loop App")
        a = assessments.start_assessment(
            s, client, product_id=product.id, questionnaire_id=baseline_id(url)
        )
        bank = load_bank(s, baseline_id(url))
        answers = demo_answers(bank, 0.9, random.Random(11))
        answers["gov-owner"] = responses.AnswerInput(value="no")
        answers["gov-awareness"] = responses.AnswerInput(value="partial")
        responses.save_answers(s, client, a.id, answers)
        attach_evidence(s, client, a.id, bank, answers, server["data"])
        return a.id


def keyed(page, key):
    """The element Streamlit drew for a widget with this key (class st-key-<key>, where
    characters other than letters, digits, '-' and '_' become '-')."""
    return page.locator(f'[class~="st-key-{re.sub(r"[^A-Za-z0-9_-]", "-", key)}"]').first


def review_form(page, question):
    """The comment-and-flag form on one answer's card of the review page."""
    return page.locator('[data-testid="stForm"]').filter(has=keyed(page, f"ctext{question}"))


def test_review_loop_with_changes_requested_then_approval(server, person):
    aid = _arrange_answered_assessment(server)
    client = person(server)
    sign_in(client, "demo_client")
    client.goto(f"{server['url']}questionnaire?assessment={aid}")
    b.wait_stable(client)
    client.get_by_role("button", name="Submit for review").click()
    b.wait_stable(client)
    expect(client.get_by_text("read-only in its current status")).to_be_visible()
    reviewer = person(server)
    reviewer.goto(f"{server['url']}review?assessment={aid}")
    b.wait_stable(reviewer)
    sign_in(reviewer, "lead_reviewer")
    expect(heading(reviewer)).to_have_text("Review")
    reviewer.get_by_role("button", name="Claim for review").click()
    b.wait_stable(reviewer)
    expect(reviewer.locator('[data-testid="stMetricValue"]').first).to_have_text("Under review")
    for key, text in (
        ("gov-owner", "Name the accountable person."),
        ("gov-awareness", "Training must cover every team member."),
    ):
        form = review_form(reviewer, key)
        form.get_by_label("Comment").fill(text)
        form.get_by_role("button", name="Flag: needs changes").click()
        b.eventually(lambda t=text: t in _comments(server, aid), what=f"the flag on {key}")
        b.wait_stable(reviewer)
    form = review_form(reviewer, "gov-policy")
    form.get_by_label("Comment").fill("Policy PDF is an old draft; check next round.")
    form.get_by_text("Internal note (reviewers only)").click()
    form.get_by_role("button", name="Add comment").click()
    b.eventually(
        lambda: "Policy PDF is an old draft; check next round." in _comments(server, aid),
        what="the internal note",
    )
    b.wait_stable(reviewer)
    reviewer.get_by_role("button", name="Request changes").click()  # in view, asks first
    reviewer.get_by_role("button", name="Yes, request changes").click()
    b.wait_stable(reviewer)
    expect(reviewer.locator('[data-testid="stMetricValue"]').first).to_have_text(
        "Changes requested"
    )

    client.reload()
    b.wait_stable(client)
    comments = client.locator(f'{MAIN} [data-testid="stAlertContentInfo"]').all_inner_texts()
    shared = [c for c in comments if "Name the accountable" in c or "Training must cover" in c]
    assert len(shared) == 2 and not any("old draft" in c for c in comments)
    for key in ("gov-owner", "gov-awareness"):
        widget = keyed(client, f"ws{aid}:{key}:v")
        widget.get_by_text("Yes", exact=True).click()
        # The outcome is the stored answer, not the checked radio (the browser shows that at once).
        b.eventually(lambda k=key: _answer_value(server, aid, k) == "yes", what=f"{key} saved")
        b.wait_stable(client)
        expect(widget.get_by_role("radio", name="Yes")).to_be_checked()
    client.get_by_role("button", name="Submit for review").click()
    b.wait_stable(client)
    expect(client.get_by_text("read-only in its current status")).to_be_visible()

    reviewer.reload()
    b.wait_stable(reviewer)
    reviewer.get_by_role("button", name="Claim for review").click()
    b.wait_stable(reviewer)
    # Both answers the client changed count as changed this round: in the database and in the
    # page's own tally. (The per-card badges were seen short of the tally in full-suite runs;
    # see the session-3 note on issue 12.)
    assert _changed_this_round(server, aid) == {"gov-owner", "gov-awareness"}
    tally = reviewer.locator('[data-testid="stMetric"]').filter(has_text="Changed this round")
    expect(tally.locator('[data-testid="stMetricValue"]')).to_have_text("2")
    expect(reviewer.get_by_text("changed this round", exact=True).first).to_be_visible()
    reviewer.get_by_role("button", name="Approve").click()
    reviewer.get_by_role("button", name="Yes, approve").click()
    b.wait_stable(reviewer)
    reviewer.get_by_role("tab", name="Timeline").click()
    b.wait_stable(reviewer)
    b.screenshot(reviewer, "journey_review_timeline")
    b.eventually(
        lambda: (
            _status_and_triggers(server, aid)
            == ("approved", ["submit", "changes_requested", "submit", "approve"])
        ),
        what="the approval and its four snapshots",
    )


def _changed_this_round(server, aid):
    with db.reading(server["db"]) as s:
        return changed_since_last_round(s, SYSTEM, aid).questions


def _answer_value(server, aid, key):
    with db.reading(server["db"]) as s:
        return s.scalar(
            select(QuestionnaireResponse.value)
            .join(Question, Question.id == QuestionnaireResponse.question_id)
            .where(QuestionnaireResponse.assessment_id == aid, Question.key == key)
        )


def _comments(server, aid):
    with db.reading(server["db"]) as s:
        return set(s.scalars(select(LeadComment.body).where(LeadComment.assessment_id == aid)))


def _status_and_triggers(server, aid):
    with db.reading(server["db"]) as s:
        triggers = s.scalars(
            select(ScoreHistory.trigger)
            .where(ScoreHistory.assessment_id == aid)
            .order_by(ScoreHistory.id)
        ).all()
        return s.get(Assessment, aid).status, list(triggers)


ANALYTICS = ("Overview", "Trends", "Benchmarking", "Review operations", "User activity", "Extracts")


def test_a_manager_explores_dashboards_filters_and_downloads_a_matching_csv(
    server, person, tmp_path
):
    page = person(server)
    sign_in(page, "security_manager")
    for title in ANALYTICS:
        go(page, title)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    go(page, "Overview")
    b.screenshot(page, "journey_analytics_overview")
    go(page, "Extracts")
    b.choose(page, "Organisation", "Enterprise Inc")
    with page.expect_download() as download:
        page.locator('[class~="st-key-csv_answers"]').get_by_role("button").click()
    path = tmp_path / "answers.csv"
    download.value.save_as(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    organisations = {row.split(",")[header.index("organization")] for row in lines[1:]}
    assert len(lines) > 1 and organisations == {"Enterprise Inc"}


def test_an_analyst_downloads_the_xlsx_workbook(server, person, tmp_path):
    page = person(server)
    sign_in(page, "analyst")
    go(page, "Extracts")
    with page.expect_download() as download:
        page.locator('[class~="st-key-xlsx_all"]').get_by_role("button").click()
    path = tmp_path / "extracts.xlsx"
    download.value.save_as(path)
    data = path.read_bytes()
    assert data[:2] == b"PK" and b"xl/workbook.xml" in data
