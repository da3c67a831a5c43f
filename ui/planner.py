"""The score planner on the Scores page (core.planner): pick answers to change and see the
projected scores at once, or let it find the cheapest way to a target. Nothing here changes a
stored answer or snapshot."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.banks.model import Answer
from core.explain import ScoreExplanation
from core.labels import answer_label
from core.planner import Change, best_answer, candidates, cheapest_plan, project, target_score

_TARGETS = {"Low risk band": "Low", "Medium risk band": "Medium", "High risk band": "High"}


def _answer_words(ex: ScoreExplanation, key: str, answer: Answer | None) -> str:
    if answer is None or answer.value is None:
        return "N/A" if answer is not None and answer.is_na else "Not answered"
    return answer_label(ex.bank.question(key), answer.value)


def _changes_table(ex: ScoreExplanation, changes: tuple[Change, ...] | list[Change]) -> None:
    rows = [
        {
            "Question": c.key,
            "Text": ex.bank.question(c.key).text,
            "Now": _answer_words(ex, c.key, ex.answers.get(c.key)),
            "Planned": _answer_words(ex, c.key, c.answer),
            "Points": c.gain,
        }
        for c in changes
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={"Points": st.column_config.NumberColumn("Points", format="+%.2f")},
    )


def _target(aid: int) -> float | str:
    left, right = st.columns([2, 1])
    choice = left.radio("Target", [*_TARGETS, "A score"], horizontal=True, key=f"plan{aid}:target")
    if choice == "A score":
        return float(
            right.number_input("Target score", 0.0, 100.0, 80.0, step=1.0, key=f"plan{aid}:score")
        )
    return _TARGETS[choice]


def planner_section(ex: ScoreExplanation) -> None:
    """The planner for one assessment's live answers."""
    st.subheader("Plan the next cycle")
    st.caption(
        "Try answers you plan to change and see the scores they would give. Nothing here changes "
        "the assessment's answers or its score history."
    )
    if ex.result.overall is None:
        st.info("Nothing to plan yet: no answered question is scored.", icon=":material/info:")
        return
    target = _target(ex.assessment_id)
    goal = target_score(target, ex.bands)
    pool = candidates(ex.bank, ex.answers)
    labels = {c.key: f"{c.key}: {ex.bank.question(c.key).text[:80]}" for c in pool}
    picked = st.multiselect(
        "Answers you plan to raise to their best",
        list(labels),
        format_func=labels.get,
        key=f"plan{ex.assessment_id}:picked",
        placeholder="Choose questions that cost points",
    )
    planned = {
        key: answer for key in picked if (answer := best_answer(ex.bank.question(key))) is not None
    }
    projected = project(ex.bank, ex.answers, planned, ex.bands)
    now, then = ex.result.overall, projected.overall or 0.0
    c1, c2, c3 = st.columns(3)
    c1.metric("Projected score", f"{then:.1f}", delta=f"{then - now:+.1f}" if planned else None)
    c2.metric("Projected band", projected.band or "—")
    c3.metric("Distance to the target", "Reached" if then >= goal else f"{goal - then:.1f} points")

    st.markdown("**Cheapest way to the target**")
    plan = cheapest_plan(ex.bank, ex.answers, target, ex.bands)
    if plan is None:
        st.warning(
            "No set of changes reaches this target: even every question at its best answer "
            "falls short (a question whose answer shows or hides scored questions is left out).",
            icon=":material/block:",
        )
    elif not plan.changes:
        st.success("The answers as they stand reach this target.", icon=":material/check_circle:")
    else:
        st.caption(
            f"{len(plan.changes)} changes give {plan.projected.overall or 0.0:.1f} "
            f"({plan.projected.band} band); no smaller set of changes reaches the target."
        )
        _changes_table(ex, plan.changes)
