"""Tables in the words people read: column names as labels, times in the one UI format, and no
"None" where a cell is empty (Streamlit writes "None" into every empty cell of any type)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from core.labels import (
    DATE_FORMAT_MOMENT,
    DATETIME_FORMAT_MOMENT,
    NOTHING,
    format_date,
    format_datetime,
    humanize,
    plain_value,
)


def when_column(label: str, **kwargs):
    """A datetime column shown as "1 Dec 2026, 14:05 UTC"."""
    return st.column_config.DatetimeColumn(
        label, format=DATETIME_FORMAT_MOMENT, timezone="UTC", **kwargs
    )


def day_column(label: str, **kwargs):
    """A date column shown as "1 Dec 2026"."""
    return st.column_config.DateColumn(label, format=DATE_FORMAT_MOMENT, **kwargs)


def _empty(value) -> bool:
    return (
        value is None
        or value is pd.NaT
        or value == ""
        or (isinstance(value, float) and value != value)
    )


def _is_dates(series: pd.Series) -> bool:
    values = series.dropna()
    return (
        series.dtype == object
        and len(values) > 0
        and all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in values)
    )


def _label(entry, name: str) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and entry.get("label"):
        return entry["label"]
    return humanize(name)


def _typed(series: pd.Series, label: str):
    if pd.api.types.is_datetime64_any_dtype(series):
        return when_column(label)
    if _is_dates(series):
        return day_column(label)
    return label


def _printf(entry) -> str | None:
    fmt = (entry.get("type_config") or {}).get("format") if isinstance(entry, dict) else None
    return fmt if isinstance(fmt, str) and fmt.startswith("%") else None


def _as_text(series: pd.Series, entry) -> pd.Series:
    """A column with empty cells as text: the one date format, the column's number format, a dash."""
    if pd.api.types.is_datetime64_any_dtype(series):
        show = format_datetime
    elif _is_dates(series):
        show = format_date
    elif (fmt := _printf(entry)) is not None:
        show = lambda v: fmt % v  # noqa: E731
    else:
        show = plain_value
    return series.map(
        lambda v: (
            NOTHING if _empty(v) else show(v.to_pydatetime() if isinstance(v, pd.Timestamp) else v)
        )
    )


def readable(frame: pd.DataFrame, config: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """(frame, column config) as shown: every column labelled, times and dates in the one format,
    and columns with empty cells turned into text with a dash for each empty cell."""
    frame, config = frame.copy(), dict(config or {})
    for name in frame.columns:
        entry = config.get(name)
        label = _label(entry, name)
        column = frame[name]
        if column.map(_empty).any():
            frame[name] = _as_text(column, entry)
            config[name] = st.column_config.TextColumn(label)
        elif entry is None or isinstance(entry, str):
            config[name] = _typed(column, label)
    return frame, config


def show_table(frame: pd.DataFrame, config: dict | None = None, **kwargs):
    """st.dataframe with readable column names, the one date format and no "None" in any cell."""
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    shown, column_config = readable(frame, config)
    return st.dataframe(shown, column_config=column_config, **kwargs)
