"""The score planner on the Scores page (core.planner, core.plans): pick answers to change, choose
the planned answer, and see the projected section and overall scores, the band and the distance
to the target at once; find the cheapest way to the target; save or clear the plan. Nothing here
changes a stored answer or snapshot."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.banks.model import Answer, Question
from core.explain import ScoreExplanation
from core.labels import answer_label, format_datetime, format_score
from core.planner import (
    TARGET_BANDS,
    Change,
    best_answer,
    candidates,
    cheapest_plan,
    describe_target,
    planned_changes,
    project,
    reaches,
    target_label,
    target_score,
)
from core.plans import PlannerStart, clear_plan, planner_start, save_plan
from core.scoring import ScoreResult
from core.text import md_escape
from ui.state import feedback, load, run_action
from ui.widgets import confirm_action

_SCORE = "A score"
_NA = "__na__"  # the N/A choice of a planned answer


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
            "Effort": c.effort,
        }
        for c in changes
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "Points": st.column_config.NumberColumn("Points", format="+%.2f"),
            "Effort": st.column_config.NumberColumn("Effort", format="%d"),
        },
    )


def _prefix(ex: ScoreExplanation, start: PlannerStart) -> str:
    """Widget keys: new ones whenever the saved plan changes, so the widgets start from it."""
    saved = start.saved
    return f"plan{ex.assessment_id}:{saved.updated_at.isoformat() if saved else 'none'}"


def _target(prefix: str, start: PlannerStart) -> float | str:
    choices = [*(target_label(b) for b in TARGET_BANDS), _SCORE]
    given = start.target
    index = TARGET_BANDS.index(given) if isinstance(given, str) else len(TARGET_BANDS)
    left, right = st.columns([2, 1])
    choice = left.radio("Target", choices, index=index, horizontal=True, key=f"{prefix}:target")
    if choice == _SCORE:
        default = 80.0 if isinstance(given, str) else float(given)
        score = right.number_input(
            "Target score", 0.0, 100.0, default, step=1.0, key=f"{prefix}:score"
        )
        return float(score)
    return TARGET_BANDS[choices.index(choice)]


def _plannable(ex: ScoreExplanation) -> list[str]:
    """Questions with a choice of answers, those that cost the most points first."""
    costly = [c.key for c in sorted(candidates(ex.bank, ex.answers), key=lambda c: -c.gain)]
    rest = [q.key for q in ex.bank.questions if q.options and q.key not in costly]
    return costly + rest


def _choices(question: Question) -> list[str]:
    return [o.key for o in question.options] + ([_NA] if question.allow_na else [])


def _planned_answer(question: Question, saved: Answer | None, key: str, label: str) -> Answer:
    """A widget for one question's planned answer: the saved plan's, else its best answer."""
    start = saved or best_answer(question) or Answer()
    words = {o.key: o.label for o in question.options} | {_NA: "N/A"}
    if question.type == "multi_choice":
        given = start.value if isinstance(start.value, list) else []
        options = [o.key for o in question.options]
        default = None if key in st.session_state else [g for g in given if g in options]
        chosen = st.multiselect(label, options, default=default, format_func=words.get, key=key)
        return Answer(chosen)
    choices = _choices(question)
    first = _NA if start.is_na else start.value
    value = st.selectbox(
        label,
        choices,
        index=None if key in st.session_state else choices.index(first) if first in choices else 0,
        format_func=lambda c: words.get(c, str(c)),
        key=key,
    )
    return Answer(is_na=True) if value == _NA else Answer(value)


def _pick(ex: ScoreExplanation, start: PlannerStart, prefix: str) -> dict[str, Answer]:
    keys = _plannable(ex)
    labels = {k: f"{k}: {ex.bank.question(k).text[:80]}" for k in keys}
    saved = start.saved.planned if start.saved else {}
    key = f"{prefix}:picked"
    picked = st.multiselect(
        "Answers you plan to change",
        keys,
        default=None if key in st.session_state else [k for k in saved if k in labels],
        format_func=labels.get,
        key=key,
        placeholder="Choose questions: those that cost the most points come first",
    )
    planned = {}
    for key in picked:
        question = ex.bank.question(key)
        left, right = st.columns([3, 2], vertical_alignment="bottom")
        left.markdown(f"**{md_escape(key)}** · {md_escape(question.text[:120])}")
        left.caption(f"Now: {md_escape(_answer_words(ex, key, ex.answers.get(key)))}")
        with right:
            planned[key] = _planned_answer(
                question, saved.get(key), f"{prefix}:answer:{key}", "Planned answer"
            )
    return planned


def _use(prefix: str, changes: tuple[Change, ...]) -> None:
    """Take the cheapest plan's changes as the planned answers (before the widgets are drawn)."""
    st.session_state[f"{prefix}:picked"] = [c.key for c in changes]
    for c in changes:
        value = c.answer.value
        st.session_state[f"{prefix}:answer:{c.key}"] = _NA if c.answer.is_na else value


def _metrics(ex: ScoreExplanation, projected: ScoreResult, target: float | str, any_: bool) -> None:
    now, then = ex.result.overall or 0.0, projected.overall or 0.0
    goal = target_score(target, ex.bands)
    if reaches(projected, target, ex.bands):
        distance = "Reached"
    elif then >= goal:
        distance = "Band held by a critical question"
    else:
        distance = f"{goal - then:.1f} points"
    c1, c2, c3 = st.columns(3)
    c1.metric("Projected score", f"{then:.1f}", delta=f"{then - now:+.1f}" if any_ else None)
    c2.metric("Projected band", projected.band or "—")
    c3.metric("Distance to the target", distance)


def _sections(ex: ScoreExplanation, projected: ScoreResult) -> None:
    rows = []
    for section in ex.bank.sections:
        before, after = ex.result.sections.get(section.key), projected.sections.get(section.key)
        if before is None and after is None:
            continue
        change = (after or 0.0) - (before or 0.0)
        rows.append(
            {
                "Section": section.title,
                "Score now": format_score(before, empty="No score"),
                "Projected score": format_score(after, empty="No score"),
                "Change": f"{change:+.1f}" if abs(change) >= 0.05 else "No change",
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _save_controls(ex: ScoreExplanation, start: PlannerStart, planned, target) -> None:
    aid = ex.assessment_id
    saved = start.saved
    if saved:
        st.caption(
            f"Saved plan: {len(saved.planned)} planned "
            f"answer{'' if len(saved.planned) == 1 else 's'} aiming at "
            f"{describe_target(saved.target)}, saved {format_datetime(saved.updated_at)} by "
            f"{md_escape(saved.updated_by)}. The next cycle can start from it, and the assessment report "
            "shows it."
        )
    if not start.may_save:
        return
    left, right = st.columns([1, 3])
    if left.button(
        "Save plan", icon=":material/save:", key=f"plan{aid}:save", disabled=not planned
    ):
        if run_action(
            lambda s, a: save_plan(s, a, aid, planned, target),
            success="Plan saved. Nothing in the assessment changed.",
            slot=f"plan{aid}:saved",
        ):
            st.rerun()
    feedback(f"plan{aid}:saved")
    if saved:
        with right:
            confirm_action(
                "Clear plan",
                "The saved plan is removed: the next cycle can no longer start from it and the "
                "report no longer shows it. The assessment's answers stay as they are.",
                lambda s, a: clear_plan(s, a, aid),
                success="Plan cleared.",
                key=f"plan{aid}:clear",
                icon=":material/delete:",
            )
    else:  # just cleared: the button is gone, its outcome is not
        feedback(f"plan{aid}:clear")


def planner_section(ex: ScoreExplanation) -> None:
    """The planner for one assessment's live answers."""
    st.subheader("Plan the next cycle")
    st.caption(
        "Pick answers you plan to change, choose the planned answer, and see the scores they "
        "would give. Nothing here changes the assessment's answers or its score history."
    )
    if ex.result.overall is None:
        st.info("Nothing to plan yet: no answered question is scored.", icon=":material/info:")
        return
    start = load(lambda s, a: planner_start(s, a, ex.assessment_id))
    prefix = _prefix(ex, start)
    target = _target(prefix, start)
    plan = cheapest_plan(ex.bank, ex.answers, target, ex.bands)  # efforts: the bank's
    planned = _pick(ex, start, prefix)
    projected = project(ex.bank, ex.answers, planned, ex.bands)
    _metrics(ex, projected, target, bool(planned))
    if planned:
        gains = {c.key: c.gain for c in planned_changes(ex.bank, ex.answers, planned, ex.bands)}
        st.caption(
            "Points each planned answer adds on its own: "
            + ", ".join(f"{md_escape(k)} {v:+.2f}" for k, v in gains.items())
        )
        _sections(ex, projected)
    _save_controls(ex, start, planned, target)

    st.markdown("**Cheapest way to the target**")
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
            f"{len(plan.changes)} changes of total effort {plan.effort} give "
            f"{plan.projected.overall or 0.0:.1f} ({plan.projected.band} band); no cheaper set "
            "of changes reaches the target (each question weighs its effort, 1 unless the "
            "questionnaire says otherwise)."
        )
        _changes_table(ex, plan.changes)
        st.button(
            "Plan these changes",
            icon=":material/playlist_add:",
            key=f"{prefix}:use",
            on_click=_use,
            args=(prefix, plan.changes),
        )
