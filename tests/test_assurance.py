"""Assurance levels and shares (core/assurance.py): properties of the pure functions over the
shipped baseline bank (shares sum to 100, and move only when a level with points behind it
moves; an answer's level only rises with review and in-date evidence, and falls as a file's day
passes), then the levels and shares as the database keeps them."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from core import db, evidence, responses, review
from core.assurance import (
    ASSURED,
    LEVELS,
    Assurance,
    answer_level,
    answer_levels,
    assurance_shares,
    from_json,
    share_of,
)
from core.banks.model import Answer, Bank
from core.banks.yaml_io import load_bank_file, shipped_bank_paths
from core.demo_content import demo_answers, sample_pdf
from core.models import Assessment, utcnow
from core.responses import AnswerInput
from core.scoring import ScoreResult, score_assessment
from tests.factories import World
from tests.test_statement_counts import counting

TOLERANCE = 1e-6


@cache
def _bank() -> Bank:
    return load_bank_file(shipped_bank_paths()[0])


def _scored(quality: float, seed: int) -> ScoreResult:
    given_answers = demo_answers(_bank(), quality, random.Random(seed))
    return score_assessment(
        _bank(), {k: Answer(a.value, a.is_na) for k, a in given_answers.items()}
    )


qualities = st.floats(min_value=0, max_value=1)
seeds = st.integers(min_value=0, max_value=10_000)
level_seeds = st.integers(min_value=0, max_value=10_000)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
until_lists = st.lists(st.one_of(st.none(), days), max_size=5)


def _levels(result: ScoreResult, seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    return {key: rng.choice(LEVELS) for key in result.question_scores}


def _sums_to_100(shares) -> bool:
    return set(shares) == set(LEVELS) and abs(sum(shares.values()) - 100) < TOLERANCE


@given(qualities, seeds, level_seeds)
def test_shares_sum_to_100_when_the_score_has_points_and_are_absent_otherwise(q, seed, lseed):
    result = _scored(q, seed)
    shares = assurance_shares(_bank(), result, _levels(result, lseed))
    has_points = sum(result.contributions.values()) > 0
    assert (shares.overall is not None) == has_points
    if has_points:
        assert _sums_to_100(shares.overall) and all(v >= 0 for v in shares.overall.values())
    for section in _bank().sections:
        points = sum(result.contributions.get(qn.key, 0) for qn in section.questions)
        got = shares.sections[section.key]
        assert (got is not None) == (points > 0), section.key
        if got is not None:
            assert _sums_to_100(got)


@given(qualities, seeds, level_seeds)
def test_the_same_answers_at_the_same_levels_give_the_very_same_shares(q, seed, lseed):
    first, again = _scored(q, seed), _scored(q, seed)
    levels = _levels(first, lseed)
    assert assurance_shares(_bank(), first, levels) == assurance_shares(
        _bank(), again, dict(levels)
    )


@given(qualities, seeds, level_seeds, level_seeds)
def test_levels_of_questions_without_points_change_nothing(q, seed, lseed, other):
    result = _scored(q, seed)
    levels = _levels(result, lseed)
    moved = dict(levels)
    rng = random.Random(other)
    for key in result.question_scores:
        if result.contributions.get(key, 0) == 0:
            moved[key] = rng.choice(LEVELS)
    moved["no-such-question"] = "accepted"
    assert assurance_shares(_bank(), result, moved) == assurance_shares(_bank(), result, levels)


@given(qualities, seeds, level_seeds, st.sampled_from(LEVELS))
def test_moving_one_answer_moves_exactly_its_points_between_two_levels(q, seed, lseed, to):
    result = _scored(q, seed)
    weighted = [k for k, v in result.contributions.items() if v > 0]
    if not weighted:
        return
    levels = _levels(result, lseed)
    key = weighted[lseed % len(weighted)]
    before = assurance_shares(_bank(), result, levels).overall
    after = assurance_shares(_bank(), result, {**levels, key: to}).overall
    part = 100 * result.contributions[key] / sum(result.contributions.values())
    expected = dict(before)
    expected[levels[key]] -= part
    expected[to] += part
    assert all(abs(after[level] - expected[level]) < TOLERANCE for level in LEVELS)


@given(until_lists, days, days)
def test_an_answer_level_only_rises_with_acceptance_and_another_file(untils, extra, today):
    rank = LEVELS.index
    alone = answer_level(False, untils, today)
    assert answer_level(True, untils, today) == "accepted"
    assert rank(answer_level(True, untils, today)) >= rank(alone)
    assert rank(answer_level(False, [*untils, extra], today)) >= rank(alone)
    assert rank(answer_level(False, [*untils, None], today)) >= rank(alone)
    assert answer_level(False, [], today) == "self_attested"
    assert answer_level(False, [*untils, None], today) in ("evidence", "evidence_valid")


@given(until_lists, days, st.integers(min_value=0, max_value=400))
def test_an_in_date_file_is_evidence_in_date_until_its_day_passes(untils, until, ahead):
    before_or_on = until - timedelta(days=ahead)
    assert answer_level(False, [*untils, until], before_or_on) == "evidence_valid"
    after = until + timedelta(days=ahead + 1)
    others_in_date = any(u is not None and u >= after for u in untils)
    assert answer_level(False, [*untils, until], after) == (
        "evidence_valid" if others_in_date else "evidence"
    )


@given(qualities, seeds, level_seeds)
def test_shares_come_back_whole_from_what_a_snapshot_stores(q, seed, lseed):
    result = _scored(q, seed)
    shares = assurance_shares(_bank(), result, _levels(result, lseed))
    assert from_json(shares.as_json()) == shares
    assured = share_of(shares.overall, ASSURED)
    if shares.overall is None:
        assert assured is None
    else:
        assert assured == pytest.approx(
            shares.overall["evidence_valid"] + shares.overall["accepted"]
        )
        assert share_of(shares.overall, LEVELS) == pytest.approx(100)


def test_nothing_stored_means_no_shares():
    assert from_json(None) is None and from_json({}) is None
    assert share_of(None, ASSURED) is None
    assert Assurance(None, {}).as_json() == {"overall": None, "sections": {}}


# ---------------------------------------------------------------------- in the database


@pytest.fixture
def world(db_url, tmp_path):
    w = World(db_url, tmp_path / "data")
    org = w.org("Acme Ltd")
    client = w.person("client", org)
    w.name(client=client, reviewer=w.person("lead_reviewer"))
    return w


def _file(w, aid, key, until=None, name="policy.pdf"):
    with db.transaction(w.url) as s:
        return evidence.add_evidence(
            s,
            w["client"],
            aid,
            question_key=key,
            filename=name,
            data=sample_pdf(name),
            data_dir=w.data_dir,
            valid_until=until,
        ).id


def _levels_in(w, aid, today=None):
    with db.reading(w.url) as s:
        return answer_levels(s, aid, today)


def _plain_keys(w, count):
    """Scored choice questions that nothing depends on and that need no file, to attach files
    to (the best demo answers give each of them points)."""
    referenced = {q.condition.question for q in w.bank.questions if q.condition}
    return [
        q.key
        for q in w.bank.questions
        if q.key not in referenced
        and q.key in w.demo_answers(1.0)
        and q.condition is None
        and not q.evidence_required
        and q.type in ("yes_no", "single_choice")
        and q.weight > 0
    ][:count]


def test_levels_follow_review_and_the_days_files_are_valid_until(world):
    w = world
    aid = w.answered(w["client"], w.product(w["client"]), quality=1.0)
    plain, expired, dated, undated = _plain_keys(w, 4)
    today = utcnow().date()
    _file(w, aid, expired, today - timedelta(days=3))
    _file(w, aid, dated, today + timedelta(days=30))
    _file(w, aid, undated)
    levels = _levels_in(w, aid)
    assert levels[plain] == "self_attested"
    assert levels[expired] == "evidence"
    assert levels[dated] == "evidence_valid"
    assert levels[undated] == "evidence"
    assert _levels_in(w, aid, today + timedelta(days=31))[dated] == "evidence"  # once it passes
    w.submit(w["client"], aid)
    with db.transaction(w.url) as s:
        review.claim(s, w["reviewer"], aid)
        review.set_review_state(s, w["reviewer"], aid, plain, "accepted")
    assert _levels_in(w, aid)[plain] == "accepted"


def test_a_removed_file_no_longer_counts(world):
    w = world
    aid = w.answered(w["client"], w.product(w["client"]), quality=1.0)
    (key,) = _plain_keys(w, 1)
    fid = _file(w, aid, key, utcnow().date() + timedelta(days=10))
    assert _levels_in(w, aid)[key] == "evidence_valid"
    with db.transaction(w.url) as s:
        evidence.remove_evidence(s, w["client"], fid)
    assert _levels_in(w, aid)[key] == "self_attested"


def test_a_snapshot_keeps_its_shares_and_the_assessment_its_accepted_and_assured_share(world):
    w = world
    aid = w.answered(w["client"], w.product(w["client"]), quality=1.0)
    keys = _plain_keys(w, 2)
    _file(w, aid, keys[0], utcnow().date() + timedelta(days=60))
    w.submit(w["client"], aid)
    first = w.snapshots(aid)[-1]
    stored = from_json(first.assurance)
    assert stored is not None and _sums_to_100(stored.overall)
    assert stored.overall["accepted"] == 0 and stored.overall["evidence_valid"] > 0
    with db.transaction(w.url) as s:
        review.claim(s, w["reviewer"], aid)
        for key in keys:
            review.set_review_state(s, w["reviewer"], aid, key, "accepted")
        review.decide(s, w["reviewer"], aid, "approved")
    last = from_json(w.snapshots(aid)[-1].assurance)
    assert last.overall["accepted"] > 0
    with db.reading(w.url) as s:
        a = s.get(Assessment, aid)
        assert a.accepted_share == pytest.approx(last.overall["accepted"])
        assert a.assured_share == pytest.approx(share_of(last.overall, ASSURED))
    for key, shares in last.sections.items():
        assert shares is None or _sums_to_100(shares), key


def test_a_snapshot_before_shares_were_kept_reads_as_none(world):
    w = world
    aid = w.submit(w["client"], w.answered(w["client"], w.product(w["client"])))
    snapshot = w.snapshots(aid)[-1]
    with db.transaction(w.url) as s:
        s.execute(
            update(type(snapshot)).where(type(snapshot).id == snapshot.id).values(assurance=None)
        )
    assert from_json(w.snapshots(aid)[-1].assurance) is None


def test_an_answer_changed_after_acceptance_goes_back_to_pending_and_drops_a_level(world):
    w = world
    aid = w.answered(w["client"], w.product(w["client"]), quality=1.0)
    accepted, flagged = _plain_keys(w, 2)
    w.submit(w["client"], aid)
    with db.transaction(w.url) as s:
        review.claim(s, w["reviewer"], aid)
        review.set_review_state(s, w["reviewer"], aid, accepted, "accepted")
        review.set_review_state(
            s, w["reviewer"], aid, flagged, "needs_changes", comment="Say more."
        )
        review.request_changes(s, w["reviewer"], aid)
    assert _levels_in(w, aid)[accepted] == "accepted"
    question = w.bank.question(accepted)
    other = next(o.key for o in question.options if o.key != w.demo_answers(1.0)[accepted].value)
    with db.transaction(w.url) as s:
        responses.save_answers(s, w["client"], aid, {accepted: AnswerInput(value=other)})
    with db.reading(w.url) as s:
        state = responses.answer_details(s, w["client"], aid)[accepted].review_state
    assert state == "pending"
    assert _levels_in(w, aid)[accepted] == "self_attested"


def test_levels_are_read_in_two_statements_whatever_the_number_of_answers(world):
    w = world
    aid = w.answered(w["client"], w.product(w["client"]), quality=1.0)
    with db.reading(w.url) as s:
        s.connection()  # BEGIN before counting
        with counting(w.url) as statements:
            levels = answer_levels(s, aid, datetime(2026, 1, 1).date())
    assert len(levels) > 20 and len(statements) == 2
