"""The review workflow: the status x role x action table, comments, queue, timeline and rounds."""

import random

import pytest
from sqlalchemy import func, select, update

from core import assessments, comments, db, responses, review, submission
from core.access import ROLES
from core.banks.store import load_bank
from core.demo_content import attach_evidence, demo_answers
from core.errors import SecureSphereError
from core.models import STATUSES, Assessment, AuditLog, QuestionnaireResponse
from core.notices import notices
from core.responses import AnswerInput
from core.review_queue import changed_since_last_round, review_queue
from core.timelines import timeline
from tests.factories import baseline_id, make_actor, make_org, make_product


class Undo(Exception):
    """Raised after a successful action so the table test leaves no trace."""


@pytest.fixture
def case(db_url, tmp_path):
    org = make_org(db_url)
    actors = {role: make_actor(db_url, role, org if role == "client" else None) for role in ROLES}
    client = actors["client"]
    with db.transaction(db_url) as s:
        a = assessments.start_assessment(
            s, client, product_id=make_product(db_url, client), questionnaire_id=baseline_id(db_url)
        )
        bank = load_bank(s, baseline_id(db_url))
        answers = demo_answers(bank, 0.6, random.Random(5))
        responses.save_answers(s, client, a.id, answers)
        attach_evidence(s, client, a.id, bank, answers, tmp_path)
        referenced = {q.condition.question for q in bank.questions if q.condition}
        weak = next(
            k for k, v in answers.items() if v.value in ("no", "partial") and k not in referenced
        )
        s.execute(
            update(QuestionnaireResponse)
            .where(QuestionnaireResponse.assessment_id == a.id)
            .values(review_state="pending")
        )
    return {"url": db_url, "actors": actors, "id": a.id, "weak": weak, "data_dir": tmp_path}


def _action(name, case):
    aid, weak = case["id"], case["weak"]
    return {
        "save": lambda s, a: responses.save_answers(s, a, aid, {weak: AnswerInput(value="yes")}),
        "submit": lambda s, a: submission.submit(s, a, aid),
        "claim": lambda s, a: review.claim(s, a, aid),
        "request_changes": lambda s, a: (_flag(s, aid, weak), review.request_changes(s, a, aid)),
        "approve": lambda s, a: review.decide(s, a, aid, "approved"),
        "reject": lambda s, a: review.decide(s, a, aid, "rejected", note="Not enough controls."),
    }[name]


def _flag(session, aid, key):
    session.execute(
        update(QuestionnaireResponse)
        .where(QuestionnaireResponse.assessment_id == aid)
        .values(review_state="needs_changes")
    )


EXPECTED = {  # action -> (statuses where it is allowed, roles allowed)
    "save": ({"not_started", "in_progress", "changes_requested"}, {"client", "admin"}),
    "submit": ({"in_progress", "changes_requested"}, {"client", "admin"}),  # a reply may be enough
    "claim": ({"submitted"}, {"lead_reviewer", "admin"}),
    "request_changes": ({"under_review"}, {"lead_reviewer", "admin"}),
    "approve": ({"under_review"}, {"lead_reviewer", "admin"}),
    "reject": ({"under_review"}, {"lead_reviewer", "admin"}),
}


def _footprint(url, aid):
    with db.reading(url) as s:
        return (s.get(Assessment, aid).status, s.scalar(select(func.count()).select_from(AuditLog)))


@pytest.mark.parametrize("action", list(EXPECTED))
def test_every_status_role_and_action(case, action):
    url, aid = case["url"], case["id"]
    wrong = []
    for status in STATUSES:
        with db.transaction(url) as s:
            s.execute(update(Assessment).where(Assessment.id == aid).values(status=status))
        for role in ROLES:
            before = _footprint(url, aid)
            try:
                with db.transaction(url) as s:
                    _action(action, case)(s, case["actors"][role])
                    raise Undo
            except Undo:
                allowed = True
            except SecureSphereError:
                allowed = False
                assert _footprint(url, aid) == before, f"{status}/{role} changed something"
            statuses, roles = EXPECTED[action]
            if allowed != (status in statuses and role in roles):
                wrong.append(f"{status}/{role}: {'allowed' if allowed else 'refused'}")
    assert wrong == []


def _to_review(case):
    url, aid, a = case["url"], case["id"], case["actors"]
    with db.transaction(url) as s:
        submission.submit(s, a["client"], aid)
        review.claim(s, a["lead_reviewer"], aid)


def test_internal_comments_never_reach_the_client(case):
    url, aid, a = case["url"], case["id"], case["actors"]
    _to_review(case)
    with db.transaction(url) as s:
        comments.add_comment(s, a["lead_reviewer"], aid, "Shared remark", question_key=case["weak"])
        note = comments.add_comment(
            s, a["lead_reviewer"], aid, "Internal remark", visibility="internal"
        )
    with db.reading(url) as s:
        client_sees = [c.body for c in comments.list_comments(s, a["client"], aid)]
        reviewer_sees = [c.body for c in comments.list_comments(s, a["lead_reviewer"], aid)]
        client_notices = [c.body for c in notices(s, a["client"]).comments]
    assert "Shared remark" in client_sees and "Internal remark" not in client_sees
    assert "Internal remark" in reviewer_sees and "Internal remark" not in client_notices
    with pytest.raises(SecureSphereError), db.transaction(url) as s:
        comments.add_comment(s, a["client"], aid, "Sneaky reply", parent_id=note.id)
    with pytest.raises(SecureSphereError), db.transaction(url) as s:
        comments.add_comment(s, a["client"], aid, "I want it internal", visibility="internal")


def test_threads_can_be_replied_to_and_resolved(case):
    url, aid, a = case["url"], case["id"], case["actors"]
    _to_review(case)
    with db.transaction(url) as s:
        first = comments.add_comment(
            s, a["lead_reviewer"], aid, "Which tool?", question_key=case["weak"]
        )
        comments.add_comment(s, a["client"], aid, "We use a SAST tool.", parent_id=first.id)
        comments.resolve_comment(s, a["lead_reviewer"], first.id)
    with db.reading(url) as s:
        thread = comments.list_comments(s, a["client"], aid)
    assert [c.parent_id for c in thread] == [None, first.id]
    assert thread[0].resolved and thread[1].question == case["weak"]


def test_request_changes_resubmit_marks_changes_and_keeps_unflagged_answers(case):
    url, aid, a, weak = case["url"], case["id"], case["actors"], case["weak"]
    _to_review(case)
    with db.transaction(url) as s:
        review.set_review_state(
            s, a["lead_reviewer"], aid, weak, "needs_changes", comment="Fix this."
        )
        review.request_changes(s, a["lead_reviewer"], aid)
    with db.reading(url) as s:
        before = responses.answer_details(s, a["client"], aid)
    with db.transaction(url) as s:
        responses.save_answers(s, a["client"], aid, {weak: AnswerInput(value="yes")})
        submission.submit(s, a["client"], aid)
    with db.reading(url) as s:
        after = responses.answer_details(s, a["client"], aid)
        changed = changed_since_last_round(s, a["lead_reviewer"], aid)
        resubmitted = notices(s, a["lead_reviewer"]).assessments
    assert changed.answers == {weak}
    assert {k: v.value for k, v in after.items() if k != weak} == {
        k: v.value for k, v in before.items() if k != weak
    }
    assert after[weak].review_state == "pending"  # fixed: back to the reviewer
    assert [r.id for r in resubmitted] == [aid]


def test_queue_filters_sorts_and_marks_overdue(case):
    url, aid, a = case["url"], case["id"], case["actors"]
    with db.transaction(url) as s:
        submission.submit(s, a["client"], aid)
        s.get(Assessment, aid).submitted_at = s.get(Assessment, aid).submitted_at.replace(year=2020)
    with db.reading(url) as s:
        queue = review_queue(s, a["lead_reviewer"])
        assert queue.total == 1 and queue.rows[0].overdue and queue.rows[0].status == "submitted"
        assert review_queue(s, a["lead_reviewer"], mine=True).total == 0
        assert review_queue(s, a["lead_reviewer"], overdue_only=True).total == 1
        assert review_queue(s, a["lead_reviewer"], statuses=("under_review",)).total == 0
    with pytest.raises(SecureSphereError), db.reading(url) as s:
        review_queue(s, a["client"])


def test_assign_gives_the_assessment_to_a_reviewer(case):
    url, aid, a = case["url"], case["id"], case["actors"]
    with db.transaction(url) as s:
        submission.submit(s, a["client"], aid)
        review.assign(s, a["admin"], aid, a["lead_reviewer"].user_id)
    with db.reading(url) as s:
        assert review_queue(s, a["lead_reviewer"], mine=True).total == 1
    with pytest.raises(SecureSphereError, match="lead reviewers"), db.transaction(url) as s:
        review.assign(s, a["admin"], aid, a["analyst"].user_id)


def test_timeline_lists_every_step_with_time_in_state(case):
    url, aid, a = case["url"], case["id"], case["actors"]
    _to_review(case)
    with db.transaction(url) as s:
        review.decide(s, a["lead_reviewer"], aid, "rejected", note="Too weak.")
    with db.reading(url) as s:
        steps = timeline(s, a["client"], aid)
    assert [t.to_status for t in steps] == ["in_progress", "submitted", "under_review", "rejected"]
    assert steps[-1].note == "Too weak." and all(t.days_in_state >= 0 for t in steps)
