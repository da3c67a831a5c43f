"""What stops a submission: the missing answers and evidence files by section, each a link to it."""

from __future__ import annotations

import streamlit as st

from core.submission import MissingItem
from core.text import md_escape
from core.worksheet import Worksheet


def show_missing(ws: Worksheet) -> None:
    """What stops a submission, by section in bank order; each item takes the user to its section."""
    by_section: dict[str, list[MissingItem]] = {}
    for item in ws.missing:
        by_section.setdefault(item.section, []).append(item)
    answers = sum(1 for m in ws.missing if m.what == "answer")
    files = len(ws.missing) - answers
    with st.container(border=True):
        parts = [
            _count(n, word) for n, word in ((answers, "answer"), (files, "evidence file")) if n
        ]
        st.markdown(
            f"**Missing before you can submit: {_count(len(ws.missing), 'item')}** "
            f"({', '.join(parts)})"
        )
        for section_key, items in by_section.items():
            title = md_escape(items[0].section_title)
            with st.expander(f"{title}: {len(items)} missing", expanded=len(by_section) == 1):
                for item in items:
                    need = "needs an answer" if item.what == "answer" else "needs evidence"
                    st.button(
                        f"{md_escape(_short(item.text))} · {need}",
                        type="tertiary",
                        icon=":material/arrow_forward:",
                        key=f"ws{ws.assessment_id}:gap:{item.key}",
                        on_click=_go_to_section,
                        args=(ws.assessment_id, section_key),
                    )


def _go_to_section(ws_id: int, section_key: str) -> None:
    st.session_state[f"ws{ws_id}:section"] = section_key


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
