"""Bad answers are refused with a clear message and write nothing (SQLite and PostgreSQL)."""

import pytest
from sqlalchemy import func, select

from core import assessments, db, responses, submission
from core.banks.store import load_bank
from core.errors import AccessDenied, NotFound, ValidationError
from core.models import AuditLog, QuestionnaireResponse
from core.responses import AnswerInput
from tests.factories import baseline_id, make_actor, make_org, make_product

BAD = [
    ("gov-policy", AnswerInput(value="maybe"), ValidationError, "not one of its options"),
    ("gov-policy", AnswerInput(value=True), ValidationError, "not one of its options"),
    ("gov-policy", AnswerInput(value=None, is_na=True), ValidationError, "cannot be answered N/A"),
    ("gov-policy-review", AnswerInput(value="2026-02-30"), ValidationError, "YYYY-MM-DD"),
    ("no-such-question", AnswerInput(value="yes"), NotFound, "not in bank"),
    (
        "gov-policy",
        AnswerInput(value="yes", justification="x" * 5001),
        ValidationError,
        "justification",
    ),
]


@pytest.fixture
def open_assessment(db_url):
    org = make_org(db_url)
    client = make_actor(db_url, "client", org)
    with db.transaction(db_url) as s:
        a = assessments.start_assessment(
            s, client, product_id=make_product(db_url, client), questionnaire_id=baseline_id(db_url)
        )
    return db_url, client, a.id


def _written(url):
    with db.reading(url) as s:
        return (
            s.scalar(select(func.count()).select_from(QuestionnaireResponse)),
            s.scalar(select(func.count()).select_from(AuditLog)),
        )


@pytest.mark.parametrize(
    "question, answer, error, message", BAD, ids=[f"{q}-{m.split()[0]}" for q, _, _, m in BAD]
)
def test_bad_answer_is_refused_and_nothing_is_written(
    open_assessment, question, answer, error, message
):
    url, client, aid = open_assessment
    before = _written(url)
    good = {"gov-owner": AnswerInput(value="yes")}
    with pytest.raises(error, match=message), db.transaction(url) as s:
        responses.save_answers(s, client, aid, {**good, question: answer})
    assert _written(url) == before


def _baseline(url):
    with db.reading(url) as s:
        return load_bank(s, baseline_id(url))


@pytest.mark.parametrize(
    "kind",
    [
        "number_over_max",
        "number_under_min",
        "text_too_long",
        "multi_unknown_option",
        "multi_empty_list",
        "hidden_question",
    ],
)
def test_type_specific_limits_are_enforced(open_assessment, kind):
    url, client, aid = open_assessment
    bank = _baseline(url)
    number = next(q for q in bank.questions if q.type == "number")
    text = next(q for q in bank.questions if q.type == "text")
    multi = next(q for q in bank.questions if q.type == "multi_choice" and q.condition is None)
    cases = {
        "number_over_max": ({number.key: AnswerInput(value=number.max + 1)}, "above the maximum"),
        "number_under_min": ({number.key: AnswerInput(value=number.min - 1)}, "below the minimum"),
        "text_too_long": (
            {text.key: AnswerInput(value="x" * (text.max_length + 1))},
            "longer than",
        ),
        "multi_unknown_option": (
            {multi.key: AnswerInput(value=["nope"])},
            "not one of its options",
        ),
        "multi_empty_list": ({multi.key: AnswerInput(value=[])}, "non-empty list"),
        "hidden_question": (
            {
                "gov-policy": AnswerInput(value="no"),
                "gov-policy-review": AnswerInput(value="2026-01-01"),
            },
            "hidden",
        ),
    }
    answers, message = cases[kind]
    before = _written(url)
    with pytest.raises(ValidationError, match=message), db.transaction(url) as s:
        responses.save_answers(s, client, aid, answers)
    assert _written(url) == before


def test_another_organisation_cannot_submit(open_assessment):
    url, _client, aid = open_assessment
    rival = make_actor(url, "client", make_org(url, "Rival"), username="rival")
    before = _written(url)
    with pytest.raises(AccessDenied), db.transaction(url) as s:
        submission.submit(s, rival, aid)
    assert _written(url) == before
