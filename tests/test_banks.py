"""Question bank schema, YAML input/output, answer validation and visibility (no database)."""

from __future__ import annotations

import copy
import datetime as dt
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.banks import (
    DEFAULT_MATURITY_SCALE,
    QUESTION_TYPES,
    YES_NO_OPTIONS,
    YES_NO_PARTIAL_OPTIONS,
    Answer,
    Bank,
    Condition,
    Option,
    dump_bank,
    is_visible,
    load_bank_file,
    load_bank_text,
    parse_bank,
    shipped_bank_paths,
    validate_answer,
)
from core.errors import NotFound, ValidationError
from core.text import hidden_character

DELETE = object()


def choice(key: str, qtype: str = "single_choice", **extra: object) -> dict:
    """A choice question with options a (0), b (0.5), c (1)."""
    scores = (("a", 0), ("b", 0.5), ("c", 1))
    options = [{"key": k, "label": k.upper(), "score": s} for k, s in scores]
    return {"key": key, "text": f"{key}?", "type": qtype, "options": options, **extra}


def question(key: str, qtype: str = "yes_no", **extra: object) -> dict:
    """A question dict with only the required fields plus extras."""
    return {"key": key, "text": f"Question {key}?", "type": qtype, **extra}


def base_data() -> dict:
    """A small valid bank that the malformed cases below break one field at a time."""
    return {
        "key": "demo",
        "version": 1,
        "title": "Demo",
        "sections": [
            {"key": "s1", "title": "One", "questions": [question("q1"), choice("q2")]},
            {
                "key": "s2",
                "title": "Two",
                "questions": [question("q3", "number"), choice("q4", "multi_choice")],
            },
        ],
    }


def mutated(path: str, value: object) -> dict:
    """base_data() with the value at a dotted path ("sections.0.key") replaced, or deleted."""
    data = base_data()
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target = data
    for step in parents:
        target = target[step]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return data


def single_bank(*questions: dict) -> Bank:
    """A one-section bank of the given question dicts."""
    data = {
        "key": "one",
        "version": 1,
        "title": "One",
        "sections": [{"key": "main", "title": "Main", "questions": list(questions)}],
    }
    return parse_bank(data, source_name="test.yaml")


# --------------------------------------------------------------------------- shipped bank


def test_shipped_bank_loads_with_expected_shape():
    paths = shipped_bank_paths()
    assert [p.name for p in paths] == sorted(p.name for p in paths)
    bank = load_bank_file(next(p for p in paths if p.name == "securesphere_baseline.yaml"))
    assert bank.key == "securesphere-baseline" and bank.version == 1
    assert bank.source == "SecureSphere" and bank.licence == "CC BY 4.0, SecureSphere contributors"
    assert [s.key for s in bank.sections] == [
        "governance",
        "identity-access",
        "data-protection",
        "secure-development",
        "vulnerability-management",
        "logging-monitoring",
        "incident-response",
        "third-parties",
    ]
    assert 45 <= len(bank.questions) <= 55
    assert set(Counter(q.type for q in bank.questions)) == set(QUESTION_TYPES)


def test_shipped_bank_uses_every_feature():
    bank = load_bank_file(shipped_bank_paths()[0])
    questions = bank.questions
    assert {"iam-mfa-admin", "dp-encrypt-rest"} <= {q.key for q in questions if q.critical}
    assert sum(q.condition is not None for q in questions) >= 3
    for flag in ("evidence_required", "allow_na"):
        assert any(getattr(q, flag) for q in questions), flag
    assert any(not q.required for q in questions)
    assert sum(q.help is not None for q in questions) > len(questions) / 2
    assert all(1 <= q.weight <= 3 for q in questions)


@pytest.mark.parametrize("path", shipped_bank_paths(), ids=lambda p: p.name)
def test_shipped_banks_round_trip(path):
    bank = load_bank_file(path)
    assert load_bank_text(dump_bank(bank), source_name="again.yaml") == bank


# --------------------------------------------------------------------------- parsing


def test_parse_fills_effective_options_and_defaults():
    bank = single_bank(
        question("qa"),
        question("qb", "yes_no_partial"),
        question("qc", "maturity"),
        question("qd", "text"),
        question("qe", "number"),
    )
    a, b, c, d, e = bank.questions
    assert a.options == YES_NO_OPTIONS and b.options == YES_NO_PARTIAL_OPTIONS
    assert c.options == DEFAULT_MATURITY_SCALE
    assert [o.key for o in c.options] == ["0", "1", "2", "3", "4", "5"]
    assert c.options[5].label == "5 - Optimising" and c.options[5].score == 1.0
    assert (d.max_length, e.max_length, d.options) == (5000, None, ())
    assert (a.weight, a.required, a.critical) == (1.0, True, False)
    assert (a.evidence_required, a.allow_na) == (False, False)
    assert [q.position for q in bank.questions] == [0, 1, 2, 3, 4]
    assert all(q.section_key == "main" for q in bank.questions)


def test_unscored_maturity_scale_gets_even_scores():
    levels = [{"key": k, "label": k.title()} for k in ("low", "mid", "high")]
    bank = single_bank(question("mm", "maturity", options=levels))
    assert [o.score for o in bank.questions[0].options] == [0.0, 0.5, 1.0]


def test_bank_lookups():
    bank = parse_bank(base_data(), source_name="demo.yaml")
    assert [q.key for q in bank.questions] == ["q1", "q2", "q3", "q4"]
    assert bank.question("q3").section_key == "s2" and bank.question("q3").position == 0
    assert bank.section("s2").position == 1
    with pytest.raises(NotFound):
        bank.question("nope")
    with pytest.raises(NotFound):
        bank.section("nope")


def test_equals_on_multi_choice_is_refused():
    follow_up = question("q2", condition={"question": "q1", "equals": "a"})
    with pytest.raises(
        ValidationError, match=r"questions\[1\] \(key 'q2'\)\.condition: use 'any_of'"
    ):
        single_bank(choice("q1", "multi_choice"), follow_up)


def test_condition_values_are_normalised():
    on_date = {"question": "dd", "equals": dt.date(2025, 1, 31)}  # what unquoted YAML dates become
    bank = single_bank(
        question("dd", "date"),
        question("tt", "text", condition=on_date),
        choice("mm", "multi_choice"),
        question("uu", condition={"question": "mm", "any_of": ["a", "c"]}),
    )
    assert bank.question("tt").condition == Condition("dd", "equals", ("2025-01-31",))
    assert bank.question("uu").condition == Condition("mm", "any_of", ("a", "c"))


def test_round_trip_of_every_feature():
    levels = [{"key": "low", "label": "Low"}, {"key": "high", "label": "High"}]
    questions = [
        question("yn", weight=3, critical=True, evidence_required=True, allow_na=True, help="h"),
        question(
            "ynp", "yes_no_partial", required=False, condition={"question": "yn", "equals": "yes"}
        ),
        question(
            "mat",
            "maturity",
            options=levels,
            condition={"question": "ynp", "in": ["yes", "partial"]},
        ),
        choice("multi", "multi_choice"),
        choice("one", condition={"question": "multi", "any_of": ["b"]}),
        question("num", "number", min=-1.5, max=10),
        question("txt", "text", max_length=12),
        question("day", "date", condition={"question": "num", "in": [1, 2.5]}),
    ]
    data = {
        "key": "full.bank",
        "version": 3,
        "title": "Full",
        "description": "D",
        "source": "S",
        "licence": "L",
        "sections": [
            {"key": "s1", "title": "S1", "description": "x", "weight": 2.5, "questions": questions}
        ],
    }
    bank = parse_bank(data, source_name="full.yaml")
    text = dump_bank(bank)
    assert load_bank_text(text, source_name="full.yaml") == bank
    assert "yes_no_partial" in text and "score" in text and "5000" not in text


# Paths into base_data(): Q1/Q2 are in section 0, Q3/Q4 in section 1.
Q1, Q2, Q3 = "sections.0.questions.0", "sections.0.questions.1", "sections.1.questions.0"
TWO_OPTS = [{"key": "y", "label": "Y"}] * 2
MIXED_LEVELS = [{"key": "x", "label": "X", "score": 0}, {"key": "y", "label": "Y"}]

MALFORMED = [
    (
        "unknown type",
        f"{Q3}.type",
        "multiple",
        ["sections[1].questions[0] (key 'q3'): unknown question type 'multiple'"],
    ),
    (
        "duplicate question key",
        f"{Q3}.key",
        "q1",
        ["sections[1].questions[0] (key 'q1'): duplicate question key 'q1'"],
    ),
    (
        "duplicate section key",
        "sections.1.key",
        "s1",
        ["sections[1] (key 's1'): duplicate section key"],
    ),
    (
        "option without score",
        f"{Q2}.options.0.score",
        DELETE,
        ["(key 'q2').options[0]: missing required field 'score'"],
    ),
    ("option score above 1", f"{Q2}.options.0.score", 1.5, ["options[0]", "between 0 and 1"]),
    ("duplicate option key", f"{Q2}.options.1.key", "a", ["(key 'q2'): duplicate option key 'a'"]),
    (
        "only one option",
        f"{Q2}.options",
        [{"key": "a", "label": "A", "score": 1}],
        ["(key 'q2'): 'options' needs at least 2"],
    ),
    (
        "choice without options",
        f"{Q2}.options",
        DELETE,
        ["(key 'q2'): a single_choice question needs"],
    ),
    (
        "options on yes_no",
        f"{Q1}.options",
        TWO_OPTS,
        ["(key 'q1'): a yes_no question takes no 'options'"],
    ),
    (
        "condition on unknown question",
        f"{Q3}.condition",
        {"question": "nope", "equals": "yes"},
        ["(key 'q3').condition: refers to question 'nope', which does not exist"],
    ),
    (
        "condition on later question",
        f"{Q1}.condition",
        {"question": "q3", "equals": 1},
        ["sections[0].questions[0] (key 'q1').condition", "comes later"],
    ),
    (
        "condition value not an option",
        f"{Q2}.condition",
        {"question": "q1", "equals": "maybe"},
        ["(key 'q2').condition: 'maybe' is not a valid answer to question 'q1'"],
    ),
    (
        "unquoted yes in condition",
        f"{Q2}.condition",
        {"question": "q1", "equals": True},
        ["True is not a valid answer", "quote"],
    ),
    (
        "condition with two operators",
        f"{Q2}.condition",
        {"question": "q1", "equals": "yes", "in": ["no"]},
        ["exactly one of"],
    ),
    (
        "any_of on yes_no",
        f"{Q2}.condition",
        {"question": "q1", "any_of": ["yes"]},
        ["use 'equals' or 'in'"],
    ),
    (
        "condition in empty list",
        f"{Q2}.condition",
        {"question": "q1", "in": []},
        ["'in' needs a non-empty list"],
    ),
    (
        "min > max",
        Q3,
        question("q3", "number", min=10, max=5),
        ["(key 'q3'): min (10) is greater than max (5)"],
    ),
    ("min on text", Q3, question("q3", "text", min=1), ["'min' is only allowed on number"]),
    (
        "max_length on number",
        Q3,
        question("q3", "number", max_length=5),
        ["'max_length' is only allowed on text"],
    ),
    ("unknown question field", f"{Q1}.wieght", 2, ["(key 'q1'): unknown field 'wieght'"]),
    ("unknown bank field", "titel", "x", ["bank: unknown field 'titel'"]),
    ("missing title", "title", DELETE, ["bank: missing required field 'title'"]),
    ("missing question text", f"{Q1}.text", DELETE, ["(key 'q1'): missing required field 'text'"]),
    ("bad bank key", "key", "Demo Bank", ["bank: key 'Demo Bank' must match"]),
    (
        "bad question key",
        f"{Q1}.key",
        "Q_1",
        ["sections[0].questions[0] (key 'Q_1'): key 'Q_1' must match"],
    ),
    ("numeric section key", "sections.0.key", 12, ["sections[0]: key 12 must match"]),
    ("question weight 0", f"{Q1}.weight", 0, ["(key 'q1'): 'weight' must be a number > 0"]),
    ("negative section weight", "sections.1.weight", -2, ["sections[1] (key 's2'): 'weight'"]),
    ("bool weight", "sections.1.weight", True, ["'weight' must be a number"]),
    ("version 0", "version", 0, ["'version' must be an integer >= 1"]),
    ("string version", "version", "1", ["'version' must be an integer"]),
    ("question text too long", f"{Q1}.text", "x" * 2001, ["'text' is longer than 2000"]),
    ("required not a bool", f"{Q1}.required", "yes", ["'required' must be true or false"]),
    ("no sections", "sections", [], ["'sections' must be a non-empty list"]),
    ("section without questions", "sections.1.questions", [], ["(key 's2'): 'questions' must be"]),
    ("question not a mapping", Q1, "q1", ["sections[0].questions[0]: expected a mapping"]),
    (
        "mixed maturity scores",
        Q1,
        question("q1", "maturity", options=MIXED_LEVELS),
        ["every maturity option or on none"],
    ),
]


@pytest.mark.parametrize(
    "path, value, expected", [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED]
)
def test_malformed_bank_is_refused_precisely(path, value, expected):
    with pytest.raises(ValidationError) as info:
        parse_bank(mutated(path, value), source_name="bad.yaml")
    message = str(info.value)
    assert message.startswith("bad.yaml: ")
    for fragment in expected:
        assert fragment in message


MALFORMED_YAML = [
    (
        "unclosed bracket",
        "key: demo\nversion: 1\ntitle: [oops\nsections: []\n",
        ["bad.yaml: line 4", "invalid YAML"],
    ),
    ("bad indentation", "key: demo\n  version: 1\n", ["bad.yaml: line 2", "invalid YAML"]),
    (
        "duplicate mapping key",
        "key: demo\ntitle: A\ntitle: B\n",
        ["line 3, column 1", "duplicate key 'title'"],
    ),
    ("top level is a list", "- a\n- b\n", ["top level must be a mapping"]),
    ("empty document", "", ["top level must be a mapping"]),
]


@pytest.mark.parametrize(
    "text, expected", [c[1:] for c in MALFORMED_YAML], ids=[c[0] for c in MALFORMED_YAML]
)
def test_malformed_yaml_reports_location(text, expected):
    with pytest.raises(ValidationError) as info:
        load_bank_text(text, source_name="bad.yaml")
    for fragment in expected:
        assert fragment in str(info.value)


printable = st.text(min_size=1, max_size=120).filter(str.strip)
# A label that is also a condition value must be a valid text answer: no hidden characters.
answerable = printable.filter(lambda t: hidden_character(t, multiline=True) is None)


@given(printable, answerable)
def test_any_text_survives_a_round_trip(text, label):
    options = [{"key": "a", "label": label, "score": 1 / 3}, {"key": "b", "label": "B", "score": 1}]
    bank = single_bank(
        question("qx", "text", help=text),
        question(
            "qy",
            "single_choice",
            text=text,
            options=options,
            condition={"question": "qx", "equals": label},
        ),
    )
    assert load_bank_text(dump_bank(bank), source_name="again.yaml") == bank


def test_yaml_merge_keys_are_not_duplicates():
    text = (
        "key: demo\nversion: 1\ntitle: T\nsections:\n- key: s1\n  title: S\n  questions:\n"
        "  - &q {key: q1, text: Q, type: yes_no}\n  - {<<: *q, key: q2}\n"
    )
    assert [q.key for q in load_bank_text(text, source_name="m.yaml").questions] == ["q1", "q2"]


def test_file_errors(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (2 * 1024 * 1024 + 1))
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    cases = (
        (big, "big.yaml: file is larger than 2 MB"),
        (binary, "binary.yaml: file is not UTF-8"),
        (tmp_path / "missing.yaml", "missing.yaml: cannot read"),
    )
    for path, fragment in cases:
        with pytest.raises(ValidationError, match=fragment):
            load_bank_file(path)


# --------------------------------------------------------------------------- answers

ANSWER_BANK = single_bank(
    question("yn"),
    question("ynp", "yes_no_partial", allow_na=True),
    question("mat", "maturity"),
    choice("one"),
    choice("many", "multi_choice"),
    question("num", "number", min=0, max=10),
    question("free", "number"),
    question("txt", "text", max_length=5),
    question("day", "date"),
)

GOOD_ANSWERS = [
    ("yn", "yes", False, "yes"),
    ("yn", "no", False, "no"),
    ("yn", None, False, None),
    ("ynp", "partial", False, "partial"),
    ("ynp", None, True, None),
    ("mat", "0", False, "0"),
    ("mat", "5", False, "5"),
    ("one", "b", False, "b"),
    ("many", ["c", "a"], False, ["a", "c"]),
    ("many", ("b",), False, ["b"]),
    ("num", 0, False, 0),
    ("num", 10, False, 10),
    ("num", 2.5, False, 2.5),
    ("free", -1e9, False, -1e9),
    ("txt", "hello", False, "hello"),
    ("txt", "   ", False, None),
    ("day", "2024-02-29", False, "2024-02-29"),
    ("day", dt.date(2025, 1, 2), False, "2025-01-02"),
]


@pytest.mark.parametrize("key, value, is_na, expected", GOOD_ANSWERS)
def test_valid_answers_are_normalised(key, value, is_na, expected):
    assert validate_answer(ANSWER_BANK.question(key), value, is_na) == expected


BAD_ANSWERS = [
    ("yn", "maybe", False, "not one of its options"),
    ("yn", True, False, "not one of its options"),
    ("yn", None, True, "cannot be answered N/A"),
    ("ynp", "yes", True, "N/A answer cannot have a value"),
    ("mat", 3, False, "not one of its options"),
    ("mat", "6", False, "not one of its options"),
    ("one", "z", False, "'z' is not one of its options"),
    ("one", ["a"], False, "not one of its options"),
    ("many", "a", False, "non-empty list"),
    ("many", [], False, "non-empty list"),
    ("many", ["a", "a"], False, "chosen twice"),
    ("many", ["a", "z"], False, "'z' is not one"),
    ("num", 11, False, "above the maximum"),
    ("num", -0.1, False, "below the minimum"),
    ("num", True, False, "needs a number"),
    ("num", "5", False, "needs a number"),
    ("free", float("nan"), False, "needs a number"),
    ("free", float("inf"), False, "needs a number"),
    ("txt", "toolong", False, "longer than 5"),
    ("txt", 5, False, "needs text"),
    ("day", "2024-02-30", False, "YYYY-MM-DD"),
    ("day", "2024-2-3", False, "YYYY-MM-DD"),
    ("day", "20240203", False, "YYYY-MM-DD"),
    ("day", dt.datetime(2024, 1, 1), False, "YYYY-MM-DD"),
    ("day", 20240101, False, "YYYY-MM-DD"),
]


@pytest.mark.parametrize("key, value, is_na, match", BAD_ANSWERS)
def test_invalid_answers_are_refused(key, value, is_na, match):
    with pytest.raises(ValidationError, match=match):
        validate_answer(ANSWER_BANK.question(key), value, is_na)


@given(st.text(max_size=12))
def test_text_answers_accept_exactly_up_to_max_length(text):
    question_ = ANSWER_BANK.question("txt")
    if len(text) <= 5 and hidden_character(text, multiline=True):
        with pytest.raises(ValidationError, match="; remove it"):
            validate_answer(question_, text, False)
    elif len(text) <= 5:
        assert validate_answer(question_, text, False) == (text if text.strip() else None)
    else:
        with pytest.raises(ValidationError):
            validate_answer(question_, text, False)


# --------------------------------------------------------------------------- visibility

VIS_BANK = single_bank(
    question("gate", allow_na=True),
    question("follow", "yes_no_partial", condition={"question": "gate", "equals": "yes"}),
    question("deep", condition={"question": "follow", "in": ["yes", "partial"]}),
    choice("pick", "multi_choice"),
    question("picked", "text", condition={"question": "pick", "any_of": ["a", "b"]}),
    question("count", "number"),
    question("counted", condition={"question": "count", "in": [1, 2]}),
)

VISIBILITY = [
    ("gate", {}, True),
    ("follow", {}, False),
    ("follow", {"gate": Answer("yes")}, True),
    ("follow", {"gate": Answer("no")}, False),
    ("follow", {"gate": Answer(None, is_na=True)}, False),
    ("deep", {"gate": Answer("yes"), "follow": Answer("partial")}, True),
    ("deep", {"gate": Answer("yes"), "follow": Answer("no")}, False),
    ("deep", {"gate": Answer("no"), "follow": Answer("yes")}, False),  # parent hidden hides child
    ("deep", {"follow": Answer("yes")}, False),
    ("picked", {"pick": Answer(["c", "b"])}, True),
    ("picked", {"pick": Answer(["c"])}, False),
    ("picked", {"pick": Answer([])}, False),
    ("counted", {"count": Answer(2.0)}, True),
    ("counted", {"count": Answer(3)}, False),
]


@pytest.mark.parametrize("key, answers, expected", VISIBILITY)
def test_is_visible(key, answers, expected):
    assert is_visible(VIS_BANK.question(key), answers, VIS_BANK) is expected


def test_dataclasses_are_frozen_and_hashable():
    bank = parse_bank(base_data(), source_name="demo.yaml")
    assert hash(bank) == hash(copy.deepcopy(bank))
    with pytest.raises(AttributeError):
        bank.title = "x"  # type: ignore[misc]
    assert Option("a", "A", None).score is None and Answer() == Answer(None, False)
