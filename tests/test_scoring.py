"""Scoring formula: tables for each rule and Hypothesis properties (no database)."""

from __future__ import annotations

import copy
import math
from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.banks import Bank, Option, parse_bank
from core.errors import ValidationError
from core.scoring import (
    DEFAULT_BANDS,
    FORMULA_VERSION,
    Answer,
    answer_score,
    band_for,
    lost_points,
    score_assessment,
    score_delta,
)

NA = Answer(None, is_na=True)
TOL = 1e-9


def q(key: str, qtype: str = "yes_no", **extra: object) -> dict:
    """A question dict; choice types get options a=0, b=0.25, c=0.5, d=1 unless given."""
    data = {"key": key, "text": f"{key}?", "type": qtype, **extra}
    if qtype in ("single_choice", "multi_choice") and "options" not in data:
        data["options"] = [
            {"key": k, "label": k, "score": s}
            for k, s in (("a", 0), ("b", 0.25), ("c", 0.5), ("d", 1))
        ]
    return data


def sec(key: str, *questions: dict, weight: float = 1) -> dict:
    """A section dict."""
    return {"key": key, "title": key.title(), "weight": weight, "questions": list(questions)}


def bank(*sections: dict) -> Bank:
    """A parsed bank of the given section dicts."""
    data = {"key": "test-bank", "version": 1, "title": "Test", "sections": list(sections)}
    return parse_bank(data, source_name="test.yaml")


def answers(**values: object) -> dict[str, Answer]:
    """Answers by key; an Answer passes through, anything else becomes Answer(value)."""
    return {k: v if isinstance(v, Answer) else Answer(v) for k, v in values.items()}


# --------------------------------------------------------------------------- answer_score

TYPES_BANK = bank(
    sec(
        "all",
        q("yn"),
        q("ynp", "yes_no_partial", allow_na=True),
        q("mat", "maturity"),
        q("lvl", "maturity", options=[{"key": k, "label": k} for k in ("lo", "mid", "hi")]),
        q(
            "sc",
            "maturity",
            options=[
                {"key": "x", "label": "X", "score": 0.1},
                {"key": "y", "label": "Y", "score": 0.9},
            ],
        ),
        q("one", "single_choice"),
        q("many", "multi_choice"),
        q("num", "number"),
        q("txt", "text"),
        q("day", "date"),
    )
)

ANSWER_SCORES = [
    ("yn", Answer("yes"), 1.0),
    ("yn", Answer("no"), 0.0),
    ("ynp", Answer("partial"), 0.5),
    ("ynp", NA, None),
    ("ynp", Answer(), None),
    ("ynp", None, None),
    ("mat", Answer("0"), 0.0),
    ("mat", Answer("3"), 0.6),
    ("mat", Answer("5"), 1.0),
    ("lvl", Answer("mid"), 0.5),
    ("sc", Answer("y"), 0.9),
    ("one", Answer("b"), 0.25),
    ("many", Answer(["b"]), 0.25),
    ("many", Answer(["b", "c"]), 0.75),
    ("many", Answer(["c", "d"]), 1.0),
    ("many", Answer(["a"]), 0.0),
    ("num", Answer(7), None),
    ("txt", Answer("hi"), None),
    ("day", Answer("2025-01-01"), None),
]


@pytest.mark.parametrize("key, answer, expected", ANSWER_SCORES)
def test_answer_score_by_type(key, answer, expected):
    assert answer_score(TYPES_BANK.question(key), answer) == expected


def test_hand_built_maturity_without_scores_is_evenly_spaced():
    levels = tuple(Option(str(i), str(i), None) for i in range(5))
    question = replace(TYPES_BANK.question("mat"), options=levels)
    assert [answer_score(question, Answer(str(i))) for i in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_invalid_stored_answer_is_an_error_not_a_silent_zero():
    with pytest.raises(ValidationError):
        answer_score(TYPES_BANK.question("yn"), Answer("maybe"))


# --------------------------------------------------------------------------- score_assessment

WEIGHTS = bank(sec("s1", q("heavy", weight=3), q("light")), sec("s2", q("other"), weight=3))
CONDITIONAL = bank(
    sec("s1", q("gate"), q("follow", condition={"question": "gate", "equals": "yes"}, weight=5)),
    sec("s2", q("only", "yes_no_partial")),
)

SCENARIOS = [  # (id, bank, answers, overall, section scores)
    ("question weights", WEIGHTS, answers(heavy="yes", light="no"), 75.0, {"s1": 75.0, "s2": None}),
    (
        "section weights",
        WEIGHTS,
        answers(heavy="yes", light="yes", other="no"),
        25.0,
        {"s1": 100.0, "s2": 0.0},
    ),
    (
        "unanswered section has no score",
        WEIGHTS,
        answers(other="yes"),
        100.0,
        {"s1": None, "s2": 100.0},
    ),
    ("n/a excluded", TYPES_BANK, answers(yn="yes", ynp=NA), 100.0, {"all": 100.0}),
    (
        "unscored types only",
        TYPES_BANK,
        answers(num=3, txt="x", day="2024-01-01"),
        None,
        {"all": None},
    ),
    ("nothing answered", WEIGHTS, {}, None, {"s1": None, "s2": None}),
    (
        "hidden answer ignored",
        CONDITIONAL,
        answers(gate="no", follow="yes"),
        0.0,
        {"s1": 0.0, "s2": None},
    ),
    (
        "visible follow-up counts",
        CONDITIONAL,
        answers(gate="yes", follow="no"),
        100 / 6,
        {"s1": 100 / 6, "s2": None},
    ),
    (
        "mixed sections",
        CONDITIONAL,
        answers(gate="yes", follow="yes", only="partial"),
        75.0,
        {"s1": 100.0, "s2": 50.0},
    ),
]


@pytest.mark.parametrize(
    "bank_, given_answers, overall, sections",
    [s[1:] for s in SCENARIOS],
    ids=[s[0] for s in SCENARIOS],
)
def test_scores(bank_, given_answers, overall, sections):
    result = score_assessment(bank_, given_answers)
    assert result.overall == pytest.approx(overall)
    assert result.sections == pytest.approx(sections)
    assert (result.band is None) is (overall is None)
    assert result.formula_version == FORMULA_VERSION == "2026.1"
    assert sum(result.contributions.values()) == pytest.approx(overall or 0.0, abs=TOL)


def test_hidden_questions_count_nowhere():
    result = score_assessment(CONDITIONAL, answers(gate="no", follow="yes"))
    assert (result.answered, result.total, result.completion) == (1, 2, 0.5)
    assert result.question_scores["follow"] is None and "follow" not in result.contributions
    visible = score_assessment(CONDITIONAL, answers(gate="yes", follow="yes"))
    assert (visible.answered, visible.total) == (2, 3)


COMPLETION_BANK = bank(
    sec(
        "sx",
        q("r1"),
        q("r2", allow_na=True),
        q("opt", required=False),
        q("cond", condition={"question": "r1", "equals": "yes"}),
    )
)

COMPLETION = [
    ({}, 0.0, 0, 3),
    (answers(r1="no"), 0.5, 1, 3),
    (answers(r1="no", r2=NA), 1.0, 2, 3),
    (answers(r1="yes", r2="no"), 2 / 3, 2, 4),
    (answers(r1="yes", r2="no", cond="no", opt="yes"), 1.0, 4, 4),
    (answers(r1="no", r2=Answer(None)), 0.5, 1, 3),
]


@pytest.mark.parametrize("given_answers, completion, answered, total", COMPLETION)
def test_completion_counts_required_visible_questions(given_answers, completion, answered, total):
    result = score_assessment(COMPLETION_BANK, given_answers)
    assert result.completion == pytest.approx(completion)
    assert (result.answered, result.total) == (answered, total)


def test_completion_is_full_without_required_questions():
    assert score_assessment(bank(sec("sx", q("x1", required=False))), {}).completion == 1.0


BANDS = [
    (100.0, "Low"),
    (80.0, "Low"),
    (79.99, "Medium"),
    (60.0, "Medium"),
    (59.99, "High"),
    (40.0, "High"),
    (39.99, "Critical"),
    (0.0, "Critical"),
    (None, None),
    (80 - 1e-12, "Low"),
]


@pytest.mark.parametrize("score, band", BANDS)
def test_band_for(score, band):
    assert band_for(score) == band and band_for(score, DEFAULT_BANDS) == band


def test_custom_bands():
    assert band_for(50.0, ((90.0, "Low"), (70.0, "Medium"), (50.0, "High"))) == "High"


CRIT_BANK = bank(
    sec(
        "sx",
        q("crit", "yes_no_partial", critical=True, allow_na=True),
        q("b1", weight=9),
        q("hid", critical=True, condition={"question": "b1", "equals": "no"}),
    )
)

CRITICAL = [
    ("failed critical caps Low at High", answers(crit="no", b1="yes"), 90.0, "High", ("crit",)),
    ("partial is not a failure", answers(crit="partial", b1="yes"), 95.0, "Low", ()),
    ("unanswered critical is not a failure", answers(b1="yes"), 100.0, "Low", ()),
    ("n/a critical is not a failure", answers(crit=NA, b1="yes"), 100.0, "Low", ()),
    ("hidden critical is not a failure", answers(crit="yes", b1="yes", hid="no"), 100.0, "Low", ()),
    (
        "Critical stays Critical",
        answers(crit="no", b1="no", hid="yes"),
        100 / 11,
        "Critical",
        ("crit",),
    ),
    (
        "visible failed critical",
        answers(crit="yes", b1="no", hid="no"),
        100 / 11,
        "Critical",
        ("hid",),
    ),
]


@pytest.mark.parametrize(
    "given_answers, overall, band, failed", [c[1:] for c in CRITICAL], ids=[c[0] for c in CRITICAL]
)
def test_critical_questions(given_answers, overall, band, failed):
    result = score_assessment(CRIT_BANK, given_answers)
    assert result.overall == pytest.approx(overall)
    assert (result.band, result.failed_critical) == (band, failed)


def test_failed_critical_raises_medium_to_high():
    medium = bank(sec("sx", q("crit", critical=True), q("b1", "single_choice", weight=3)))
    result = score_assessment(medium, answers(crit="no", b1="d"))
    assert (result.overall, band_for(result.overall), result.band) == (75.0, "Medium", "High")


def test_lost_points_and_delta():
    before = score_assessment(WEIGHTS, answers(heavy="yes", light="no", other="no"))
    assert before.overall == pytest.approx(18.75)
    lost = lost_points(WEIGHTS, before)
    assert [item.key for item in lost] == ["other", "light"]
    assert [item.points for item in lost] == pytest.approx([75.0, 6.25])
    after = score_assessment(WEIGHTS, answers(heavy="yes", light="yes", other="no"))
    assert after.contributions == pytest.approx({"heavy": 18.75, "light": 6.25, "other": 0.0})
    assert score_delta(before, after) == pytest.approx({"light": 6.25})
    assert score_delta(after, after) == {}
    from_nothing = score_delta(score_assessment(WEIGHTS, {}), after)
    assert from_nothing == pytest.approx({"heavy": 18.75, "light": 6.25})  # zero changes omitted


# --------------------------------------------------------------------------- properties

SCORED = ["yes_no", "yes_no_partial", "maturity", "single_choice", "multi_choice"]
weights = st.sampled_from([0.5, 1, 2, 3]) | st.floats(0.01, 100)


@st.composite
def question_dicts(draw: st.DrawFn, key: str) -> dict:
    """A random unconditional question, mostly of scored types."""
    qtype = draw(st.sampled_from(SCORED + ["number"]))
    data = {
        "key": key,
        "text": "?",
        "type": qtype,
        "weight": draw(weights),
        "allow_na": draw(st.booleans()),
        "critical": draw(st.booleans()),
    }
    if qtype in ("single_choice", "multi_choice"):
        scores = draw(st.lists(st.floats(0, 1), min_size=2, max_size=4))
        data["options"] = [
            {"key": f"o{i}", "label": f"O{i}", "score": s} for i, s in enumerate(scores)
        ]
    return data


@st.composite
def bank_dicts(draw: st.DrawFn) -> dict:
    """A random valid bank dict of 1-4 sections with 1-5 questions each."""
    sections, count = [], 0
    for s in range(draw(st.integers(1, 4))):
        size = draw(st.integers(1, 5))
        questions = [draw(question_dicts(f"q{count + i}")) for i in range(size)]
        count += size
        sections.append(
            {"key": f"s{s}", "title": "S", "weight": draw(weights), "questions": questions}
        )
    return {"key": "random", "version": 1, "title": "Random", "sections": sections}


@st.composite
def answer_sets(draw: st.DrawFn, bank_: Bank) -> dict[str, Answer]:
    """Random valid answers (some missing, some N/A where allowed)."""
    result = {}
    for question in bank_.questions:
        keys = [o.key for o in question.options]
        if question.type == "multi_choice":
            value = st.lists(st.sampled_from(keys), min_size=1, unique=True)
        elif question.type == "number":
            value = st.integers(-5, 5)
        else:
            value = st.sampled_from(keys)
        kinds = [st.none(), value.map(Answer)] + ([st.just(NA)] if question.allow_na else [])
        answer = draw(st.one_of(kinds))
        if answer is not None:
            result[question.key] = answer
    return result


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict, Bank, dict[str, Answer]]:
    """A bank dict, its parsed Bank and random answers."""
    data = draw(bank_dicts())
    bank_ = parse_bank(data, source_name="random.yaml")
    return data, bank_, draw(answer_sets(bank_))


def rescore(data: dict, given_answers: dict[str, Answer]):
    """Parse a (modified) bank dict and score it."""
    return score_assessment(parse_bank(data, source_name="changed.yaml"), given_answers)


def same_scores(a, b) -> bool:
    """Overall and section scores equal up to float error."""

    def close(x: float | None, y: float | None) -> bool:
        if x is None or y is None:
            return x is y
        return math.isclose(x, y, abs_tol=1e-7)

    return close(a.overall, b.overall) and all(
        close(a.sections.get(k), b.sections.get(k)) for k in set(a.sections) | set(b.sections)
    )


@given(scenarios())
def test_scores_stay_in_range_and_contributions_sum_to_overall(scenario):
    _, bank_, given_answers = scenario
    result = score_assessment(bank_, given_answers)
    scores = [result.overall, *result.sections.values()]
    assert all(0.0 <= s <= 100.0 for s in scores if s is not None)
    assert all(0.0 <= s <= 1.0 for s in result.question_scores.values() if s is not None)
    assert abs(sum(result.contributions.values()) - (result.overall or 0.0)) <= TOL
    if result.overall is not None:
        assert (
            abs(sum(item.points for item in lost_points(bank_, result)) + result.overall - 100.0)
            <= TOL
        )
    assert (result.band is None) is (result.overall is None)


@given(scenarios(), st.data())
def test_raising_an_answer_never_lowers_scores(scenario, data):
    _, bank_, given_answers = scenario
    raisable = [
        k for k, a in given_answers.items() if not a.is_na and bank_.question(k).type in SCORED
    ]
    assume(raisable)
    question = bank_.question(data.draw(st.sampled_from(raisable)))
    old_value = given_answers[question.key].value
    if question.type == "multi_choice":
        extra = [o.key for o in question.options if o.key not in old_value]
        assume(extra)
        new_value = old_value + [data.draw(st.sampled_from(extra))]
    else:
        old_score = answer_score(question, given_answers[question.key])
        better = [o.key for o in question.options if o.score > old_score]
        assume(better)
        new_value = data.draw(st.sampled_from(better))
    before = score_assessment(bank_, given_answers)
    after = score_assessment(bank_, {**given_answers, question.key: Answer(new_value)})
    assert after.sections[question.section_key] >= before.sections[question.section_key] - TOL
    assert after.overall >= before.overall - TOL


@given(scenarios(), st.sampled_from([0.001, 0.5, 3, 1000]))
def test_scaling_all_weights_changes_nothing(scenario, factor):
    data, bank_, given_answers = scenario
    scaled = copy.deepcopy(data)
    for section in scaled["sections"]:
        section["weight"] *= factor
        for question in section["questions"]:
            question["weight"] *= factor
    assert same_scores(score_assessment(bank_, given_answers), rescore(scaled, given_answers))


@given(scenarios(), st.randoms(use_true_random=False))
def test_question_order_within_a_section_changes_nothing(scenario, rnd):
    data, bank_, given_answers = scenario
    shuffled = copy.deepcopy(data)
    for section in shuffled["sections"]:
        rnd.shuffle(section["questions"])
    assert same_scores(score_assessment(bank_, given_answers), rescore(shuffled, given_answers))


@given(scenarios(), st.data())
def test_na_equals_removing_the_question(scenario, data):
    bank_data, bank_, given_answers = scenario
    candidates = [q.key for q in bank_.questions if q.allow_na]
    assume(candidates)
    key = data.draw(st.sampled_from(candidates))
    removed = copy.deepcopy(bank_data)
    for section in removed["sections"]:
        section["questions"] = [q for q in section["questions"] if q["key"] != key]
    removed["sections"] = [s for s in removed["sections"] if s["questions"]]
    assume(removed["sections"])
    with_na = score_assessment(bank_, {**given_answers, key: NA})
    rest = {k: a for k, a in given_answers.items() if k != key}
    assert same_scores(with_na, rescore(removed, rest))


@given(st.data())
@settings(max_examples=50)
def test_score_delta_sums_to_the_change(data):
    _, bank_, first = data.draw(scenarios())
    second = data.draw(answer_sets(bank_))
    before, after = score_assessment(bank_, first), score_assessment(bank_, second)
    delta = score_delta(before, after)
    assert 0.0 not in delta.values()
    assert abs(sum(delta.values()) - ((after.overall or 0.0) - (before.overall or 0.0))) <= TOL
