"""Score explanations without a database: section and lost-point frames, snapshot movement, charts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import charts
from core.banks import Bank, parse_bank
from core.explain import (
    NO_QUESTION_SCORES,
    Snapshot,
    history_frame,
    lost_points_frame,
    movement_frame,
    section_frame,
)
from core.scoring import Answer, score_assessment
from core.snapshots import stored_scores

TOL = 1e-9
NA = Answer(None, is_na=True)


def q(key: str, qtype: str = "yes_no", **extra: object) -> dict:
    """A question dict; choice types get options a=0, b=0.25, c=0.5, d=1."""
    data = {"key": key, "text": f"{key}?", "type": qtype, **extra}
    if qtype in ("single_choice", "multi_choice"):
        data["options"] = [
            {"key": k, "label": k, "score": s}
            for k, s in (("a", 0), ("b", 0.25), ("c", 0.5), ("d", 1))
        ]
    return data


def bank(*sections: dict) -> Bank:
    """A parsed bank of the given section dicts."""
    data = {"key": "explain-bank", "version": 1, "title": "Explain", "sections": list(sections)}
    return parse_bank(data, source_name="explain.yaml")


def sec(key: str, *questions: dict, weight: float = 1) -> dict:
    """A section dict."""
    return {"key": key, "title": key.title(), "weight": weight, "questions": list(questions)}


SMALL = bank(
    sec(
        "gov",
        q("gate"),
        q(
            "follow",
            "yes_no_partial",
            allow_na=True,
            weight=3,
            condition={"question": "gate", "equals": "yes"},
        ),
        q("mat", "maturity", critical=True),
        weight=2,
    ),
    sec(
        "ops",
        q("one", "single_choice", weight=0.5),
        q("many", "multi_choice", allow_na=True),
        q("num", "number"),
    ),
    sec("notes", q("txt", "text", required=False)),
)


def snapshot(bank_: Bank, given: dict[str, Answer], ident: int = 1) -> Snapshot:
    """A snapshot as the database gives it back (stored scores through JSON)."""
    result = score_assessment(bank_, given)
    stored = json.loads(json.dumps(stored_scores(bank_, given, result)))
    return Snapshot(
        id=ident,
        assessment_id=1,
        cycle=1,
        time=datetime(2026, 1, ident),
        overall=result.overall,
        band=result.band,
        completion=result.completion,
        trigger="submit",
        sections=dict(result.sections),
        formula_version=result.formula_version,
        question_scores=stored,
        label=f"snap {ident}",
    )


# --------------------------------------------------------------------------- frames


def test_section_frame_lists_every_section_with_no_score_as_none():
    result = score_assessment(
        SMALL,
        {
            "gate": Answer("yes"),
            "follow": Answer("partial"),
            "mat": Answer("5"),
            "one": Answer("b"),
        },
    )
    frame = section_frame(SMALL, result)
    assert list(frame["key"]) == ["gov", "ops", "notes"]
    gov, ops, notes = (frame.iloc[i] for i in range(3))
    assert gov["score"] == pytest.approx(100 * (1 + 3 * 0.5 + 1) / 5) and gov["answered"] == 3
    assert gov["weight"] == 2 and gov["band"] == "Medium"
    assert (
        ops["score"] == pytest.approx(25.0) and ops["answered"] == 1 and ops["band"] == "Critical"
    )
    assert pd.isna(notes["score"]) and notes["answered"] == 0 and pd.isna(notes["band"])


def test_section_frame_uses_the_bands_given():
    result = score_assessment(
        SMALL, {"gate": Answer("yes"), "follow": Answer("yes"), "mat": Answer("5")}
    )
    assert (
        section_frame(SMALL, result, ((101.0, "Low"), (100.0, "Medium"), (1.0, "High")))["band"][0]
        == "Medium"
    )


def test_lost_points_frame_orders_by_loss_and_omits_full_marks():
    given = {
        "gate": Answer("yes"),
        "follow": Answer("no"),
        "mat": Answer("3"),
        "one": Answer("d"),
        "many": Answer(["a"]),
    }
    frame = lost_points_frame(SMALL, score_assessment(SMALL, given))
    assert list(frame.columns) == ["question", "text", "section", "weight", "score", "points_lost"]
    assert list(frame["question"]) == ["follow", "many", "mat"]
    # gov carries 2/3 of 100 points; follow is 3/5 of gov and scored 0.
    assert frame["points_lost"][0] == pytest.approx(200 / 3 * 3 / 5)
    assert frame.iloc[0][["text", "section", "weight", "score"]].tolist() == [
        "follow?",
        "Gov",
        3,
        0,
    ]
    assert len(lost_points_frame(SMALL, score_assessment(SMALL, given), top=2)) == 2


def test_lost_points_frame_is_empty_without_scored_answers():
    assert lost_points_frame(SMALL, score_assessment(SMALL, {"num": Answer(3)})).empty


# --------------------------------------------------------------------------- movement


def test_movement_names_the_questions_that_moved_and_sums_to_the_change():
    before = snapshot(SMALL, {"gate": Answer("no"), "mat": Answer("5"), "one": Answer("d")})
    after = snapshot(
        SMALL,
        {"gate": Answer("yes"), "follow": Answer("yes"), "mat": Answer("5"), "one": Answer("d")},
        2,
    )
    frame = movement_frame(SMALL, before, after)
    assert list(frame.columns) == ["question", "text", "section", "before", "after", "change"]
    assert set(frame["question"]) == {
        "gate",
        "follow",
        "mat",
    }  # mat's share shrank: follow appeared
    follow = frame.set_index("question").loc["follow"]
    assert pd.isna(follow["before"]) and follow["after"] == 1.0 and follow["section"] == "Gov"
    assert abs(frame["change"].sum() - (after.overall - before.overall)) <= TOL
    assert list(frame["change"].abs()) == sorted(frame["change"].abs(), reverse=True)


def test_identical_snapshots_move_nothing():
    row = snapshot(SMALL, {"gate": Answer("yes"), "follow": Answer("partial")})
    assert movement_frame(SMALL, row, replace(row, id=2)).empty


@pytest.mark.parametrize("stored", [None, {}, {"scores": {}}])
def test_snapshots_without_question_scores_give_an_empty_frame_that_says_so(stored):
    row = snapshot(SMALL, {"gate": Answer("yes")})
    old = replace(row, question_scores=stored)
    for pair in ((old, row), (row, old)):
        frame = movement_frame(SMALL, *pair)
        assert frame.empty and frame.attrs["note"] == NO_QUESTION_SCORES


def test_stored_scores_keep_visible_questions_only():
    given = {"gate": Answer("no"), "follow": Answer("yes"), "many": NA}
    stored = stored_scores(SMALL, given, score_assessment(SMALL, given))
    assert "follow" not in stored["scores"]  # hidden by gate = no
    assert stored["scores"]["many"] is None and stored["scores"]["txt"] is None
    assert set(stored["contributions"]) == {"gate"}


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, Answer]:
    """Random valid answers to SMALL: some missing, some N/A where allowed."""
    result = {}
    for question in SMALL.questions:
        keys = [o.key for o in question.options]
        if question.type == "multi_choice":
            value = st.lists(st.sampled_from(keys), min_size=1, unique=True)
        elif question.type == "number":
            value = st.integers(0, 9)
        elif question.type == "text":
            value = st.just("notes")
        else:
            value = st.sampled_from(keys)
        kinds = [st.none(), value.map(Answer)] + ([st.just(NA)] if question.allow_na else [])
        answer = draw(st.one_of(kinds))
        if answer is not None:
            result[question.key] = answer
    return result


@given(answer_sets(), answer_sets())
@settings(max_examples=300)
def test_movement_contributions_sum_to_the_overall_difference(first, second):
    before, after = snapshot(SMALL, first), snapshot(SMALL, second, 2)
    frame = movement_frame(SMALL, before, after)
    difference = (after.overall or 0.0) - (before.overall or 0.0)
    assert abs(frame["change"].sum() - difference) <= TOL
    assert (frame["change"] != 0).all()
    reverse = movement_frame(SMALL, after, before)
    assert abs(reverse["change"].sum() + difference) <= TOL


# --------------------------------------------------------------------------- charts


def _movement_example() -> tuple[Snapshot, Snapshot, pd.DataFrame]:
    before = snapshot(SMALL, {"gate": Answer("no"), "mat": Answer("1"), "one": Answer("a")})
    after = snapshot(
        SMALL,
        {
            "gate": Answer("yes"),
            "follow": Answer("partial"),
            "mat": Answer("4"),
            "one": Answer("c"),
            "many": Answer(["b", "c"]),
        },
        2,
    )
    return before, after, movement_frame(SMALL, before, after)


@pytest.mark.parametrize("top", [15, 2])
def test_waterfall_starts_at_before_and_its_steps_reach_after(top):
    before, after, frame = _movement_example()
    trace = charts.waterfall_figure(frame, before.overall, after.overall, top=top).data[0]
    assert trace.type == "waterfall" and trace.x[0] == "Before" and trace.x[-1] == "After"
    assert trace.measure[0] == "absolute" and trace.measure[-1] == "total"
    assert trace.y[0] == before.overall
    assert abs(trace.y[0] + sum(trace.y[1:-1]) - after.overall) <= TOL
    assert len(trace.x) == 2 + min(top, len(frame)) + (len(frame) > top)
    assert all("points" in text for text in trace.customdata[1:-1])


def test_section_lost_and_history_figures_build_from_frames():
    given = {"gate": Answer("yes"), "follow": Answer("no"), "mat": Answer("3")}
    result = score_assessment(SMALL, given)
    bars = charts.section_scores_figure(section_frame(SMALL, result)).data[0]
    assert list(bars.y) == ["Gov", "Ops", "Notes"] and bars.marker.color[1] == charts.NO_BAND_COLOUR
    assert charts.lost_points_figure(lost_points_frame(SMALL, result)).data[0].y[0] == "follow"
    rows = [
        Snapshot(
            id=i,
            assessment_id=1 + i // 2,
            cycle=1 + i // 2,
            time=pd.Timestamp("2026-01-01") + pd.Timedelta(days=i),
            overall=50.0 + i,
            band="High",
            completion=1.0,
            trigger="submit",
            sections={},
            formula_version="",
            question_scores=None,
            label=f"snap {i}",
        )
        for i in range(4)
    ]
    figure = charts.score_history_figure(history_frame(rows))
    assert [t.name for t in figure.data] == ["Cycle 1", "Cycle 2"]
