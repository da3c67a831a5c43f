"""An answer reads the same on the review card as in the shared words (core.labels.answer_label):
option labels as the question type describes them, dates in the one date format."""

from __future__ import annotations

import pytest

from core.banks import parse_bank
from core.labels import answer_label, format_date
from core.responses import StoredAnswer
from ui.review import answer_text

OPTIONS = [
    {"key": "a", "label": "Annual *review*", "score": 0},
    {"key": "b", "label": "Quarterly", "score": 1},
]
BANK = parse_bank(
    {
        "key": "answers",
        "version": 1,
        "title": "Answers",
        "sections": [
            {
                "key": "s1",
                "title": "S",
                "questions": [
                    {"key": "yn", "text": "Yes?", "type": "yes_no"},
                    {"key": "one", "text": "One?", "type": "single_choice", "options": OPTIONS},
                    {"key": "many", "text": "Many?", "type": "multi_choice", "options": OPTIONS},
                    {"key": "num", "text": "Number?", "type": "number"},
                    {"key": "txt", "text": "Text?", "type": "text"},
                    {"key": "day", "text": "When?", "type": "date"},
                ],
            }
        ],
    },
    source_name="answers.yaml",
)


def _stored(value: object, is_na: bool = False) -> StoredAnswer:
    return StoredAnswer(value, is_na, justification="", review_state="pending", score=None)


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("yn", "yes", "Yes"),
        ("one", "a", "Annual *review*"),
        ("many", ["b", "a"], "Quarterly; Annual *review*"),
        ("num", 7, "7"),
        ("txt", "MFA for **all** staff", "MFA for **all** staff"),
        ("day", "2026-12-01", "1 Dec 2026"),
    ],
)
def test_an_answer_reads_as_its_question_type_describes_it(key, value, words):
    assert answer_label(BANK.question(key), value) == words


def test_a_date_answer_reads_in_the_one_date_format_on_the_review_card():
    shown = answer_text(BANK.question("day"), _stored("2026-12-01"))
    assert shown == format_date("2026-12-01") == "1 Dec 2026"


@pytest.mark.parametrize(
    "key, value, shown",
    [
        ("one", "a", r"Annual \*review\*"),
        ("many", ["b", "a"], r"Quarterly\; Annual \*review\*"),
        ("txt", "line one\nline two", "line one  \nline two"),
    ],
)
def test_the_review_card_escapes_the_shared_words(key, value, shown):
    assert answer_text(BANK.question(key), _stored(value)) == shown


@pytest.mark.parametrize(
    "stored, shown",
    [
        (None, "_not answered_"),
        (_stored(None), "_not answered_"),
        (_stored(None, is_na=True), "Not applicable"),
    ],
)
def test_missing_and_not_applicable_answers_say_so(stored, shown):
    assert answer_text(BANK.question("day"), stored) == shown
