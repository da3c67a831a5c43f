"""The crosswalk's credit rules (core/mappings/credit.py), as tables: each relationship against
each answer kind, the weakest-answer rule with several sources, and answers crossing types."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.banks.model import Answer
from core.banks.yaml_io import load_bank_text
from core.mappings.credit import CARRIES, PROPOSES, Link, credit, score_of, translate
from core.models import RELATIONSHIPS

SOURCE = load_bank_text(
    """
key: source-bank
version: 1
title: Source
sections:
  - key: src
    title: S
    questions:
      - {key: yn, text: "Yes or no?", type: yes_no, allow_na: true}
      - {key: ynp, text: "Yes, partly or no?", type: yes_no_partial, allow_na: true}
      - key: mat
        text: "How mature?"
        type: maturity
        options:
          - {key: partial, label: Partial}
          - {key: risk-informed, label: Risk Informed}
          - {key: repeatable, label: Repeatable}
          - {key: adaptive, label: Adaptive}
      - {key: txt, text: "Describe", type: text, required: false}
      - {key: txt2, text: "Describe again", type: text, required: false}
      - {key: num, text: "How many?", type: number, required: false}
""",
    source_name="source.yaml",
)
TARGET = load_bank_text(
    """
key: target-bank
version: 1
title: Target
sections:
  - key: tgt
    title: T
    questions:
      - {key: t-ynp, text: "Yes, partly or no?", type: yes_no_partial, allow_na: true}
      - {key: t-yn, text: "Yes or no?", type: yes_no}
      - {key: t-txt, text: "Describe", type: text, required: false}
      - {key: t-date, text: "When?", type: date, required: false}
""",
    source_name="target.yaml",
)
KIND = dict.fromkeys(CARRIES, "carried") | dict.fromkeys(PROPOSES, "proposed")


def _credit(links: list[tuple[str, str, str]], answers: dict[str, Answer]):
    return credit(SOURCE, answers, TARGET, [Link(*link) for link in links])


def test_every_oscal_relationship_has_a_rule():
    assert set(RELATIONSHIPS) == CARRIES | PROPOSES | {"no-relationship"}
    assert not CARRIES & PROPOSES


@pytest.mark.parametrize("relationship", RELATIONSHIPS)
@pytest.mark.parametrize(
    ("source", "answer", "target", "expected"),
    [
        ("ynp", Answer("yes"), "t-ynp", Answer("yes")),
        ("ynp", Answer("partial"), "t-ynp", Answer("partial")),
        ("ynp", Answer(None, True), "t-ynp", Answer(None, True)),
        ("ynp", Answer("partial"), "t-yn", Answer("no")),  # yes/no has nothing at 0.5
        ("yn", Answer(None, True), "t-yn", None),  # the target cannot be N/A
        ("mat", Answer("adaptive"), "t-ynp", Answer("yes")),
        ("mat", Answer("repeatable"), "t-ynp", Answer("partial")),
        ("mat", Answer("risk-informed"), "t-ynp", Answer("no")),
        ("txt", Answer("Our runbook, section 4."), "t-txt", Answer("Our runbook, section 4.")),
        ("txt", Answer("2025-01-01"), "t-date", None),  # unscored answers keep their type
        ("num", Answer(4), "t-ynp", None),
        ("ynp", Answer(None), "t-ynp", None),  # nothing answered, nothing carried
    ],
)
def test_relationship_by_answer_kind(relationship, source, answer, target, expected):
    got = _credit([(source, target, relationship)], {source: answer}).get(target)
    if relationship == "no-relationship" or expected is None:
        assert got is None
        return
    assert got is not None
    assert (got.answer, got.kind) == (expected, KIND[relationship])
    assert [s.question for s in got.sources] == [source]


@pytest.mark.parametrize(
    ("answers", "relationships", "expected", "kind"),
    [
        (
            {"yn": "yes", "ynp": "partial", "mat": "adaptive"},
            ("equal-to",) * 3,
            "partial",
            "carried",
        ),
        ({"yn": "no", "ynp": "yes", "mat": "adaptive"}, ("superset-of",) * 3, "no", "carried"),
        # one proposing source makes the whole answer a proposal, still the weakest
        (
            {"yn": "yes", "ynp": "yes", "mat": "repeatable"},
            ("equal-to", "equal-to", "subset-of"),
            "partial",
            "proposed",
        ),
        # a no-relationship link adds nothing, not even its weak answer
        (
            {"yn": "yes", "ynp": "yes", "mat": "partial"},
            ("equal-to", "equal-to", "no-relationship"),
            "yes",
            "carried",
        ),
    ],
)
def test_several_sources_give_the_weakest_answer(answers, relationships, expected, kind):
    links = [(k, "t-ynp", r) for k, r in zip(answers, relationships, strict=True)]
    got = _credit(links, {k: Answer(v) for k, v in answers.items()})["t-ynp"]
    assert (got.answer.value, got.kind) == (expected, kind)
    weakest_source = got.sources[0]
    crossed = translate(
        SOURCE.question(weakest_source.question), weakest_source.answer, TARGET.question("t-ynp")
    )
    assert crossed == got.answer  # the first source named is the one whose answer was taken


def test_not_applicable_only_when_every_source_is():
    both_na = {"yn": Answer(None, True), "ynp": Answer(None, True)}
    links = [("yn", "t-ynp", "equal-to"), ("ynp", "t-ynp", "equal-to")]
    assert _credit(links, both_na)["t-ynp"].answer == Answer(None, True)
    one_na = {"yn": Answer(None, True), "ynp": Answer("yes")}
    assert _credit(links, one_na)["t-ynp"].answer == Answer("yes")


def test_unscored_answers_cross_only_when_the_sources_agree():
    links = [("txt", "t-txt", "equal-to"), ("txt2", "t-txt", "equal-to")]
    agreed = _credit(links, {"txt": Answer("Runbook"), "txt2": Answer("Runbook")})
    assert agreed["t-txt"].answer == Answer("Runbook")
    assert "t-txt" not in _credit(links, {"txt": Answer("Runbook"), "txt2": Answer("Wiki")})


def test_links_to_unknown_questions_are_ignored():
    assert (
        _credit([("gone", "t-ynp", "equal-to"), ("yn", "gone", "equal-to")], {"yn": Answer("yes")})
        == {}
    )


OPTION_SOURCES = {
    "yn": ["yes", "no"],
    "ynp": ["yes", "partial", "no"],
    "mat": ["partial", "risk-informed", "repeatable", "adaptive"],
}


@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(OPTION_SOURCES)),
            st.sampled_from(RELATIONSHIPS),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda t: t[0],
    )
)
def test_never_better_than_any_contributing_source(picks):
    """The credited answer never scores above any contributing source's answer, and is
    carried only when every contributing link carries."""
    answers = {k: Answer(OPTION_SOURCES[k][i % len(OPTION_SOURCES[k])]) for k, _, i in picks}
    links = [(k, "t-ynp", r) for k, r, _ in picks]
    got = _credit(links, answers).get("t-ynp")
    contributing = [(k, r) for k, r, _ in picks if r != "no-relationship"]
    if not contributing:
        assert got is None
        return
    assert got is not None
    target = TARGET.question("t-ynp")
    got_score = score_of(target, got.answer)
    for key, _ in contributing:
        source_score = score_of(SOURCE.question(key), answers[key])
        assert got_score is not None and source_score is not None
        assert got_score <= source_score + 1e-9
    assert (got.kind == "carried") == all(r in CARRIES for _, r in contributing)
