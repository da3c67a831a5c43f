"""Shared page widgets."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.assessments import AssessmentSummary, client_overview
from core.labels import format_score
from core.review_queue import next_for
from core.workflow import LABELS
from ui.state import feedback, load, run_action
from ui.tables import day_column


def assessments_table(rows: list[AssessmentSummary]) -> None:
    """Assessments with status, progress bar and latest score."""
    frame = pd.DataFrame(rows)
    frame["status"] = frame["status"].map(LABELS)
    frame["completion"] = frame["completion"] * 100
    frame["questionnaire"] = frame["questionnaire"] + " v" + frame["version"].astype(str)
    frame["latest_band"] = frame["latest_band"].fillna("—")
    frame["latest_score"] = frame["latest_score"].map(format_score)  # a table shows None as "None"
    st.dataframe(
        frame[
            [
                "product",
                "questionnaire",
                "cycle",
                "status",
                "completion",
                "latest_score",
                "latest_band",
                "due_date",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "product": "Product",
            "questionnaire": "Questionnaire",
            "cycle": "Cycle",
            "status": "Status",
            "completion": st.column_config.ProgressColumn(
                "Progress", format="%.0f%%", min_value=0, max_value=100
            ),
            "latest_score": st.column_config.TextColumn("Latest score"),
            "latest_band": "Risk band",
            "due_date": day_column("Due"),
        },
    )


def confirm_action(
    label: str,
    message: str,
    action,
    *,
    success: str,
    key: str,
    icon: str | None = None,
    rerun: bool = True,
) -> bool:
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


def count_rows(fetch) -> int:
    """How many rows a paged core listing ``fetch(session, actor, page=, page_size=)`` (one that
    returns a core.paging.Page) has."""
    return load(lambda s, a: fetch(s, a, page_size=1)).total


def page_of(fetch, *, page_size: int, key: str, total: int | None = None) -> list:
    """Count (unless given the total), draw a pager, and return that page of a paged listing."""
    total = count_rows(fetch) if total is None else total
    page = pager(total, page_size, key)
    return load(lambda s, a: fetch(s, a, page=page, page_size=page_size)).rows


def choose_assessment(empty: str, *, icon: str, include=None, prefer_next: bool = False) -> int:
    """The assessment picked from the actor's overview (those ``include`` keeps); with
    prefer_next the one waiting for the actor comes first. None to pick: ``empty`` and a stop."""

    def read(s, actor):
        rows = [r for r in client_overview(s, actor) if include is None or include(r)]
        return rows, next_for(s, actor) if prefer_next else None

    rows, waiting = load(read)
    if not rows:
        st.info(empty, icon=icon)
        st.stop()
    return assessment_picker(rows, waiting)


def assessment_picker(rows: list[AssessmentSummary], preferred: int | None = None) -> int:
    """Choose one of the given assessments (type to search); `?assessment=ID` in the URL
    preselects it and follows the choice, so a page can be linked to and reloaded. Without one,
    the preferred assessment (the one waiting for the user) is shown first."""
    labels = {
        r.id: f"{r.product} · {r.questionnaire} v{r.version} · cycle {r.cycle} "
        f"({LABELS[r.status].lower()})"
        for r in rows
    }
    ids = list(labels)
    wanted = st.query_params.get("assessment", "")
    if not (wanted.isdigit() and int(wanted) in labels):
        wanted = preferred if preferred in labels else ids[0]
    start = ids.index(int(wanted))
    chosen = st.selectbox("Assessment", ids, index=start, format_func=labels.get)
    st.query_params["assessment"] = str(chosen)
    return chosen
