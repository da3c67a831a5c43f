"""Every question type is one registered object with every part, and one input on the page.

A type that lacks a part (definition, validate, score, dump, describe, demo, a label or a
questionnaire input) fails here rather than silently in a branch somewhere else.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import fields

import pytest

from core.banks import QUESTION_TYPES, Answer, QuestionType, dump_bank, load_bank_text, parse_bank
from core.banks.answers import validate_answer
from core.labels import QUESTION_TYPE_LABELS, question_type_label
from core.scoring import answer_score
from ui.questionnaire import INPUTS

DATA_FIELDS = {"key", "label", "scored", "multiple"}
SCORED = [
    {"key": "a", "label": "A", "score": 0},
    {"key": "b", "label": "B", "score": 0.5},
    {"key": "c", "label": "C", "score": 1},
]
# One definition per type, as a bank file gives it; a new type needs one here.
EXAMPLES = {
    "yes_no": {},
    "yes_no_partial": {},
    "maturity": {},
    "date": {},
    "single_choice": {"options": SCORED},
    "multi_choice": {"options": SCORED},
    "number": {"min": 0, "max": 10},
    "text": {"max_length": 200},
}


def missing_parts(qtype: QuestionType) -> list[str]:
    """The parts of the type's contract that are not callable."""
    return [
        f.name
        for f in fields(qtype)
        if f.name not in DATA_FIELDS and not callable(getattr(qtype, f.name))
    ]


def one_question_bank(key: str):
    question = {"key": "q1", "text": "Question?", "type": key, **EXAMPLES[key]}
    return parse_bank(
        {
            "key": "types",
            "version": 1,
            "title": "Types",
            "sections": [{"key": "s1", "title": "S", "questions": [question]}],
        },
        source_name="types.yaml",
    )


def test_every_question_type_has_every_part_of_the_contract():
    for key, qtype in QUESTION_TYPES.items():
        assert qtype.key == key
        assert isinstance(qtype.label, str) and qtype.label.strip(), key
        assert isinstance(qtype.scored, bool) and isinstance(qtype.multiple, bool), key
        assert missing_parts(qtype) == [], key


def test_a_type_without_a_part_is_caught():
    broken = dataclasses.replace(QUESTION_TYPES["number"], demo=None, describe=None)
    assert missing_parts(broken) == ["describe", "demo"]


def test_every_question_type_has_one_input_on_the_questionnaire_page():
    assert list(INPUTS) == list(QUESTION_TYPES)
    for key, given in INPUTS.items():
        assert callable(given.draw) and callable(given.held), key


def test_every_question_type_has_a_label_people_read():
    assert QUESTION_TYPE_LABELS.keys() == QUESTION_TYPES.keys()
    assert question_type_label("multi_choice") == "Multiple choice"


def test_every_question_type_has_an_example_here():
    assert EXAMPLES.keys() == QUESTION_TYPES.keys()


@pytest.mark.parametrize("key", list(QUESTION_TYPES))
@pytest.mark.parametrize("quality", [0.0, 0.5, 1.0])
def test_a_demo_answer_round_trips_through_validate_score_describe_and_dump(key, quality):
    qtype, bank = QUESTION_TYPES[key], one_question_bank(key)
    question = bank.question("q1")
    value = validate_answer(question, qtype.demo(question, quality, random.Random(7)), False)
    assert value is not None
    assert validate_answer(question, value, False) == value
    score = answer_score(question, Answer(value))
    assert (0.0 <= score <= 1.0) if qtype.scored else score is None
    label = qtype.describe(question, value)
    assert isinstance(label, str) if question.options else label is None
    assert load_bank_text(dump_bank(bank), source_name="types.yaml") == bank
    INPUTS[key].held(value)  # the page can put the stored answer into its widget
