"""Checks the dashboards' read model against the source tables (`python -m core.cli
analytics-verify`): recomputes every column and row it holds and names each difference."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from core.models import Assessment, AssessmentSection, BenchmarkTotal, ScoreHistory
from core.read_model import ROLLUP_ROWS
from core.read_model_rows import benchmark_units, derived_columns, newest_sections, total_rows

TOLERANCE = 1e-6  # sums of floats added in another order differ in the last digits
MAX_LISTED = 50


@dataclass(frozen=True)
class Check:
    """What a check compared, and every difference found (the first MAX_LISTED named)."""

    assessments: int
    rows: int
    differences: list[str]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=TOLERANCE)
    return bool(a == b)


def _newest(column: Any) -> ColumnElement[Any]:
    return (
        select(column)
        .where(ScoreHistory.assessment_id == Assessment.id)
        .order_by(ScoreHistory.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _assessment_differences(session: Session) -> tuple[int, list[str]]:
    expected: dict[str, Any] = {
        **derived_columns(),
        "is_benchmark": Assessment.id.in_(benchmark_units(true())),
    }
    snapshot = {
        "latest_score": _newest(ScoreHistory.overall_score),
        "latest_band": _newest(ScoreHistory.band),
    }
    names = [*expected, *snapshot]
    stored = [getattr(Assessment, name) for name in names]
    rows = session.execute(
        select(Assessment.id, *stored, *expected.values(), *snapshot.values())
    ).all()
    out = []
    for aid, *values in rows:
        for i, name in enumerate(names):
            have, want = values[i], values[len(names) + i]
            if name == "is_benchmark":
                have, want = bool(have), bool(want)
            if not _same(have, want):
                out.append(f"assessment {aid}: {name} is {have!r}, the source gives {want!r}")
    return len(rows), out


def _keyed(rows: Iterable[Sequence[Any]], width: int) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return {tuple(r[:width]): tuple(r[width:]) for r in rows}


def _table_differences(
    name: str, stored: dict[tuple[Any, ...], tuple[Any, ...]], want: dict[Any, Any]
) -> list[str]:
    out = []
    for key in sorted(set(stored) | set(want), key=repr):
        have, expected = stored.get(key), want.get(key)
        if have is None or expected is None:
            where = "missing" if have is None else "not in the source"
            out.append(f"{name} {key}: {where}")
        elif not all(_same(a, b) for a, b in zip(have, expected, strict=True)):
            out.append(f"{name} {key}: stored {have}, the source gives {expected}")
    return out


def check(session: Session) -> Check:
    """Compare the stored read model with one computed afresh from the source tables."""
    assessments, out = _assessment_differences(session)
    sections = select(
        AssessmentSection.assessment_id, AssessmentSection.section_key, AssessmentSection.score
    )
    stored = _keyed(session.execute(sections).all(), 2)
    out += _table_differences(
        "assessment_sections",
        stored,
        _keyed(session.execute(newest_sections(session, true())).all(), 2),
    )
    rows = len(stored)
    for table, build in ROLLUP_ROWS.items():
        width = len(table.__table__.primary_key.columns)
        columns = list(table.__table__.columns)
        have = _keyed(session.execute(select(*columns)).all(), width)
        rows += len(have)
        out += _table_differences(
            table.__tablename__, have, _keyed(session.execute(build(true())), width)
        )
    totals = select(
        BenchmarkTotal.questionnaire_id,
        BenchmarkTotal.section_key,
        BenchmarkTotal.score,
        BenchmarkTotal.products,
    )
    have = _keyed(session.execute(totals).all(), 3)
    want = _keyed(session.execute(total_rows()), 3)
    out += _table_differences("benchmark_totals", have, want)
    return Check(assessments, rows + len(have), out)
