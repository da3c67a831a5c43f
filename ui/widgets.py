"""Shared page widgets."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.labels import format_score
from core.workflow import LABELS
from ui.state import feedback, run_action
from ui.tables import day_column


def assessments_table(rows: list[dict]) -> None:
    """Assessments with status, progress bar and latest score."""
    frame = pd.DataFrame(rows)
    frame["status"] = frame["status"].map(LABELS)
    frame["completion"] = frame["completion"] * 100
    frame["questionnaire"] = frame["questionnaire"] + " v" + frame["version"].astype(str)
    frame["latest_band"] = frame["latest_band"].fillna("—")
    frame["latest_score"] = frame["latest_score"].map(format_score)  # a table shows None as "None"
    st.dataframe(
        frame[["product", "questionnaire", "cycle", "status", "completion", "latest_score",
               "latest_band", "due_date"]],
        hide_index=True, width="stretch",
        column_config={
            "product": "Product", "questionnaire": "Questionnaire", "cycle": "Cycle",
            "status": "Status",
            "completion": st.column_config.ProgressColumn("Progress", format="%.0f%%",
                                                          min_value=0, max_value=100),
            "latest_score": st.column_config.TextColumn("Latest score"),
            "latest_band": "Risk band",
            "due_date": day_column("Due"),
        })


def confirm_action(label: str, message: str, action, *, success: str, key: str,
                   icon: str | None = None, rerun: bool = True) -> bool:
    """A destructive action behind a popover that asks for confirmation first; by default the
    page reruns after it so everything shown reflects the change. Its outcome is drawn beside
    the popover, after the rerun too (a toast followed by a rerun never shows)."""
    with st.popover(label, icon=icon):
        st.warning(message)
        clicked = st.button(f"Yes, {label.lower()}", key=key, type="primary")
    done = clicked and run_action(action, success=success, slot=key)
    if done and rerun:
        st.rerun()
    feedback(key)
    return done


def pager(total: int, page_size: int, key: str) -> int:
    """A page number input with the total; returns the 1-based page."""
    pages = max(1, -(-total // page_size))
    left, right = st.columns([1, 4])
    page = left.number_input("Page", min_value=1, max_value=pages, value=1, step=1, key=key)
    right.caption(f"{total:,} in all · page {page:,} of {pages:,}")
    return int(page)


def assessment_picker(rows: list[dict], preferred: int | None = None) -> int:
    """Choose one of the given assessments (type to search); `?assessment=ID` in the URL
    preselects it and follows the choice, so a page can be linked to and reloaded. Without one,
    the preferred assessment (the one waiting for the user) is shown first."""
    labels = {r["id"]: f"{r['product']} · {r['questionnaire']} v{r['version']} · cycle {r['cycle']} "
                       f"({LABELS[r['status']].lower()})" for r in rows}
    ids = list(labels)
    wanted = st.query_params.get("assessment", "")
    if not (wanted.isdigit() and int(wanted) in labels):
        wanted = preferred if preferred in labels else ids[0]
    start = ids.index(int(wanted))
    chosen = st.selectbox("Assessment", ids, index=start, format_func=labels.get)
    st.query_params["assessment"] = str(chosen)
    return chosen
