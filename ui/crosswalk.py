"""Crosswalks on the questionnaire and review pages: the pre-fill panel, proposed answers to
confirm, earlier answers of the organisation to reuse, and where a carried answer came from.

The rules are core's (core/mappings/credit.py); this module only draws them and calls core.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import streamlit as st

from core.access import Actor
from core.banks.answers import is_visible
from core.banks.model import Answer, Question, Section
from core.errors import SecureSphereError
from core.labels import format_date
from core.mappings.prefill import (
    Prefill,
    SourceOption,
    apply_prefill,
    plan_prefill,
    prefill_sources,
)
from core.mappings.proposals import Proposal, confirm_proposal, dismiss_proposal, list_proposals
from core.mappings.provenance import describe, label, state_of
from core.mappings.reuse import Reuse, reusable_answers, reuse_answer
from core.responses import StoredAnswer
from core.text import md_escape
from core.uploads import download_name
from core.workflow import LABELS
from core.worksheet import Worksheet
from ui.evidence_panel import file_bytes
from ui.questionnaire import renew_inputs
from ui.state import current_actor, feedback, leave_message, load, run_action

RULES = """\
- **Carried** answers come from a source control that is equal to, equivalent to or covers all \
of the question: they count at once, and you can still change them.
- **Proposed** answers come from a source that covers only part of the question or overlaps \
it: they count nowhere until you confirm them, one by one or a section at a time.
- When several source answers reach one question, the **weakest** of them is taken, never the \
best.
- A source mapped as unrelated to a question gives it nothing, and questions you have already \
answered are left as they are.
- Evidence is **linked, not copied**: the source answer's files stay with the source \
assessment, and each answer shows where it came from."""


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def counts_text(plan: Prefill) -> str:
    """What a pre-fill gives, as a person reads it."""
    return ", ".join(
        [
            _plural(len(plan.carried), "answer carried", "answers carried"),
            f"{len(plan.proposed)} proposed for you to confirm",
            f"{len(plan.kept)} already answered",
            f"{len(plan.uncovered)} not covered",
        ]
    )


def source_label(option: SourceOption) -> str:
    """A pre-fill source as the picker shows it."""
    return (
        f"{option.bank_title}, cycle {option.cycle} ({LABELS.get(option.status, option.status)})"
        f" through '{option.mapping_title}'"
    )


def prefill_panel(ws: Worksheet) -> None:
    """The pre-fill panel: while the assessment is editable and another assessment of the same
    product can feed it through a mapping."""
    if not ws.editable:
        return
    aid = ws.assessment_id
    sources = load(lambda s, a: prefill_sources(s, a, aid))
    slot = f"ws{aid}:prefill"
    feedback(slot)  # after the rerun, above the panel: a collapsed panel would hide it
    if not sources:
        return
    options = {o.assessment_id: o for o in sources}
    with st.expander(
        "Pre-fill from another framework", icon=":material/move_down:", expanded=not ws.answers
    ):
        chosen = st.selectbox(
            "Pre-fill from",
            list(options),
            format_func=lambda i: source_label(options[i]),  # plain text, not Markdown
            key=f"ws{aid}:prefill-source",
        )
        source = options[chosen]
        plan = load(
            lambda s, a: plan_prefill(
                s, a, aid, source.assessment_id, mapping_key=source.mapping_key
            )
        )
        st.markdown(f"**What it would give:** {counts_text(plan)}.")
        st.markdown(RULES)
        if st.button(
            "Pre-fill",
            type="primary",
            icon=":material/move_down:",
            key=f"ws{aid}:prefill-go",
            disabled=not (plan.carried or plan.proposed),
        ):
            done: list[Prefill] = []
            if run_action(
                lambda s, a: done.append(
                    apply_prefill(s, a, aid, source.assessment_id, mapping_key=source.mapping_key)
                ),
                slot=slot,
            ):
                leave_message(
                    slot, "success", f"Pre-filled from {source.bank_title}: {counts_text(done[0])}."
                )
                renew_inputs(aid)
                st.rerun()
            feedback(slot)  # a refusal stays beside the button


@dataclass
class Crosswalk:
    """What the questionnaire shows beside its questions, read once per page run: open
    proposals and earlier answers on offer (both empty when the viewer cannot answer)."""

    ws: Worksheet
    proposals: dict[str, Proposal] = field(default_factory=dict)
    offers: dict[str, list[Reuse]] = field(default_factory=dict)

    def beside(self, q: Question) -> None:
        """Under a question's answer: where it came from, a proposal, or earlier answers."""
        stored = self.ws.answers.get(q.key)
        provenance(self.ws, q)
        feedback(_slot(self.ws, q), compact=True)  # a confirmation, once the proposal has gone
        if not self.ws.editable:
            return
        if q.key in self.proposals:
            _proposal(self.ws, q, self.proposals[q.key])
        if stored is None or (stored.value is None and not stored.is_na):
            for offer in self.offers.get(q.key, []):
                _offer(self.ws, q, offer)


def crosswalk(ws: Worksheet) -> Crosswalk:
    """The proposals and reuse offers of the assessment, in one read."""
    if not ws.editable:
        return Crosswalk(ws)
    aid = ws.assessment_id
    proposals, offers = load(lambda s, a: (list_proposals(s, a, aid), reusable_answers(s, a, aid)))
    return Crosswalk(ws, proposals, offers)


def _slot(ws: Worksheet, q: Question) -> str:
    """Where the outcome of a proposal or an offer of one question is drawn."""
    return f"ws{ws.assessment_id}:crosswalk:{q.key}"


def _act(ws: Worksheet, action: Callable[[Any, Any], object], success: str, slot: str) -> None:
    if run_action(action, success=success, slot=slot):
        renew_inputs(ws.assessment_id)
        st.rerun()


def _proposal(ws: Worksheet, q: Question, p: Proposal) -> None:
    aid = ws.assessment_id
    shown = label(ws.bank, q.key, Answer(p.value, p.is_na))
    slot, button = _slot(ws, q), f"ws{aid}:proposal:{q.key}"
    with st.container(border=True):
        st.markdown(
            f":blue[:material/lightbulb:] **Proposed: {md_escape(shown)}** — "
            f"{md_escape(describe(p.origin))}"
        )
        st.caption("A proposed answer does not count until you confirm it.")
        left, right, _ = st.columns([1, 1, 3])
        if left.button("Confirm", key=f"{button}:confirm", icon=":material/check:"):
            _act(ws, lambda s, a: confirm_proposal(s, a, aid, q.key), f"Confirmed: {shown}.", slot)
        if right.button("Dismiss", key=f"{button}:dismiss", icon=":material/close:"):
            _act(ws, lambda s, a: dismiss_proposal(s, a, aid, q.key), "Proposal dismissed.", slot)
        feedback(slot)  # a refusal, beside the buttons


def confirm_section(ws: Worksheet, section: Section, found: Crosswalk) -> None:
    """One button confirming every open proposal of the section's visible questions."""
    if not ws.editable:
        return
    answers = {k: d.answer for k, d in ws.answers.items()}
    keys = [
        q.key
        for q in section.questions
        if q.key in found.proposals and is_visible(q, answers, ws.bank)
    ]
    aid = ws.assessment_id
    slot = f"ws{aid}:confirm-all"
    if keys and st.button(
        f"Confirm all proposed answers in this section ({len(keys)})",
        key=f"{slot}:{section.key}",
        icon=":material/done_all:",
    ):

        def confirm_all(s: Any, a: Any) -> None:
            for k in keys:
                confirm_proposal(s, a, aid, k)

        _act(ws, confirm_all, f"{_plural(len(keys), 'answer', 'answers')} confirmed.", slot)
    feedback(slot)


def _offer(ws: Worksheet, q: Question, offer: Reuse) -> None:
    aid, origin = ws.assessment_id, offer.origin
    source = (origin.get("sources") or [{}])[0]
    shown = label(ws.bank, q.key, offer.answer)
    text = f"Answered before for {origin.get('product', '')}"
    if source.get("answered_at"):
        text += f" on {format_date(source['answered_at'])}"
    text += f": {shown}"
    if origin.get("mapping_title"):  # another framework's answer, crossed to this question
        asked = str(source.get("question", "")).upper()
        text += (
            f" ({asked} of {origin.get('bank_title', '')} answered \u201c{source.get('answer')}"
            f"\u201d, through \u201c{origin['mapping_title']}\u201d)"
        )
    files = [str(e["filename"]) for e in source.get("evidence") or []]
    if files:
        text += f"; evidence: {', '.join(files)}"
    slot, button = _slot(ws, q), f"ws{aid}:reuse:{q.key}:{origin['assessment_id']}"
    left, right = st.columns([5, 2], vertical_alignment="center")
    left.caption(f":material/history: {md_escape(text)}")
    if right.button("Use this answer", key=button, icon=":material/replay:"):
        _act(
            ws,
            lambda s, a: reuse_answer(s, a, aid, q.key, int(origin["assessment_id"])),
            f"Answer reused from {origin.get('product', '')}.",
            slot,
        )
    feedback(slot)


def provenance_text(ws: Worksheet, key: str, stored: StoredAnswer) -> str:
    """Where a stored answer came from, as Markdown ("" for an answer given here); an answer
    changed since it was carried says so first, with what it was."""
    origin = stored.origin
    if not origin:
        return ""
    text = md_escape(describe(origin))
    if state_of(stored.value, stored.is_na, origin) == "changed after carrying":
        was = label(ws.bank, key, Answer(origin.get("value"), bool(origin.get("is_na", False))))
        text = f":orange-badge[Changed after carrying] it was \u201c{md_escape(was)}\u201d. {text}"
    return text


def provenance(ws: Worksheet, q: Question) -> None:
    """The caption under an answer that has an origin, with the source's evidence files (linked
    to the source assessment, never copied)."""
    stored = ws.answers.get(q.key)
    if stored is None or not stored.origin:
        return
    st.caption(f":material/link: {provenance_text(ws, q.key, stored)}")
    files = [
        (int(e["id"]), str(e["filename"]))
        for s in stored.origin.get("sources") or []
        for e in s.get("evidence") or []
    ]
    if not files:
        return
    st.caption("Evidence of the source answer (linked, not copied):")
    actor = current_actor()
    for file_id, filename in files:
        st.download_button(
            md_escape(filename),
            data=partial(_file_bytes, actor, file_id),
            file_name=download_name(filename),
            key=f"src{ws.assessment_id}:{q.key}:{file_id}",
            icon=":material/attach_file:",
            type="tertiary",
        )


def _file_bytes(actor: Actor, evidence_id: int) -> bytes:
    # a source file removed since it was carried: the download says so instead of failing
    try:
        return file_bytes(actor, evidence_id)
    except SecureSphereError as exc:
        return str(exc).encode()
