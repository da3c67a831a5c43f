"""Questionnaire widgets: the right input per question type, autosaved an answer at a time.

Each answer's evidence panel is in ui/evidence_panel.py, the list of what is missing before a
submission in ui/missing_items.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from core import responses
from core.banks.answers import is_visible
from core.banks.model import Answer, Question, Section
from core.labels import format_datetime
from core.responses import AnswerInput
from core.text import md_escape
from core.worksheet import Worksheet
from ui.evidence_panel import UploadLimits, assurance_badge, evidence_panel, upload_limits
from ui.state import attempt, feedback, leave_message

LONG_HELP = 500  # characters: longer help folds under the question instead of a tooltip


# Each draw function gets the stored answer as the widget holds it (`held`) and passes it as the
# widget's own default: the browser falls back to that default whenever it never received the
# value from the server, so it must be the stored answer (see `stored_parts`).


def _radio(label: str, q: Question, held: object, common: dict) -> None:
    labels = {o.key: o.label for o in q.options}
    st.radio(
        label,
        list(labels),
        index=list(labels).index(held) if held in labels else None,
        format_func=lambda k: md_escape(labels[k]),
        horizontal=len(labels) <= 4,
        **common,
    )


def _multiselect(label: str, q: Question, held: object, common: dict) -> None:
    labels = {o.key: o.label for o in q.options}
    st.multiselect(label, list(labels), default=held, format_func=labels.get, **common)


def _number(label: str, q: Question, held: object, common: dict) -> None:
    st.number_input(label, min_value=q.min, max_value=q.max, value=held, **common)


def _text(label: str, q: Question, held: object, common: dict) -> None:
    st.text_area(label, max_chars=q.max_length, value=held or "", **common)


def _date(label: str, q: Question, held: object, common: dict) -> None:
    st.date_input(label, format="YYYY-MM-DD", value=held, **common)


@dataclass(frozen=True)
class Input:
    """How the page asks one question type: the widget, and a stored value as the widget holds it."""

    draw: Callable[[str, Question, object, dict], None]
    held: Callable[[object], object] = lambda value: value


RADIO = Input(_radio)
# One input per question type (core.banks.question_types.QUESTION_TYPES); a test keeps the keys equal.
INPUTS: dict[str, Input] = {
    "yes_no": RADIO,
    "yes_no_partial": RADIO,
    "maturity": RADIO,
    "single_choice": RADIO,
    "multi_choice": Input(_multiselect, held=lambda value: [] if value is None else value),
    "number": Input(_number),
    "text": Input(_text),
    "date": Input(_date, held=lambda value: dt.date.fromisoformat(value) if value else value),
}


def key(ws_id: int, question: str, part: str) -> str:
    """Session-state key of one input of one question (of the inputs' current generation)."""
    generation = st.session_state.get(f"ws{ws_id}:inputs", 0)
    return f"ws{ws_id}{f'.{generation}' if generation else ''}:{question}:{part}"


def renew_inputs(ws_id: int) -> None:
    """New inputs for every question on the next run, defaulting to the stored answers: after
    answers were stored by other means than the inputs (a pre-fill, a confirmed proposal, a
    reused answer). A keyed input keeps the value the browser holds whatever its default says,
    and the browser would send that stale value back, saving it over the new answer."""
    name = f"ws{ws_id}:inputs"
    st.session_state[name] = st.session_state.get(name, 0) + 1


# The stored answer of one question as its three widgets hold it, by part of the widget key.
Held = dict[str, object]


def stored_parts(ws: Worksheet, section: Section) -> dict[str, Held]:
    """The stored answers of a section as the widgets hold them, by question key.

    They are the widgets' defaults, never written into session state: Streamlit sends a value
    put there only on the run that put it, and a run cut short by a rerun (a component reporting
    in, a click) may never deliver it; the browser then shows the widget's default and sends
    that back with the next click, which would save it over the stored answer.
    """
    parts: dict[str, Held] = {}
    for q in section.questions:
        stored = ws.answers.get(q.key)
        parts[q.key] = {
            "v": INPUTS[q.type].held(stored.value if stored else None),
            "na": stored.is_na if stored else False,
            "j": stored.justification if stored else "",
        }
    return parts


def _part(ws_id: int, question: str, part: str, held: Held):
    """What the page holds for one widget: its state, or the stored answer before it has one."""
    return st.session_state.get(key(ws_id, question, part), held[part])


def _input(ws_id: int, question: str, held: Held) -> AnswerInput:
    value = _part(ws_id, question, "v", held)
    if isinstance(value, dt.date):
        value = value.isoformat()
    if value == [] or value == "":
        value = None
    is_na = bool(_part(ws_id, question, "na", held))
    return AnswerInput(
        value=None if is_na else value,
        is_na=is_na,
        justification=_part(ws_id, question, "j", held) or "",
    )


def on_screen(ws: Worksheet, section: Section, parts: dict[str, Held]) -> dict[str, Answer]:
    """Stored answers overlaid with what the page holds for this section (for visibility)."""
    merged = {k: d.answer for k, d in ws.answers.items()}
    for q in section.questions:
        given = _input(ws.assessment_id, q.key, parts[q.key])
        merged[q.key] = Answer(given.value, given.is_na)
    return merged


def _autosave(ws_id: int, section_key: str, parts: dict[str, Held], question: str) -> None:
    # Only the question whose widget changed: another widget's state can be stale after a run
    # cut short (a component reporting in, a click), and sending it saved that stale value over
    # the stored answer. Core checks what this answer hides against the stored answers.
    answers = {question: _input(ws_id, question, parts[question])}
    slot = key(ws_id, question, "saved")
    saved: list[int] = []
    refusal = attempt(
        lambda s, a: saved.append(responses.save_section(s, a, ws_id, section_key, answers))
    )
    if refusal:
        leave_message(slot, "error", refusal)
        return
    if changed := saved[0]:
        leave_message(
            slot,
            "success",
            f"Saved {changed} change{'' if changed == 1 else 's'} "
            f"at {dt.datetime.now(dt.UTC):%H:%M:%S} UTC",
        )


def render_section(
    ws: Worksheet, section: Section, beside: Callable[[Question], None] | None = None
) -> None:
    """Every visible question of a section, disabled when the assessment is not editable;
    `beside(question)` draws what else goes under an answer (ui/crosswalk.py)."""
    parts = stored_parts(ws, section)
    answers = on_screen(ws, section, parts)
    limits = upload_limits()
    for q in section.questions:
        if is_visible(q, answers, ws.bank):
            with st.container(border=True):
                args = (ws.assessment_id, section.key, parts, q.key)
                _question(ws, q, parts[q.key], args, limits, beside)


def _question(
    ws: Worksheet,
    q: Question,
    held: Held,
    args: tuple,
    limits: UploadLimits,
    beside: Callable[[Question], None] | None,
) -> None:
    files = ws.evidence.get(q.key, [])
    flags = [
        ":red[critical]" if q.critical else "",
        ":orange[evidence required]" if q.evidence_required else "",
        "" if q.required else ":gray[optional]",
        assurance_badge(ws, q, files),
    ]
    st.caption(" · ".join([f"`{q.key}`", *[f for f in flags if f]]))
    na = bool(_part(ws.assessment_id, q.key, "na", held))
    disabled = not ws.editable
    _value_widget(ws.assessment_id, q, held["v"], disabled or na, args)
    cols = st.columns([1, 3])
    if q.allow_na:
        cols[0].checkbox(
            "Not applicable",
            value=bool(held["na"]),
            key=key(ws.assessment_id, q.key, "na"),
            disabled=disabled,
            on_change=_autosave,
            args=args,
        )
    feedback(key(ws.assessment_id, q.key, "saved"), compact=True)
    if beside is not None:
        beside(q)
    stored = ws.answers.get(q.key)
    if stored and stored.review_state == "needs_changes":
        st.warning("The reviewer asked for changes to this answer.", icon=":material/feedback:")
    for comment in ws.comments.get(q.key, []):
        st.info(
            f"**{md_escape(comment.author)}** ({format_datetime(comment.time)}): "
            f"{md_escape(comment.body, multiline=True)}",
            icon=":material/comment:",
        )
    with st.expander(
        f"Justification and evidence ({len(files)} file{'s' if len(files) != 1 else ''})"
    ):
        st.text_area(
            "Justification",
            value=str(held["j"]),
            key=key(ws.assessment_id, q.key, "j"),
            max_chars=5000,
            disabled=disabled,
            on_change=_autosave,
            args=args,
            height=80,
        )
        evidence_panel(ws, q, files, limits, key(ws.assessment_id, q.key, "evidence"))


def _value_widget(ws_id: int, q: Question, held: object, disabled: bool, args: tuple) -> None:
    # Bank texts come from uploaded files: labels, help and radio options render Markdown.
    help_text = md_escape(q.help, multiline=True) if q.help else None
    folded = help_text is not None and len(q.help or "") > LONG_HELP
    common = dict(
        key=key(ws_id, q.key, "v"),
        help=None if folded else help_text,
        disabled=disabled,
        on_change=_autosave,
        args=args,
    )
    label = md_escape(q.text) + ("" if q.required else " (optional)")
    INPUTS[q.type].draw(label, q, held, common)
    if folded:  # a control's whole guidance and objectives: too long for a tooltip
        with st.expander("Guidance", icon=":material/menu_book:"):
            st.markdown(help_text)
