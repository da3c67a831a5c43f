"""DataFrames as JSON records: NaN as null, timestamps as ISO 8601 UTC text."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd

from core.labels import iso_utc


def _value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return iso_utc(value.to_pydatetime())
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _value(value.item())
    return value


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Every row as a dict of plain JSON values."""
    columns = [str(c) for c in frame.columns]
    return [
        {c: _value(v) for c, v in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]
