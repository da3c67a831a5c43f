"""Why a score is what it is: section and lost-point tables, movement between snapshots, one loader."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, can_read_assessment
from core.assessments import get_assessment
from core.banks.model import Bank
from core.errors import NotFound
from core.labels import format_datetime, trigger_label
from core.models import Assessment, Questionnaire, ScoreHistory
from core.scoring import DEFAULT_BANDS, Bands, ScoreResult, band_for, lost_points, score_delta
from core.settings import bands, get_settings
from core.snapshots import current_result, result_differs

SECTION_COLUMNS = ["key", "section", "score", "weight", "answered", "band"]
LOST_COLUMNS = ["question", "text", "section", "weight", "score", "points_lost"]
MOVEMENT_COLUMNS = ["question", "text", "section", "before", "after", "change"]
HISTORY_COLUMNS = [
    "id",
    "assessment_id",
    "cycle",
    "time",
    "overall",
    "band",
    "completion",
    "trigger",
    "label",
]
NO_QUESTION_SCORES = (
    "One of these snapshots was taken before per-question scores were recorded, "
    "so what moved between them cannot be broken down."
)


def section_frame(
    bank: Bank, result: ScoreResult, score_bands: Bands = DEFAULT_BANDS
) -> pd.DataFrame:
    """One row per section: title, score (None when nothing is scored), weight, scored answers, band."""
    rows = [
        {
            "key": s.key,
            "section": s.title,
            "score": result.sections.get(s.key),
            "weight": s.weight,
            "answered": sum(result.question_scores.get(q.key) is not None for q in s.questions),
            "band": band_for(result.sections.get(s.key), score_bands),
        }
        for s in bank.sections
    ]
    return pd.DataFrame(rows, columns=SECTION_COLUMNS)


def _where(bank: Bank, key: str) -> tuple[str, str]:
    """Question text and section title; blank for a key the bank does not hold."""
    try:
        question = bank.question(key)
    except NotFound:
        return "", ""
    return question.text, bank.section(question.section_key).title


def lost_points_frame(bank: Bank, result: ScoreResult, top: int = 10) -> pd.DataFrame:
    """The questions that cost the most overall points, largest loss first."""
    rows = []
    for key, lost in lost_points(bank, result)[:top]:
        text, section = _where(bank, key)
        rows.append(
            {
                "question": key,
                "text": text,
                "section": section,
                "weight": bank.question(key).weight,
                "score": result.question_scores[key],
                "points_lost": lost,
            }
        )
    return pd.DataFrame(rows, columns=LOST_COLUMNS)


def has_question_scores(row: Mapping | None) -> bool:
    """True when a snapshot row carries the per-question scores that explain it."""
    stored = (row or {}).get("question_scores")
    return isinstance(stored, Mapping) and "contributions" in stored and "scores" in stored


def _stored_result(row: Mapping) -> ScoreResult:
    """A snapshot row as a ScoreResult, from its stored columns only."""
    stored = row["question_scores"]
    return ScoreResult(
        overall=row.get("overall"),
        sections=dict(row.get("sections") or {}),
        question_scores=dict(stored["scores"]),
        contributions={k: float(v) for k, v in stored["contributions"].items()},
        completion=row.get("completion") or 0.0,
        answered=0,
        total=0,
        band=row.get("band"),
        failed_critical=(),
        formula_version=row.get("formula_version") or "",
    )


def movement_frame(bank: Bank, before_row: Mapping, after_row: Mapping) -> pd.DataFrame:
    """Per question, the change in overall points between two snapshots (largest first); the
    changes sum to the change in overall. Empty, with attrs["note"], when a snapshot lacks
    stored question scores."""
    if not (has_question_scores(before_row) and has_question_scores(after_row)):
        frame = pd.DataFrame(columns=MOVEMENT_COLUMNS)
        frame.attrs["note"] = NO_QUESTION_SCORES
        return frame
    before, after = _stored_result(before_row), _stored_result(after_row)
    order = {q.key: i for i, q in enumerate(bank.questions)}
    deltas = sorted(
        score_delta(before, after).items(),
        key=lambda item: (-abs(item[1]), order.get(item[0], len(order))),
    )
    rows = [
        {
            "question": key,
            "text": _where(bank, key)[0],
            "section": _where(bank, key)[1],
            "before": before.question_scores.get(key),
            "after": after.question_scores.get(key),
            "change": change,
        }
        for key, change in deltas
    ]
    return pd.DataFrame(rows, columns=MOVEMENT_COLUMNS)


def history_frame(snapshots: list[dict]) -> pd.DataFrame:
    """Snapshots as a frame for the history chart, in the order given."""
    return pd.DataFrame(
        [{c: s.get(c) for c in HISTORY_COLUMNS} for s in snapshots], columns=HISTORY_COLUMNS
    )


def _label(row: ScoreHistory, cycle: int) -> str:
    score = "no score" if row.overall_score is None else f"{row.overall_score:.1f}"
    return (
        f"Cycle {cycle} · {format_datetime(row.created_at)} · "
        f"{trigger_label(row.trigger)} · {score}"
    )


def _as_dict(row: ScoreHistory, cycle: int) -> dict:
    return {
        "id": row.id,
        "assessment_id": row.assessment_id,
        "cycle": cycle,
        "time": row.created_at,
        "overall": row.overall_score,
        "band": row.band,
        "completion": row.completion,
        "trigger": row.trigger,
        "sections": row.section_scores,
        "formula_version": row.formula_version,
        "question_scores": row.question_scores,
        "label": _label(row, cycle),
    }


def _product_snapshots(
    session: Session, actor: Actor, assessment: Assessment, bank_key: str
) -> list[tuple[ScoreHistory, Assessment]]:
    """Snapshots of every readable cycle of the product on the same bank, by cycle then time."""
    visibility = get_settings(session)["reviewer_visibility"]
    rows = session.execute(
        select(ScoreHistory, Assessment)
        .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
        .join(Questionnaire, Questionnaire.id == Assessment.questionnaire_id)
        .where(
            Assessment.product_id == assessment.product_id,
            Assessment.is_active,
            Questionnaire.key == bank_key,
        )
        .order_by(Assessment.cycle, ScoreHistory.created_at, ScoreHistory.id)
    ).all()
    return [(s, a) for s, a in rows if can_read_assessment(actor, a, visibility)]


def _pick_pair(
    snaps: list[dict], assessment_id: int, before_id: int | None, after_id: int | None
) -> tuple[dict | None, dict | None]:
    """The chosen snapshots; by default this assessment's latest and the one just before it."""
    by_id = {s["id"]: s for s in snaps}
    if any(i is not None and i not in by_id for i in (before_id, after_id)):
        raise NotFound("That snapshot is not in this product's score history.")
    own = [s for s in snaps if s["assessment_id"] == assessment_id]
    after = by_id[after_id] if after_id is not None else (own[-1] if own else None)
    if before_id is not None:
        return by_id[before_id], after
    position = snaps.index(after) if after is not None else 0
    return (snaps[position - 1] if position > 0 else None), after


def _movement(
    bank: Bank, before: dict | None, after: dict | None
) -> tuple[pd.DataFrame, str | None]:
    empty = pd.DataFrame(columns=MOVEMENT_COLUMNS)
    if after is None:
        return empty, "No snapshot yet: the score is recorded when the assessment is submitted."
    if before is None:
        return empty, "Only one snapshot so far: there is nothing to compare it with yet."
    if before["id"] == after["id"]:
        return empty, "Pick two different snapshots to see what moved."
    frame = movement_frame(bank, before, after)
    if frame.attrs.get("note") or len(frame):
        return frame, frame.attrs.get("note")
    band = (
        f"; the band went from {before['band']} to {after['band']} because the band limits differ"
        if before["band"] != after["band"]
        else ""
    )
    return frame, f"No question's points moved between these snapshots{band}."


def score_explanation(
    session: Session,
    actor: Actor,
    assessment_id: int,
    *,
    before_id: int | None = None,
    after_id: int | None = None,
) -> dict:
    """Everything that explains one readable assessment's score: live result, frames, history
    of the product's cycles and what moved between two snapshots (default: previous and latest)."""
    assessment = get_assessment(session, actor, assessment_id)
    bank, result = current_result(session, assessment)
    pairs = _product_snapshots(session, actor, assessment, bank.key)
    snaps = [_as_dict(s, a.cycle) for s, a in pairs]
    own = [s for s, _ in pairs if s.assessment_id == assessment.id]
    before, after = _pick_pair(snaps, assessment.id, before_id, after_id)
    movement, note = _movement(bank, before, after)
    today = bands(session)
    return {
        "assessment_id": assessment.id,
        "status": assessment.status,
        "cycle": assessment.cycle,
        "bank": bank,
        "result": result,
        "bands": today,
        "snapshots": snaps,
        "latest": next((s for s in reversed(snaps) if s["assessment_id"] == assessment.id), None),
        "recorded_differs": bool(own) and result_differs(own[-1], result),
        "sections": section_frame(bank, result, today),
        "lost": lost_points_frame(bank, result),
        "history": history_frame(snaps),
        "before": before,
        "after": after,
        "movement": movement,
        "movement_note": note,
    }
