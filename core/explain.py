"""Why a score is what it is: section and lost-point tables, movement between snapshots, one loader."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, can_read_assessment
from core.banks.model import Answer, Bank
from core.errors import NotFound
from core.labels import format_datetime, trigger_label
from core.models import Assessment, Questionnaire, ScoreHistory
from core.scoring import DEFAULT_BANDS, Bands, ScoreResult, band_for, lost_points, score_delta
from core.settings import bands, get_settings
from core.snapshots import current_result, result_differs
from core.workspace import get_assessment

SECTION_COLUMNS = ["key", "section", "score", "weight", "answered", "band"]
LOST_COLUMNS = ["question", "text", "section", "weight", "score", "points_lost"]
MOVEMENT_COLUMNS = ["question", "text", "section", "before", "after", "change"]
NO_QUESTION_SCORES = (
    "One of these snapshots was taken before per-question scores were recorded, "
    "so what moved between them cannot be broken down."
)


@dataclass(frozen=True)
class Snapshot:
    """One score_history row as the explanation shows it, with the cycle of its assessment."""

    id: int
    assessment_id: int
    cycle: int
    time: datetime
    overall: float | None
    band: str | None
    completion: float
    trigger: str
    sections: dict[str, Any]
    formula_version: str
    # {"scores": ..., "contributions": ...}; None on snapshots taken before revision 0003
    question_scores: dict[str, Any] | None
    label: str


# The history chart's columns: every snapshot field but what only explains the movement.
_MOVEMENT_ONLY = ("sections", "formula_version", "question_scores")
HISTORY_COLUMNS = [f.name for f in fields(Snapshot) if f.name not in _MOVEMENT_ONLY]


@dataclass(frozen=True)
class ScoreExplanation:
    """Everything that explains one assessment's score, as score_explanation() loads it."""

    assessment_id: int
    status: str
    cycle: int
    bank: Bank
    result: ScoreResult  # the live score of the answers as they stand, with today's bands
    bands: Bands
    snapshots: list[Snapshot]  # every readable cycle of the product on this bank, oldest first
    latest: Snapshot | None  # this assessment's newest snapshot
    recorded_differs: bool  # the live result differs from this assessment's newest snapshot
    sections: pd.DataFrame
    lost: pd.DataFrame
    history: pd.DataFrame
    before: Snapshot | None
    after: Snapshot | None
    movement: pd.DataFrame
    movement_note: str | None
    answers: dict[str, Answer]  # as stored: what the score planner lays its plan over


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


def has_question_scores(snapshot: Snapshot | None) -> bool:
    """True when a snapshot carries the per-question scores that explain it."""
    stored = snapshot.question_scores if snapshot is not None else None
    return isinstance(stored, dict) and "contributions" in stored and "scores" in stored


def _stored_result(snapshot: Snapshot) -> ScoreResult:
    """A snapshot as a ScoreResult, from its stored columns only."""
    stored = snapshot.question_scores or {}
    return ScoreResult(
        overall=snapshot.overall,
        sections=dict(snapshot.sections or {}),
        question_scores=dict(stored["scores"]),
        contributions={k: float(v) for k, v in stored["contributions"].items()},
        completion=snapshot.completion or 0.0,
        answered=0,
        total=0,
        band=snapshot.band,
        failed_critical=(),
        formula_version=snapshot.formula_version or "",
    )


def movement_frame(bank: Bank, before_snap: Snapshot, after_snap: Snapshot) -> pd.DataFrame:
    """Per question, the change in overall points between two snapshots (largest first); the
    changes sum to the change in overall. Empty, with attrs["note"], when a snapshot lacks
    stored question scores."""
    if not (has_question_scores(before_snap) and has_question_scores(after_snap)):
        frame = pd.DataFrame(columns=MOVEMENT_COLUMNS)
        frame.attrs["note"] = NO_QUESTION_SCORES
        return frame
    before, after = _stored_result(before_snap), _stored_result(after_snap)
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


def history_frame(snapshots: list[Snapshot]) -> pd.DataFrame:
    """Snapshots as a frame for the history chart, in the order given."""
    return pd.DataFrame(
        [{c: getattr(s, c) for c in HISTORY_COLUMNS} for s in snapshots], columns=HISTORY_COLUMNS
    )


def _label(row: ScoreHistory, cycle: int) -> str:
    score = "no score" if row.overall_score is None else f"{row.overall_score:.1f}"
    return (
        f"Cycle {cycle} · {format_datetime(row.created_at)} · "
        f"{trigger_label(row.trigger)} · {score}"
    )


def _snapshot(row: ScoreHistory, cycle: int) -> Snapshot:
    return Snapshot(
        id=row.id,
        assessment_id=row.assessment_id,
        cycle=cycle,
        time=row.created_at,
        overall=row.overall_score,
        band=row.band,
        completion=row.completion,
        trigger=row.trigger,
        sections=row.section_scores,
        formula_version=row.formula_version,
        question_scores=row.question_scores,
        label=_label(row, cycle),
    )


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
    snaps: list[Snapshot], assessment_id: int, before_id: int | None, after_id: int | None
) -> tuple[Snapshot | None, Snapshot | None]:
    """The chosen snapshots; by default this assessment's latest and the one just before it."""
    by_id = {s.id: s for s in snaps}
    if any(i is not None and i not in by_id for i in (before_id, after_id)):
        raise NotFound("That snapshot is not in this product's score history.")
    own = [s for s in snaps if s.assessment_id == assessment_id]
    after = by_id[after_id] if after_id is not None else (own[-1] if own else None)
    if before_id is not None:
        return by_id[before_id], after
    position = snaps.index(after) if after is not None else 0
    return (snaps[position - 1] if position > 0 else None), after


def _movement(
    bank: Bank, before: Snapshot | None, after: Snapshot | None
) -> tuple[pd.DataFrame, str | None]:
    empty = pd.DataFrame(columns=MOVEMENT_COLUMNS)
    if after is None:
        return empty, "No snapshot yet: the score is recorded when the assessment is submitted."
    if before is None:
        return empty, "Only one snapshot so far: there is nothing to compare it with yet."
    if before.id == after.id:
        return empty, "Pick two different snapshots to see what moved."
    frame = movement_frame(bank, before, after)
    note = frame.attrs.get("note")
    if note or len(frame):
        return frame, note
    band = (
        f"; the band went from {before.band} to {after.band} because the band limits differ"
        if before.band != after.band
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
) -> ScoreExplanation:
    """Everything that explains one readable assessment's score: live result, frames, history
    of the product's cycles and what moved between two snapshots (default: previous and latest)."""
    assessment = get_assessment(session, actor, assessment_id)
    current = current_result(session, assessment)
    bank, result = current.inputs.bank, current.result
    pairs = _product_snapshots(session, actor, assessment, bank.key)
    snaps = [_snapshot(s, a.cycle) for s, a in pairs]
    own = [s for s, _ in pairs if s.assessment_id == assessment.id]
    before, after = _pick_pair(snaps, assessment.id, before_id, after_id)
    movement, note = _movement(bank, before, after)
    today = bands(session)
    return ScoreExplanation(
        assessment_id=assessment.id,
        status=assessment.status,
        cycle=assessment.cycle,
        bank=bank,
        result=result,
        bands=today,
        snapshots=snaps,
        latest=next((s for s in reversed(snaps) if s.assessment_id == assessment.id), None),
        recorded_differs=bool(own) and result_differs(own[-1], result),
        sections=section_frame(bank, result, today),
        lost=lost_points_frame(bank, result),
        history=history_frame(snaps),
        before=before,
        after=after,
        movement=movement,
        movement_note=note,
        answers=current.inputs.answers,
    )
