"""What waits for whom: the decision due day and its overdue mark, the assessment a page opens on,
and resubmissions counted and paged."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from core import assessments, db
from core.models import Assessment
from core.review_queue import next_for, resubmissions, review_queue
from tests.factories import baseline_id, make_actor, make_org, make_product

NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
SLA = 10  # the default review_sla_days


@pytest.fixture
def desk(db_url):
    org = make_org(db_url)
    client = make_actor(db_url, "client", org)
    return {
        "url": db_url,
        "client": client,
        "reviewer": make_actor(db_url, "lead_reviewer"),
        "analyst": make_actor(db_url, "analyst"),
        "other": make_actor(
            db_url, "client", make_org(db_url, "Other Ltd"), username="otherclient"
        ),
    }


def _assessment(desk, name, *, client=None, **values) -> int:
    """An assessment of a new product, then put in the state the test needs."""
    client = client or desk["client"]
    product = make_product(desk["url"], client, name=name)
    with db.transaction(desk["url"]) as s:
        aid = assessments.start_assessment(
            s, client, product_id=product, questionnaire_id=baseline_id(desk["url"])
        ).id
        if values:
            s.execute(update(Assessment).where(Assessment.id == aid).values(**values))
    return aid


def _submitted(days_ago: float, **values) -> dict:
    return {"status": "submitted", "submitted_at": NOW - timedelta(days=days_ago), **values}


def test_overdue_is_the_decision_due_day_having_passed_whatever_the_answer_due_date(desk):
    far = (NOW + timedelta(days=60)).date()
    late = _assessment(desk, "Late", due_date=far, **_submitted(12))
    due_today = _assessment(
        desk, "Due today", **_submitted(SLA, submitted_at=NOW.replace(hour=6) - timedelta(days=SLA))
    )
    fresh = _assessment(desk, "Fresh", **_submitted(2))
    with db.reading(desk["url"]) as s:
        rows = {r.id: r for r in review_queue(s, desk["reviewer"], now=NOW).rows}
        overdue = {r.id for r in review_queue(s, desk["reviewer"], overdue_only=True, now=NOW).rows}
    assert {aid: (rows[aid].decision_due, rows[aid].overdue) for aid in rows} == {
        late: ((NOW - timedelta(days=2)).date(), True),
        due_today: (NOW.date(), False),
        fresh: ((NOW + timedelta(days=8)).date(), False),
    }
    assert overdue == {late}
    assert all(row.overdue == (row.decision_due < NOW.date()) for row in rows.values())


def test_a_reviewer_is_sent_to_the_oldest_submission_awaiting_a_decision(desk):
    _assessment(desk, "Newer", **_submitted(1))
    oldest = _assessment(desk, "Oldest", **_submitted(9, status="under_review"))
    _assessment(desk, "Decided long ago", **_submitted(40, status="approved"))
    _assessment(desk, "Answering", status="in_progress")
    with db.reading(desk["url"]) as s:
        assert next_for(s, desk["reviewer"]) == oldest
        assert next_for(s, desk["analyst"]) is None  # reads only: nothing waits for them


def test_a_client_is_sent_to_the_change_request_before_work_in_progress(desk):
    _assessment(desk, "Approved", **_submitted(30, status="approved"))
    working = _assessment(desk, "Working", status="in_progress")
    _assessment(desk, "Foreign", client=desk["other"], status="changes_requested")
    with db.reading(desk["url"]) as s:
        assert next_for(s, desk["client"]) == working
    sent_back = _assessment(desk, "Sent back", status="changes_requested", round=2)
    with db.reading(desk["url"]) as s:
        assert next_for(s, desk["client"]) == sent_back
        assert next_for(s, desk["other"]) != sent_back


def test_resubmissions_are_counted_and_paged_newest_first(desk):
    ids = [_assessment(desk, f"Product {i:02d}", **_submitted(i, round=2)) for i in range(1, 24)]
    _assessment(desk, "First round", **_submitted(1))
    with db.reading(desk["url"]) as s:
        pages = [resubmissions(s, desk["reviewer"], page=p, page_size=10) for p in (1, 2, 3)]
    assert [page.total for page in pages] == [23, 23, 23]
    assert [r.id for page in pages for r in page.rows] == ids  # submitted 1, 2, 3... days ago
    assert [len(page.rows) for page in pages] == [10, 10, 3]
