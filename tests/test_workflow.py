"""The assessment workflow through core, on SQLite and PostgreSQL."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core import assessments, audit_chain, comments, db, responses, review, submission, workspace
from core.banks.model import Answer
from core.banks.store import load_bank
from core.errors import AccessDenied, NotFound, ValidationError
from core.models import Assessment, AuditLog, ProductStatus, QuestionnaireResponse, ScoreHistory
from core.responses import AnswerInput
from core.timelines import StatusEvent, current_decision, status_history, timelines
from tests.factories import World


@pytest.fixture
def world(db_url, tmp_path):
    w = World(db_url, tmp_path)
    acme, rival = w.org("Acme Ltd"), w.org("Rival plc")
    client = w.person("client", acme)
    w.name(client=client, rival=w.person("client", rival), reviewer=w.person("lead_reviewer"))
    w.name(id=w.start(client, w.product(client)))
    return w


def _answers(world, first=None):
    """The one set of demo answers every test here gives (or its first few)."""
    return world.demo_answers(0.7, seed=1, first=first)


def _answer_all(world):
    """Save a full set of answers with the evidence the bank requires."""
    return world.answer(world["client"], world["id"], _answers(world), evidence=True)


def _weak_key(world):
    """A poorly answered yes/no question that no other question depends on."""
    return world.weak_key({k: a.value for k, a in _answers(world).items()})


def _count(url, model, assessment_id):
    with db.reading(url) as s:
        return s.scalar(
            select(func.count()).select_from(model).where(model.assessment_id == assessment_id)
        )


def test_full_review_loop_writes_timeline_snapshots_and_a_valid_audit_chain(world):
    url, client, reviewer, aid = world.url, world["client"], world["reviewer"], world["id"]
    _answer_all(world)
    with db.transaction(url) as s:
        submission.submit(s, client, aid)
    with db.transaction(url) as s:
        review.claim(s, reviewer, aid)
        key = _weak_key(world)
        review.set_review_state(s, reviewer, aid, key, "needs_changes", comment="Explain please.")
        review.request_changes(s, reviewer, aid)
    with db.transaction(url) as s:
        assert review.flagged_keys(s, client, aid) == [key]
        responses.save_answers(s, client, aid, {key: AnswerInput(value="yes")})
        submission.submit(s, client, aid)
    with db.transaction(url) as s:
        review.claim(s, reviewer, aid)
        review.decide(s, reviewer, aid, "approved")
    with db.reading(url) as s:
        statuses = s.scalars(
            select(ProductStatus.to_status)
            .where(ProductStatus.assessment_id == aid)
            .order_by(ProductStatus.id)
        ).all()
        triggers = s.scalars(
            select(ScoreHistory.trigger)
            .where(ScoreHistory.assessment_id == aid)
            .order_by(ScoreHistory.id)
        ).all()
        a = s.get(Assessment, aid)
        assert audit_chain.verify_chain(s) is None
    assert statuses == [
        "in_progress",
        "submitted",
        "under_review",
        "changes_requested",
        "in_progress",
        "submitted",
        "under_review",
        "approved",
    ]
    assert triggers == ["submit", "changes_requested", "submit", "approve"]
    assert a.status == "approved" and a.latest_score is not None and a.completion == 1.0


def test_one_bad_answer_rolls_back_the_whole_section(world):
    url, client, aid = world.url, world["client"], world["id"]
    answers = _answers(world, first=5)
    bad_key = next(iter(answers))
    answers[bad_key] = AnswerInput(value="certainly")
    with pytest.raises(ValidationError, match="not one of its options"):
        with db.transaction(url) as s:
            responses.save_answers(s, client, aid, answers)
    assert _count(url, QuestionnaireResponse, aid) == 0
    with db.reading(url) as s:
        assert s.get(Assessment, aid).status == "not_started"


def test_incomplete_assessment_cannot_be_submitted(world):
    url, client, aid = world.url, world["client"], world["id"]
    partial = _answers(world, first=3)
    with db.transaction(url) as s:
        responses.save_answers(s, client, aid, partial)
    with pytest.raises(ValidationError, match="required answers or evidence files are missing"):
        with db.transaction(url) as s:
            submission.submit(s, client, aid)
    assert _count(url, ScoreHistory, aid) == 0


def test_another_organisation_cannot_read_or_answer(world):
    url, rival, aid = world.url, world["rival"], world["id"]
    with db.reading(url) as s, pytest.raises(AccessDenied):
        workspace.get_assessment(s, rival, aid)
    with pytest.raises(AccessDenied), db.transaction(url) as s:
        responses.save_answers(s, rival, aid, _answers(world, first=1))
    with db.reading(url) as s:
        assert assessments.client_overview(s, rival) == []
    assert _count(url, QuestionnaireResponse, aid) == 0


def test_clients_cannot_claim_and_reviewers_cannot_answer(world):
    url, client, reviewer, aid = world.url, world["client"], world["reviewer"], world["id"]
    with pytest.raises(AccessDenied), db.transaction(url) as s:
        review.claim(s, client, aid)
    with pytest.raises(AccessDenied), db.transaction(url) as s:
        responses.save_answers(s, reviewer, aid, _answers(world, first=1))


def test_submitted_assessment_is_read_only(world):
    url, client, aid = world.url, world["client"], world["id"]
    answers = _answer_all(world)
    with db.transaction(url) as s:
        submission.submit(s, client, aid)
    with pytest.raises(ValidationError, match="not open for answers"), db.transaction(url) as s:
        responses.save_answers(s, client, aid, dict(list(answers.items())[:1]))


def test_request_changes_needs_a_flagged_answer(world):
    url, client, reviewer, aid = world.url, world["client"], world["reviewer"], world["id"]
    _answer_all(world)
    with db.transaction(url) as s:
        submission.submit(s, client, aid)
        review.claim(s, reviewer, aid)
    with pytest.raises(ValidationError, match="Flag at least one answer"):
        with db.transaction(url) as s:
            review.request_changes(s, reviewer, aid)
    with pytest.raises(ValidationError, match="reason"), db.transaction(url) as s:
        review.decide(s, reviewer, aid, "rejected")


def test_unknown_assessment_is_not_found(world):
    with db.reading(world.url) as s, pytest.raises(NotFound):
        workspace.get_assessment(s, world["client"], 987654)


def test_audit_chain_detects_a_changed_row(world):
    url = world.url
    with db.transaction(url) as s:
        row = s.scalar(select(AuditLog).order_by(AuditLog.id).limit(1))
        row.detail = {"tampered": True}
    with db.reading(url) as s:
        assert audit_chain.verify_chain(s) == row.id


def test_answers_that_require_evidence_block_submit_until_a_file_is_attached(world):
    url, client, aid = world.url, world["client"], world["id"]
    with db.transaction(url) as s:
        responses.save_answers(s, client, aid, _answers(world))
    with db.reading(url) as s:
        missing = submission.missing_items(s, s.get(Assessment, aid))
    assert missing and {m.what for m in missing} == {"evidence"}
    with pytest.raises(ValidationError, match="First: evidence for"), db.transaction(url) as s:
        submission.submit(s, client, aid)
    _answer_all(world)
    with db.transaction(url) as s:
        submission.submit(s, client, aid)


def test_next_cycle_starts_from_the_last_cycles_answers(world):
    url, client, reviewer, aid = world.url, world["client"], world["reviewer"], world["id"]
    answers = _answer_all(world)
    world.decide(reviewer, world.submit(client, aid), "approved")
    with db.transaction(url) as s:
        fresh = assessments.start_next_cycle(s, client, aid)
    with db.reading(url) as s:
        carried = responses.answer_details(s, client, fresh.id)
        new = s.get(Assessment, fresh.id)
    assert new.cycle == 2 and new.previous_id == aid and new.status == "in_progress"

    def norm(value):  # multi-choice answers are stored in the bank's option order
        return sorted(value) if isinstance(value, list) else value

    assert {k: norm(v.value) for k, v in carried.items()} == {
        k: norm(v.value) for k, v in answers.items()
    }


def test_an_open_cycle_cannot_be_followed_by_another(world):
    with pytest.raises(ValidationError, match="only after the current one is approved"):
        with db.transaction(world.url) as s:
            assessments.start_next_cycle(s, world["client"], world["id"])


def test_section_progress_counts_required_visible_questions(world):
    url = world.url
    with db.reading(url) as s:
        bank = load_bank(s, world.bank_id)
    empty = submission.section_progress(bank, {})
    assert [p.key for p in empty] == [sec.key for sec in bank.sections]
    assert all(p.answered == 0 and p.required <= p.visible for p in empty)
    answers = {k: Answer(v.value, v.is_na) for k, v in _answers(world).items()}
    full = submission.section_progress(bank, answers)
    assert all(p.answered == p.required for p in full)


def test_blank_inputs_for_unanswered_questions_store_nothing_and_count_nothing(world):
    url, client, aid = world.url, world["client"], world["id"]
    keys = list(_answers(world))[:4]
    blank = {k: AnswerInput() for k in keys}
    with db.transaction(url) as s:
        assert (
            responses.save_answers(s, client, aid, {**blank, keys[0]: AnswerInput(value="yes")})
            == 1
        )
    assert _count(url, QuestionnaireResponse, aid) == 1
    with db.transaction(url) as s:  # clearing a given answer is a change
        assert responses.save_answers(s, client, aid, blank) == 1
    with db.reading(url) as s:
        saves = s.scalars(
            select(AuditLog.detail).where(AuditLog.action == "answers_saved").order_by(AuditLog.id)
        ).all()
    assert [d["questions"] for d in saves] == [[keys[0]], [keys[0]]]


def test_a_refused_submission_names_questions_by_text_with_counts_that_add_up(world):
    url, client, aid = world.url, world["client"], world["id"]
    with db.transaction(url) as s:
        responses.save_answers(s, client, aid, _answers(world, first=3))
    with db.reading(url) as s:
        missing = submission.missing_items(s, s.get(Assessment, aid))
        bank = load_bank(s, world.bank_id)
    answers = sum(m.what == "answer" for m in missing)
    with pytest.raises(ValidationError) as refused, db.transaction(url) as s:
        submission.submit(s, client, aid)
    message = str(refused.value)
    first = missing[0]
    assert f"{len(missing)} required answers or evidence files are missing" in message
    assert f"{answers} answers" in message and (
        answers == len(missing) or "evidence file" in message
    )
    assert first.text[:40] in message and bank.section(first.section).title in message
    assert first.key not in message
    assert all(m.section_title == bank.section(m.section).title for m in missing)


def test_a_decision_is_current_until_the_client_submits_again():
    def rows(*statuses):
        return [StatusEvent(datetime(2026, 1, 1, tzinfo=UTC), s, s, s, "someone") for s in statuses]

    def status(*statuses):
        decision = current_decision(rows(*statuses))
        return decision and decision.status

    assert status("in_progress", "submitted", "under_review") is None
    assert status("submitted", "under_review", "changes_requested", "in_progress") == (
        "changes_requested"
    )
    assert status("changes_requested", "in_progress", "submitted") is None
    assert status("submitted", "under_review", "rejected") == "rejected"


def test_the_timeline_carries_the_note_to_the_client_and_only_to_its_organisation(world):
    url = world.url
    client, rival, reviewer, aid = (world[k] for k in ("client", "rival", "reviewer", "id"))
    _answer_all(world)
    with db.transaction(url) as s:
        submission.submit(s, client, aid)
        review.claim(s, reviewer, aid)
        comments.add_comment(s, reviewer, aid, "Internal: doubtful vendor.", visibility="internal")
        review.decide(s, reviewer, aid, "approved", note="Fine; renew the pen test in spring.")
    with db.reading(url) as s:
        history = status_history(s, client, aid)
        assert timelines(s, rival, [aid]) == {}
        with pytest.raises(AccessDenied):
            status_history(s, rival, aid)
    assert [h.what for h in history] == [
        "Answering started",
        "Submitted for review",
        "Review started",
        "Approved",
    ]
    assert current_decision(history).note == "Fine; renew the pen test in spring."
    assert not any("doubtful" in h.note for h in history)


def test_a_client_may_send_an_assessment_back_unchanged_after_a_change_request(world):
    url, client, reviewer, aid = world.url, world["client"], world["reviewer"], world["id"]
    _answer_all(world)
    with db.transaction(url) as s:
        submission.submit(s, client, aid)
        review.claim(s, reviewer, aid)
        review.set_review_state(s, reviewer, aid, _weak_key(world), "needs_changes", comment="Why?")
        review.request_changes(s, reviewer, aid)
    with db.transaction(url) as s:
        comments.add_comment(s, client, aid, "It is right as it stands: see the attached policy.")
        submission.submit(s, client, aid)
    with db.reading(url) as s:
        assert [h.what for h in status_history(s, client, aid)][-2:] == [
            "Answering resumed",
            "Submitted for review",
        ]
