"""Events written where they happen: outbox rows in the change's own transaction, for the people
core/access lets read the assessment, with what each may see; preferences, the bell, the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core import db, evidence, review
from core.access import SYSTEM
from core.comments import add_comment
from core.demo_content import sample_pdf
from core.errors import ValidationError
from core.mail_messages import describe
from core.models import Assessment, Outbox, User
from core.notify_inbox import inbox, mark_read, my_preferences, set_preferences, unread_count
from core.notify_schedule import (
    compile_digests,
    digest_cutoff,
    enqueue_evidence_reminders,
    enqueue_reminders,
)
from core.outbox import enqueue
from core.settings import update_setting
from core.submission import submit
from tests.factories import World
from tests.notify_world import cast, rows, usernames


@pytest.fixture
def c(db_url, tmp_path):
    return cast(World(db_url, tmp_path / "data"))


def _submitted(c):
    w = c.world
    aid = w.answered(c.client, w.product(c.client))
    w.submit(c.client, aid)
    return aid


def _weak(c):
    return c.world.weak_key({k: a.value for k, a in c.world.demo_answers().items()})


def test_a_submission_tells_every_lead_reviewer_and_not_the_client(c):
    _submitted(c)
    assert usernames(c.world.url, "submitted") == ["ravi", "rita"]
    row = rows(c.world.url, kind="submitted")[0]
    assert row.status == "queued" and row.address.endswith("@example.org")
    assert row.data["link"].startswith("review?assessment=")


def test_a_rolled_back_submission_leaves_no_outbox_row(c):
    w = c.world
    aid = w.answered(c.client, w.product(c.client))
    with pytest.raises(RuntimeError), db.transaction(w.url) as s:
        submit(s, c.client, aid)
        assert s.scalar(select(Outbox.id).where(Outbox.kind == "submitted")) is not None
        raise RuntimeError("the page failed after submitting")
    assert rows(w.url) == []


def test_a_resubmission_tells_only_the_reviewer_who_has_it(c):
    w = c.world
    aid = _submitted(c)
    w.send_back(c.reviewer, aid, _weak(c), "Attach the policy.")
    w.submit(c.client, aid)
    latest = rows(w.url, kind="submitted")[-1]
    assert latest.recipient_id == c.reviewer.user_id and latest.data["round"] == 2
    assert len(rows(w.url, kind="submitted")) == 3  # two on the first round, one now


def test_changes_requested_carry_the_note_and_shared_comments_but_never_internal_ones(c):
    w = c.world
    aid = _submitted(c)
    with db.transaction(w.url) as s:
        review.claim(s, c.reviewer, aid)
        review.set_review_state(s, c.reviewer, aid, _weak(c), "needs_changes", comment="Add MFA")
        add_comment(s, c.reviewer, aid, "Client seems evasive", visibility="internal")
        review.request_changes(s, c.reviewer, aid, note="Two gaps to close.")
    sent = rows(w.url, kind="changes_requested")
    assert sorted(r.recipient_id for r in sent) == sorted([c.client.user_id, c.colleague.user_id])
    data = sent[0].data
    assert data["note"] == "Two gaps to close."
    assert [x["body"] for x in data["comments"]] == ["Add MFA"]
    assert data["link"] == f"questionnaire?assessment={aid}"
    every_text = repr([r.data for r in rows(w.url)])
    assert "evasive" not in every_text  # in no row, for anyone
    assert rows(w.url, kind="comment_to_client") == []  # the flag came with the request


def test_other_organisations_clients_hear_nothing(c):
    w = c.world
    aid = _submitted(c)
    w.decide(c.reviewer, aid, "approved")
    assert c.stranger.user_id not in {r.recipient_id for r in rows(w.url)}
    assert usernames(w.url, "approved") == ["cleo", "colin"]
    assert usernames(w.url, "claimed") == ["cleo", "colin"]


def test_a_rejection_tells_the_client_with_its_reason(c):
    w = c.world
    aid = _submitted(c)
    with db.transaction(w.url) as s:
        review.claim(s, c.reviewer, aid)
        review.decide(s, c.reviewer, aid, "rejected", note="Out of scope")
    assert {r.data["note"] for r in rows(w.url, kind="rejected")} == {"Out of scope"}


def test_assigning_tells_the_assignee_but_not_the_actor(c):
    w = c.world
    aid = _submitted(c)
    with db.transaction(w.url) as s:
        review.assign(s, c.reviewer, aid, c.second_reviewer.user_id)
        review.assign(s, c.reviewer, aid, c.second_reviewer.user_id)  # no change, no message
        review.assign(s, c.reviewer, aid, c.reviewer.user_id)  # to oneself: nobody to tell
    assert usernames(w.url, "assigned") == ["ravi"]


def test_a_reviewer_visibility_of_assigned_keeps_other_reviewers_out(c):
    w = c.world
    with db.transaction(w.url) as s:
        update_setting(s, SYSTEM, "reviewer_visibility", "assigned")
    aid = _submitted(c)
    with db.transaction(w.url) as s:
        review.assign(s, c.admin, aid, c.reviewer.user_id)
        review.claim(s, c.reviewer, aid)
    with db.transaction(w.url) as s:
        add_comment(s, c.client, aid, "We added the policy.")
    assert usernames(w.url, "reply_to_reviewer") == ["rita"]


def test_comments_go_from_reviewer_to_client_and_back_and_internal_ones_nowhere(c):
    w = c.world
    aid = _submitted(c)
    with db.transaction(w.url) as s:
        review.claim(s, c.reviewer, aid)
        first = add_comment(s, c.reviewer, aid, "Which vault do you use?")
        add_comment(s, c.reviewer, aid, "internal only", visibility="internal")
    with db.transaction(w.url) as s:
        add_comment(s, c.client, aid, "HashiCorp Vault.", parent_id=first.id)
    assert usernames(w.url, "comment_to_client") == ["cleo", "colin"]
    replies = rows(w.url, kind="reply_to_reviewer")
    assert [r.recipient_id for r in replies] == [c.reviewer.user_id]
    assert replies[0].data["body"] == "HashiCorp Vault."


def test_preferences_choose_digest_or_off_and_the_bell_still_shows_everything(c):
    w = c.world
    with db.transaction(w.url) as s:
        set_preferences(s, c.reviewer, {"submitted": "digest"})
        set_preferences(s, c.second_reviewer, {"submitted": "off"})
    _submitted(c)
    by_person = {r.recipient_id: r for r in rows(w.url, kind="submitted")}
    assert by_person[c.reviewer.user_id].status == "digest"
    assert by_person[c.second_reviewer.user_id].status == "skipped"
    with db.reading(w.url) as s:
        assert my_preferences(s, c.reviewer)["submitted"] == "digest"
        assert unread_count(s, c.second_reviewer) == 1


def test_a_preference_must_be_one_of_the_three_and_a_kind_one_may_choose(c):
    with pytest.raises(ValidationError), db.transaction(c.world.url) as s:
        set_preferences(s, c.client, {"approved": "weekly"})
    with pytest.raises(ValidationError), db.transaction(c.world.url) as s:
        set_preferences(s, c.client, {"password_reset": "off"})


def test_the_bell_counts_unread_and_marks_read_only_ones_own(c):
    w = c.world
    aid = _submitted(c)
    w.decide(c.reviewer, aid, "approved")
    with db.reading(w.url) as s:
        assert unread_count(s, c.client) == 2  # review started, approved
        items = inbox(s, c.client)
        assert [i.page for i in items] == ["scores", "client_home"]
        assert items[0].title == "Web Shop was approved"
        assert unread_count(s, c.stranger) == 0
    with db.transaction(w.url) as s:
        assert mark_read(s, c.stranger, [i.id for i in items]) == 0  # not theirs
        assert mark_read(s, c.client, [items[0].id]) == 1
    with db.reading(w.url) as s:
        assert unread_count(s, c.client) == 1
        assert unread_count(s, c.colleague) == 2


def test_a_client_bell_never_shows_another_organisations_row(c):
    w = c.world
    aid = _submitted(c)
    with db.transaction(w.url) as s:
        other = s.get(Assessment, aid)
        row = enqueue(
            s,
            kind="approved",
            data={"product": "Secret Project", "organization": "Globex", "actor": "x"},
            recipient=s.get(User, c.stranger.user_id),
            organization_id=other.organization_id,  # Acme's row addressed to Globex's client
        )
        assert row.status == "queued"
    with db.reading(w.url) as s:
        assert unread_count(s, c.stranger) == 0 and inbox(s, c.stranger) == []


def _due_in(url, aid, days, today):
    with db.transaction(url) as s:
        s.execute(
            update(Assessment)
            .where(Assessment.id == aid)
            .values(due_date=today + timedelta(days=days))
        )


def test_due_soon_and_overdue_reminders_are_written_once_per_assessment_and_threshold(c):
    w = c.world
    aid = w.start(c.client, w.product(c.client))
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    _due_in(w.url, aid, 5, now.date())
    with db.transaction(w.url) as s:
        assert enqueue_reminders(s, now=now) == 0  # 5 days out, reminder_days is 3
        assert enqueue_reminders(s, now=now + timedelta(days=2)) == 2  # both clients
        assert enqueue_reminders(s, now=now + timedelta(days=3)) == 0  # once
        assert enqueue_reminders(s, now=now + timedelta(days=6)) == 2  # overdue
        assert enqueue_reminders(s, now=now + timedelta(days=7)) == 0
    assert usernames(w.url, "due_soon") == ["cleo", "colin"]
    assert rows(w.url, kind="overdue")[0].data["due_date"] == date(2026, 12, 6).isoformat()


def test_a_submitted_assessment_gets_no_reminder(c):
    w = c.world
    aid = _submitted(c)
    now = datetime.now(UTC)
    _due_in(w.url, aid, -3, now.date())
    with db.transaction(w.url) as s:
        assert enqueue_reminders(s, now=now) == 0


def test_a_digest_gathers_a_days_rows_and_an_empty_one_is_not_written(c):
    w = c.world
    with db.transaction(w.url) as s:
        set_preferences(s, c.client, dict.fromkeys(("claimed", "approved"), "digest"))
    aid = _submitted(c)
    w.decide(c.reviewer, aid, "approved")
    made = rows(w.url, recipient_id=c.client.user_id)[-1].created_at
    assert digest_cutoff(made, 7) <= made
    with db.transaction(w.url) as s:
        assert compile_digests(s, now=made) == 0  # written after today's digest: tomorrow's
        assert compile_digests(s, now=made + timedelta(days=1)) == 1
        assert compile_digests(s, now=made + timedelta(days=2)) == 0  # nothing left: no digest
    digest = rows(w.url, kind="digest")
    assert len(digest) == 1 and digest[0].recipient_id == c.client.user_id
    assert [i["title"] for i in digest[0].data["items"]] == [
        "Review of Web Shop has started",
        "Web Shop was approved",
    ]
    assert {r.status for r in rows(w.url, recipient_id=c.client.user_id) if r.kind != "digest"} == {
        "digested"
    }


# ---- evidence about to expire, and expired ---------------------------------------------------------


def _dated_file(c, client, aid, until, name="certificate.pdf"):
    with db.transaction(c.world.url) as s:
        return evidence.add_evidence(
            s,
            client,
            aid,
            question_key=c.world.bank.questions[0].key,
            filename=name,
            data=sample_pdf(name),
            data_dir=c.world.data_dir,
            valid_until=until,
            now=datetime(2026, 11, 1, tzinfo=UTC),
        ).id


def test_an_expiring_file_is_told_once_to_its_organisations_clients_and_then_its_expiry(c):
    w = c.world
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    aid = w.start(c.client, w.product(c.client))
    theirs = w.start(c.stranger, w.product(c.stranger, "Secret Project"))
    fid = _dated_file(c, c.client, aid, date(2026, 12, 6))
    _dated_file(c, c.stranger, theirs, date(2027, 6, 1))  # Globex's: far off
    _dated_file(c, c.client, aid, None, "undated.pdf")  # no day: never reminded
    with db.transaction(w.url) as s:
        assert enqueue_evidence_reminders(s, now=now) == 0  # 5 days out, reminder_days is 3
        assert enqueue_evidence_reminders(s, now=now + timedelta(days=2)) == 2  # both clients
        assert enqueue_evidence_reminders(s, now=now + timedelta(days=3)) == 0  # once
        assert enqueue_reminders(s, now=now + timedelta(days=5)) == 0  # still once, its last day
        assert enqueue_reminders(s, now=now + timedelta(days=6)) == 2  # expired
        assert enqueue_reminders(s, now=now + timedelta(days=7)) == 0
    assert usernames(w.url, "evidence_expiring") == ["cleo", "colin"]
    assert usernames(w.url, "evidence_expired") == ["cleo", "colin"]
    row = rows(w.url, kind="evidence_expiring")[0]
    assert row.organization_id == c.org and row.assessment_id == aid
    assert row.dedupe_key == f"evidence_expiring:{fid}:2026-12-06:{row.recipient_id}"
    assert row.data["link"] == f"questionnaire?assessment={aid}"
    said = describe(row.kind, row.data)
    assert said.subject == "Evidence for Web Shop expires on 6 Dec 2026"
    assert "certificate.pdf" in said.lines[0] and "valid until 6 Dec 2026" in said.lines[0]
    assert describe("evidence_expired", row.data).subject == "Evidence for Web Shop has expired"
    with db.reading(w.url) as s:
        assert [n.title for n in inbox(s, c.client) if "Evidence" in n.title] == [
            "Evidence for Web Shop has expired",
            "Evidence for Web Shop expires on 6 Dec 2026",
        ]
        assert inbox(s, c.stranger) == [] and unread_count(s, c.stranger) == 0


def test_a_new_valid_until_day_is_reminded_again_and_a_removed_file_never(c):
    w = c.world
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    aid = w.start(c.client, w.product(c.client))
    moved = _dated_file(c, c.client, aid, date(2026, 12, 2))
    gone = _dated_file(c, c.client, aid, date(2026, 12, 3), "old.pdf")
    with db.transaction(w.url) as s:
        evidence.remove_evidence(s, c.client, gone, now=now)
        assert enqueue_evidence_reminders(s, now=now) == 2  # the moved file only
        evidence.set_valid_until(s, c.client, moved, date(2026, 12, 4), now=now)
        assert enqueue_evidence_reminders(s, now=now) == 2  # its new day is a new reminder
        assert enqueue_evidence_reminders(s, now=now) == 0
    assert {r.data["valid_until"] for r in rows(w.url, kind="evidence_expiring")} == {
        "2026-12-02",
        "2026-12-04",
    }


def test_a_file_of_an_archived_assessment_or_long_expired_is_not_reminded(c):
    w = c.world
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    aid = w.start(c.client, w.product(c.client))
    _dated_file(c, c.client, aid, date(2026, 12, 2))
    other = w.start(c.client, w.product(c.client, "Old Shop"))
    _dated_file(c, c.client, other, date(2026, 11, 1))  # expired a month ago
    with db.transaction(w.url) as s:
        s.execute(update(Assessment).where(Assessment.id == aid).values(is_active=False))
        assert enqueue_evidence_reminders(s, now=now) == 0
