"""Review desk widgets: resubmissions summed up in one line, and the queue with its link first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.review_queue import QueueRow, resubmissions
from core.workflow import LABELS
from ui.tables import day_column, show_table, when_column
from ui.widgets import count_rows, page_of

NOTICE_PAGE = 10


def _open_link(frame: pd.DataFrame) -> pd.Series:
    return "/review?assessment=" + frame["id"].astype(str)


def resubmission_notices() -> None:
    """One box for every resubmission, however many: the count, and a paged list on demand."""
    total = count_rows(resubmissions)
    if not total:
        return
    noun = "resubmission waits" if total == 1 else "resubmissions wait"
    with st.expander(f"{total:,} {noun} for review: show", icon=":material/replay:"):
        rows = page_of(resubmissions, page_size=NOTICE_PAGE, key="resubmitted_page", total=total)
        frame = pd.DataFrame(rows)
        frame.insert(0, "open", _open_link(frame))
        show_table(
            frame.drop(columns=["id"]),
            {
                "open": st.column_config.LinkColumn("Open", display_text="Review", width="small"),
                "product": "Product",
                "organization": "Organisation",
                "round": "Round",
                "submitted_at": when_column("Resubmitted"),
            },
        )


def queue_table(rows: list[QueueRow]) -> None:
    """The queue: the link to review first, then what decides the order of work, so the link,
    status, due day and overdue mark are in view at 1280 px; the submission day is implied by the
    due day and the sort."""
    frame = pd.DataFrame(rows)
    frame.insert(0, "open", _open_link(frame))
    frame["status"] = frame["status"].map(LABELS)
    frame["reviewer"] = frame["reviewer"].fillna("Unassigned")
    columns = [
        "open",
        "product",
        "organization",
        "status",
        "decision_due",
        "overdue",
        "latest_score",
        "reviewer",
        "questionnaire",
    ]
    show_table(
        frame[columns],
        {
            "open": st.column_config.LinkColumn("Open", display_text="Review", width="small"),
            "product": "Product",
            "organization": "Organisation",
            "questionnaire": "Questionnaire",
            "status": "Status",
            "reviewer": "Reviewer",
            "decision_due": day_column(
                "Decision due",
                help="The submission day plus the review time allowed in "
                "System settings; overdue once this day has passed.",
            ),
            "overdue": st.column_config.CheckboxColumn("Overdue", width="small"),
            "latest_score": st.column_config.NumberColumn("Score", format="%.1f", width="small"),
        },
    )
