"""The score planner's pure core (core/planner.py): projections are the scoring of the planned
answers, and the cheapest plan reaches its target while no cheaper set of candidate changes does
(checked against brute force on small random banks)."""

from __future__ import annotations

import copy
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.banks.model import Answer
from core.errors import ValidationError
from core.planner import (
    MAX_EFFORT,
    best_answer,
    candidates,
    cheapest_plan,
    project,
    reaches,
    target_score,
)
from core.scoring import DEFAULT_BANDS, answer_score, score_assessment
from tests.test_scoring import CONDITIONAL, WEIGHTS, answers, same_scores, scenarios

targets = st.floats(0, 100) | st.sampled_from(["Low", "Medium", "High"])


@given(scenarios(), st.data())
def test_a_projection_is_the_scoring_of_the_planned_answers(scenario, data):
    _, bank, given_answers = scenario
    before = copy.deepcopy(given_answers)
    assert same_scores(project(bank, given_answers, {}), score_assessment(bank, given_answers))
    keys = data.draw(st.lists(st.sampled_from([q.key for q in bank.questions]), unique=True))
    planned = {k: a for k in keys if (a := best_answer(bank.question(k))) is not None}
    projected = project(bank, given_answers, planned)
    assert same_scores(projected, score_assessment(bank, {**given_answers, **planned}))
    assert given_answers == before  # a plan never changes the answers it is laid over


def _check_cheapest(bank, given_answers, target, effort) -> None:
    """The cheapest plan against brute force over every subset of the candidates."""
    pool = candidates(bank, given_answers, effort)
    plan = cheapest_plan(bank, given_answers, target, effort=effort)
    cheapest = None  # brute force: every subset of the candidates, scored for real
    for size in range(len(pool) + 1):
        for subset in itertools.combinations(pool, size):
            planned = {c.key: c.answer for c in subset}
            if reaches(project(bank, given_answers, planned), target):
                cost = sum(effort[c.key] for c in subset)
                cheapest = cost if cheapest is None else min(cheapest, cost)
    if cheapest is None:
        assert plan is None
        return
    assert plan is not None and plan.effort == cheapest
    assert reaches(plan.projected, target)
    planned = {c.key: c.answer for c in plan.changes}
    assert same_scores(plan.projected, project(bank, given_answers, planned))
    # each change's gain is exactly what it adds (the gains add up)
    now = score_assessment(bank, given_answers).overall or 0.0
    assert abs(now + sum(c.gain for c in plan.changes) - (plan.projected.overall or 0.0)) < 1e-6


@given(scenarios(), targets, st.data())
@settings(max_examples=150)
def test_the_cheapest_plan_reaches_the_target_and_nothing_cheaper_does(scenario, target, data):
    _, bank, given_answers = scenario
    effort = {q.key: data.draw(st.integers(1, 3)) for q in bank.questions}
    _check_cheapest(bank, given_answers, target, effort)


def _conditional_answers(draw) -> dict[str, Answer]:
    found = {}
    for key, values in (
        ("gate", ["yes", "no"]),
        ("follow", ["yes", "no"]),
        ("only", ["yes", "partial", "no"]),
    ):
        if (value := draw(st.sampled_from([None, *values]))) is not None:
            found[key] = Answer(value)
    return found


@given(st.data(), targets)
def test_a_condition_question_is_planned_only_where_its_change_adds_up(data, target):
    given_answers = _conditional_answers(data.draw)  # "follow" shows when "gate" is yes
    effort = {q.key: data.draw(st.integers(1, 3)) for q in CONDITIONAL.questions}
    _check_cheapest(CONDITIONAL, given_answers, target, effort)
    if given_answers.get("gate") == Answer("no") and "follow" in given_answers:
        # yes would show a scored "follow": the gains would no longer add up
        assert "gate" not in {c.key for c in candidates(CONDITIONAL, given_answers)}


@given(scenarios())
def test_best_answers_score_highest(scenario):
    _, bank, _ = scenario
    for question in bank.questions:
        best = best_answer(question)
        if best is None:
            assert not question.options
            continue
        top = answer_score(question, best)
        many = question.type == "multi_choice"
        for option in question.options:
            one = Answer([option.key] if many else option.key)
            assert (answer_score(question, one) or 0.0) <= top + 1e-12


def test_a_plan_on_a_small_bank():
    given_answers = answers(heavy="yes", light="no", other="no")  # 18.75
    plan = cheapest_plan(WEIGHTS, given_answers, 25)  # either change is enough: the larger
    assert [c.key for c in plan.changes] == ["other"] and plan.effort == 1
    plan = cheapest_plan(WEIGHTS, given_answers, 25, effort={"other": 2})
    assert [c.key for c in plan.changes] == ["light"] and plan.effort == 1  # 6.25 is enough
    plan = cheapest_plan(WEIGHTS, given_answers, 25, effort={"light": 5, "other": 2})
    assert [c.key for c in plan.changes] == ["other"] and plan.effort == 2  # cheaper, if larger
    assert cheapest_plan(WEIGHTS, given_answers, 10).changes == ()  # reached already
    assert cheapest_plan(WEIGHTS, {}, 50) is None  # nothing answered: nothing to raise
    assert cheapest_plan(WEIGHTS, given_answers, "Low").projected.band == "Low"


@pytest.mark.parametrize(
    ("target", "message"),
    [(101, "from 0 to 100"), (-1, "from 0 to 100"), (True, "from 0 to 100"), ("Best", "band")],
)
def test_bad_targets_are_refused(target, message):
    with pytest.raises(ValidationError, match=message):
        target_score(target, DEFAULT_BANDS)


@pytest.mark.parametrize("effort", [0, MAX_EFFORT + 1, 1.5, True])
def test_bad_efforts_are_refused(effort):
    given_answers = answers(heavy="yes", light="no", other="no")
    with pytest.raises(ValidationError, match="whole number"):
        cheapest_plan(WEIGHTS, given_answers, 90, effort={"light": effort})
