"""Shared page widgets."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.workflow import LABELS


def assessments_table(rows: list[dict]) -> None:
    """Assessments with status, progress bar and latest score."""
    frame = pd.DataFrame(rows)
    frame["status"] = frame["status"].map(LABELS)
    frame["completion"] = frame["completion"] * 100
    frame["questionnaire"] = frame["questionnaire"] + " v" + frame["version"].astype(str)
    st.dataframe(
        frame[["product", "questionnaire", "cycle", "status", "completion", "latest_score",
               "latest_band", "due_date"]],
        hide_index=True, width="stretch",
        column_config={
            "product": "Product", "questionnaire": "Questionnaire", "cycle": "Cycle",
            "status": "Status",
            "completion": st.column_config.ProgressColumn("Progress", format="%.0f%%",
                                                          min_value=0, max_value=100),
            "latest_score": st.column_config.NumberColumn("Latest score", format="%.1f"),
            "latest_band": "Risk band",
            "due_date": st.column_config.DateColumn("Due"),
        })
