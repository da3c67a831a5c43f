"""Review desk, Review and Scores through AppTest on a busy database (the demo plus a small
synthetic set, hundreds waiting): resubmissions in one box, the queue's link first, Overdue as
the due day says, and each page opening on the assessment that waits for the user."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from core import assessments, db
from core.access import Actor
from core.cli import main
from core.models import Assessment, Product, User
from core.products import create_product
from core.synthetic import seed_synthetic
from tests.apptest import DEMO_PASSWORD, rerun, signed_in
from tests.factories import baseline_id

FIRST_BY_NAME = "AAA Archive"  # sorts before every other product: what the pickers used to open


@pytest.fixture(scope="module")
def busy(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("busy")
    url = f"sqlite:///{tmp / 'busy.db'}"
    with pytest.MonkeyPatch.context() as mp:
        for name, value in (
            ("DATABASE_URL", url),
            ("DATA_DIR", str(tmp / "data")),
            ("DEMO_PASSWORD", DEMO_PASSWORD),
            ("BCRYPT_ROUNDS", "4"),
        ):
            mp.setenv(f"SECURESPHERE_{name}", value)
        assert main(["init", "--demo"]) == 0
        seed_synthetic(url, products=300, questions=8, organizations=5)
        _decided_first_by_name(url)
        yield url
    db.dispose_all()


def _decided_first_by_name(url) -> None:
    """An approved assessment of the demo client's, first in every alphabetical list."""
    with db.transaction(url) as s:
        user = s.scalar(select(User).where(User.username == "demo_client"))
        client = Actor(user.id, user.username, user.role, user.organization_id)
        product = create_product(
            s, client, organization_id=user.organization_id, name=FIRST_BY_NAME
        )
        aid = assessments.start_assessment(
            s, client, product_id=product.id, questionnaire_id=baseline_id(url)
        ).id
        s.execute(
            update(Assessment)
            .where(Assessment.id == aid)
            .values(status="approved", submitted_at=datetime(2020, 1, 1, tzinfo=UTC))
        )


@pytest.fixture
def env(busy, monkeypatch):
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", busy)
    return busy


def _resubmitted(url) -> int:
    with db.reading(url) as s:
        return s.scalar(
            select(func.count())
            .select_from(Assessment)
            .where(Assessment.is_active, Assessment.status == "submitted", Assessment.round > 1)
        )


def test_resubmissions_are_one_line_with_a_paged_list(env):
    total = _resubmitted(env)
    assert total > 10  # more than one page of them
    at = signed_in(env, "lead_reviewer").run()
    assert not at.exception
    assert not [i for i in at.info if "resubmitted" in i.value]  # no box per resubmission
    box = next(e for e in at.expander if "resubmission" in e.label)
    assert box.label == f"{total:,} resubmissions wait for review: show"
    first = box.dataframe[0].value
    assert len(first) == 10 and next(iter(first.columns)) == "open"
    box.number_input(key="resubmitted_page").increment()
    rerun(at)
    second = next(e for e in at.expander if "resubmission" in e.label).dataframe[0].value
    assert len(second) == 10 and not set(second["open"]) & set(first["open"])


def test_the_queue_leads_with_its_link_and_overdue_follows_the_decision_due_day(env):
    at = signed_in(env, "admin").run()
    at.switch_page("pages/review_home.py").run()
    assert not at.exception
    queue = at.dataframe[-1].value
    assert list(queue.columns)[:6] == [
        "open",
        "product",
        "organization",
        "status",
        "decision_due",
        "overdue",
    ]
    assert "due_date" not in queue.columns  # the answering deadline is not the review's
    today = datetime.now(UTC).date()
    assert queue["overdue"].any() and all(
        overdue == (due < today)
        for due, overdue in zip(queue["decision_due"], queue["overdue"], strict=False)
    )


def _oldest_waiting(url) -> int:
    with db.reading(url) as s:
        return s.scalar(
            select(Assessment.id)
            .where(Assessment.is_active, Assessment.status.in_(("submitted", "under_review")))
            .order_by(Assessment.submitted_at, Assessment.id)
            .limit(1)
        )


def _picked(at) -> int:
    return next(s for s in at.selectbox if s.label == "Assessment").value


@pytest.mark.parametrize("username", ["lead_reviewer", "admin"])
@pytest.mark.parametrize("page", ["pages/review.py", "pages/scores.py"])
def test_a_reviewer_opens_on_the_oldest_submission_awaiting_a_decision(env, username, page):
    at = signed_in(env, username).run()
    at.switch_page(page).run()
    assert not at.exception
    assert _picked(at) == _oldest_waiting(env)
    assert at.query_params["assessment"] == str(_oldest_waiting(env))


def test_a_client_opens_scores_on_the_assessment_it_works_on(env):
    at = signed_in(env, "demo_client").run()
    at.switch_page("pages/scores.py").run()
    assert not at.exception
    with db.reading(env) as s:
        status = s.get(Assessment, _picked(at)).status
        name = s.scalar(select(Product.name).join(Assessment).where(Assessment.id == _picked(at)))
    assert status in ("changes_requested", "in_progress") and name != FIRST_BY_NAME


def test_an_assessment_in_the_url_wins_over_the_one_waiting(env):
    with db.reading(env) as s:
        first = s.scalar(select(Assessment.id).join(Product).where(Product.name == FIRST_BY_NAME))
    at = signed_in(env, "lead_reviewer").run()
    at.query_params["assessment"] = str(first)
    at.switch_page("pages/review.py").run()
    assert not at.exception and _picked(at) == first
