"""The filter block shared by the analytics pages and extracts.

Values live in st.session_state under FILTER_KEYS, outside the widgets' own keys, so a choice
made on one page is still there on the next (Streamlit forgets a widget's state on pages that do
not draw it). Each page shows the filters that mean something to it.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from core.access import Actor
from core.analytics import filter_options
from core.filters import Filters
from ui.cache import aggregate

FILTER_KEYS = {
    "organization": "flt_organization",
    "questionnaire": "flt_questionnaire",
    "dates": "flt_dates",
    "industry": "flt_industry",
    "tier": "flt_tier",
    "accepted": "flt_accepted",
}
ALL = ("organization", "questionnaire", "dates", "industry", "tier", "accepted")
DEFAULT_DAYS = 730  # two years
EVERYTHING = "*"


def _persist(key: str) -> None:
    st.session_state[key] = st.session_state[f"_w_{key}"]


def _choice(label: str, key: str, options: list[tuple], everything: str) -> object:
    """A selectbox over (value, label) pairs plus "everything" (None) whose value survives page
    changes. Session state holds EVERYTHING for None (it cannot keep a None value)."""
    choices = [(EVERYTHING, everything), *options]
    values, labels = [v for v, _ in choices], dict(choices)
    if st.session_state.get(key) not in values:
        st.session_state[key] = EVERYTHING
    st.session_state[f"_w_{key}"] = st.session_state[key]
    picked = st.selectbox(
        label,
        values,
        format_func=lambda v: labels.get(v, str(v)),
        key=f"_w_{key}",
        on_change=_persist,
        args=(key,),
    )
    return None if picked == EVERYTHING else picked


def _accepted(key: str) -> float:
    """The least share of reviewer-accepted points, 0 to 100 in steps of 5 (0: every score)."""
    stored = st.session_state.get(key)
    if isinstance(stored, bool) or not isinstance(stored, int | float) or not 0 <= stored <= 100:
        stored = st.session_state[key] = 0
    st.session_state[f"_w_{key}"] = int(stored)
    picked = st.slider(
        "Reviewer-accepted points at least (%)",
        min_value=0,
        max_value=100,
        step=5,
        key=f"_w_{key}",
        on_change=_persist,
        args=(key,),
        help="Only scores with at least this share of their points accepted by a reviewer; "
        "0 shows every assessment, scored or not.",
    )
    return float(picked)


def default_dates(today: date | None = None) -> tuple[date, date]:
    """The last two years up to today."""
    today = today or date.today()
    return today - timedelta(days=DEFAULT_DAYS), today


def _dates(key: str) -> tuple[date | None, date | None]:
    stored = st.session_state.get(key)
    if not isinstance(stored, tuple) or not stored:
        stored = st.session_state[key] = default_dates()
    st.session_state[f"_w_{key}"] = stored
    picked = st.date_input(
        "Date range",
        key=f"_w_{key}",
        on_change=_persist,
        args=(key,),
        help="Inclusive, in UTC days.",
    )
    picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
    return (picked[0] if picked else None), (picked[1] if len(picked) > 1 else None)


def filter_block(actor: Actor, show: tuple[str, ...] = ALL, *, caption: str = "") -> Filters:
    """Draw the chosen filters in the sidebar and return them; clients are always held to their
    own organisation (their organisation filter is not shown)."""
    options = aggregate(filter_options)
    values: dict = {}
    with st.sidebar:
        st.subheader("Filters")
        if "organization" in show and not actor.is_client:
            values["organization_id"] = _choice(
                "Organisation",
                FILTER_KEYS["organization"],
                options.organizations,
                "All organisations",
            )
        if "questionnaire" in show:
            values["questionnaire_id"] = _choice(
                "Questionnaire",
                FILTER_KEYS["questionnaire"],
                options.questionnaires,
                "All questionnaires",
            )
        if "dates" in show:
            values["start"], values["end"] = _dates(FILTER_KEYS["dates"])
        if "industry" in show:
            values["industry"] = _choice(
                "Industry",
                FILTER_KEYS["industry"],
                [(i, i) for i in options.industries],
                "All industries",
            )
        if "tier" in show:
            values["tier"] = _choice(
                "Tier",
                FILTER_KEYS["tier"],
                [(t, t.replace("_", " ").title()) for t in options.tiers],
                "All tiers",
            )
        if "accepted" in show:
            values["min_accepted"] = _accepted(FILTER_KEYS["accepted"])
        if caption:
            st.caption(caption)
    return Filters(**values)
