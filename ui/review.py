"""Review page widgets: one card per answer with its evidence, thread and review actions."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import streamlit as st

from core import comments, evidence, review
from core.banks.model import Question
from core.errors import SecureSphereError
from core.evidence import EvidenceItem
from core.evidence_validity import expiry_words
from core.labels import answer_label, format_datetime
from core.mappings.provenance import state_of
from core.responses import StoredAnswer
from core.text import md_escape
from core.worksheet import Worksheet
from ui.crosswalk import provenance
from ui.evidence_panel import file_bytes
from ui.state import current_actor, run_action
from ui.widgets import confirm_action

STATE_BADGES = {
    "pending": ("Unreviewed", "gray"),
    "accepted": ("Accepted", "green"),
    "needs_changes": ("Needs changes", "orange"),
}
FILTERS = (
    "All",
    "Unreviewed",
    "Flagged",
    "Low-scoring",
    "Critical",
    "Changed this round",
    "Carried",
    "Confirmed",
    "Reused",
    "Changed after carrying",
)


def answer_text(q: Question, stored: StoredAnswer | None) -> str:
    """The answer as a reviewer reads it."""
    if not stored or (stored.value is None and not stored.is_na):
        return "_not answered_"
    if stored.is_na:
        return "Not applicable"
    value = stored.value
    return md_escape(answer_label(q, value), multiline=not isinstance(value, list))


def keep(q: Question, ws: Worksheet, changed: set[str], wanted: str) -> bool:
    """Whether the answer passes the chosen filter."""
    stored = ws.answers.get(q.key)
    score = stored.score if stored else None
    state = stored.review_state if stored else "pending"
    came = state_of(stored.value, stored.is_na, stored.origin) if stored else None
    return {
        "All": True,
        "Unreviewed": state == "pending",
        "Flagged": state == "needs_changes",
        "Low-scoring": score is not None and score < 0.5,
        "Critical": q.critical,
        "Changed this round": q.key in changed,
        "Carried": came == "carried",
        "Confirmed": came == "confirmed",
        "Reused": came == "reused",
        "Changed after carrying": came == "changed after carrying",
    }[wanted]


def answer_card(ws: Worksheet, q: Question, changed: set[str], can_review: bool) -> None:
    """One answer: value, score, state, justification, evidence, comments and actions."""
    stored = ws.answers.get(q.key)
    label, colour = STATE_BADGES[stored.review_state if stored else "pending"]
    with st.container(border=True):
        head = [f"`{q.key}`", f":{colour}-badge[{label}]"]
        if q.critical:
            head.append(":red-badge[critical]")
        if q.key in changed:
            head.append(":blue-badge[changed this round]")
        st.markdown(" ".join(head))
        st.markdown(f"**{md_escape(q.text)}**")
        score = stored.score if stored else None
        st.markdown(
            f"{answer_text(q, stored)}"
            + ("" if score is None else f" · score {score * 100:.0f}/100")
        )
        provenance(ws, q)
        if stored and stored.justification:
            st.caption(md_escape(stored.justification, multiline=True))
        _evidence(ws, q)
        _thread(ws, q)
        if can_review and stored:
            _actions(ws, q)


def _evidence(ws: Worksheet, q: Question) -> None:
    today = datetime.now(UTC).date()
    for item in ws.evidence.get(q.key, []):
        expiry = expiry_words(item.valid_until, today)  # a reviewer accepts in-date evidence
        label = md_escape(item.filename) + (f" · {expiry}" if expiry else "")
        with st.popover(label, icon=":material/attach_file:"):
            st.download_button(
                "Download",
                data=partial(file_bytes, current_actor(), item.id),
                file_name=evidence.download_name(item.filename),
                mime=item.content_type,
                key=f"rdl{item.id}",
                icon=":material/download:",
            )
            previewable = (
                item.content_type.startswith("image/") or item.content_type == "application/pdf"
            )
            # Files are read only when asked for: a long assessment can carry hundreds.
            if previewable and st.toggle("Preview", key=f"pv{item.id}"):
                _preview(item)


def _preview(item: EvidenceItem) -> None:
    try:
        data = file_bytes(current_actor(), item.id)
    except SecureSphereError as exc:  # missing or damaged in storage: say which
        st.error(str(exc))
        return
    try:
        st.image(data) if item.content_type.startswith("image/") else st.pdf(data, height=400)
    except Exception:
        st.info(
            "This file cannot be previewed; download it to open it.",
            icon=":material/visibility_off:",
        )


def _thread(ws: Worksheet, q: Question) -> None:
    for c in ws.comments.get(q.key, []):
        tag = ":violet-badge[internal]" if c.visibility == "internal" else ""
        done = " :green-badge[resolved]" if c.resolved else ""
        reply = "↳ " if c.parent_id else ""
        st.markdown(
            f"{reply}**{md_escape(c.author)}** · {format_datetime(c.time)} {tag}{done}  \n"
            f"{md_escape(c.body, multiline=True)}"
        )
        if not c.resolved and st.button("Resolve", key=f"res{c.id}", icon=":material/done:"):
            if run_action(
                lambda s, a, cid=c.id: comments.resolve_comment(s, a, cid), success="Resolved."
            ):
                st.rerun()


def _actions(ws: Worksheet, q: Question) -> None:
    left, right = st.columns([1, 3])
    if left.button("Accept", key=f"acc{q.key}", icon=":material/check:"):
        if run_action(
            lambda s, a: review.set_review_state(s, a, ws.assessment_id, q.key, "accepted"),
            success="Answer accepted.",
        ):
            st.rerun()
    with right.form(f"flag{q.key}", clear_on_submit=True, border=False):
        text = st.text_input(
            "Comment", key=f"ctext{q.key}", placeholder="What should change, or a note"
        )
        internal = st.checkbox("Internal note (reviewers only)", key=f"cint{q.key}")
        flag, note = st.columns(2)
        if flag.form_submit_button(
            "Flag: needs changes", icon=":material/flag:", disabled=internal
        ):
            _after(
                run_action(
                    lambda s, a: review.set_review_state(
                        s, a, ws.assessment_id, q.key, "needs_changes", comment=text
                    ),
                    success="Answer flagged.",
                )
            )
        if note.form_submit_button("Add comment", icon=":material/comment:"):
            _after(
                run_action(
                    lambda s, a: comments.add_comment(
                        s,
                        a,
                        ws.assessment_id,
                        text,
                        question_key=q.key,
                        visibility="internal" if internal else "shared",
                    ),
                    success="Comment added.",
                )
            )


def _after(ok: bool) -> None:
    if ok:
        st.rerun()


def decision_panel(aid: int) -> None:
    """The note to the client and the three decisions, in view; each decision asks to confirm."""
    with st.container(border=True):
        st.markdown("**:material/gavel: Decision**")
        note = st.text_area("Note to the client (a reason is required to reject)", key=f"note{aid}")
        changes, approve, reject = st.columns(3)
        with changes:
            confirm_action(
                "Request changes",
                "The assessment goes back to the client with the flagged answers and this note.",
                lambda s, a: review.request_changes(s, a, aid, note=note),
                success="Sent back to the client.",
                key=f"changes{aid}",
                icon=":material/undo:",
            )
        with approve:
            confirm_action(
                "Approve",
                "The assessment becomes read-only and its score is final.",
                lambda s, a: review.decide(s, a, aid, "approved", note=note),
                success="Approved.",
                key=f"approve{aid}",
                icon=":material/verified:",
            )
        with reject:
            confirm_action(
                "Reject",
                "The assessment becomes read-only. The note is the reason.",
                lambda s, a: review.decide(s, a, aid, "rejected", note=note),
                success="Rejected.",
                key=f"reject{aid}",
                icon=":material/block:",
            )
