"""A reviewer's decision and the status timeline, as the client reads them."""

from __future__ import annotations

import streamlit as st

from core.labels import format_datetime
from core.text import md_escape
from core.timelines import StatusEvent

_LOOK = {
    "changes_requested": (st.warning, ":material/feedback:", "Changes requested"),
    "approved": (st.success, ":material/verified:", "Approved"),
    "rejected": (st.error, ":material/block:", "Rejected"),
}
_NEXT = {
    "changes_requested": "Answer the flagged questions, then submit again.",
    "approved": "",
    "rejected": "This cycle is closed; start a new cycle from My products.",
}


def decision_text(decision: StatusEvent, *, title: str = "") -> str:
    """The decision in one Markdown block: what, when, by whom, the note, and what to do next."""
    head = f"**{_LOOK[decision.status][2]}**" + (f" · {md_escape(title)}" if title else "")
    lines = [f"{head} · {format_datetime(decision.time)} by {md_escape(decision.by)}"]
    note = decision.note
    lines.append(
        f"Note from the reviewer: {md_escape(note, multiline=True)}"
        if note
        else "The reviewer left no note."
    )
    if _NEXT[decision.status]:
        lines.append(_NEXT[decision.status])
    return "  \n".join(lines)


def show_decision(decision: StatusEvent, *, title: str = "") -> None:
    """The current decision as an alert coloured by what it means."""
    alert, icon, _ = _LOOK[decision.status]
    alert(decision_text(decision, title=title), icon=icon)


def show_timeline(history: list[StatusEvent], *, label: str = "Status timeline") -> None:
    """Every status change, newest first: when, what, who, and the note to the client."""
    with st.expander(
        f"{label} ({len(history)} change{'' if len(history) == 1 else 's'})",
        icon=":material/timeline:",
    ):
        if not history:
            st.caption("No status change yet.")
        for row in reversed(history):
            note = f"  \n{md_escape(row.note, multiline=True)}" if row.note else ""
            st.markdown(
                f"**{md_escape(row.what)}** · {format_datetime(row.time)} · "
                f"{md_escape(row.by)}{note}"
            )
