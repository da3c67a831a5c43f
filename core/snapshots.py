"""Score snapshots: append-only rows in score_history, and the per-assessment summary."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypedDict

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_role
from core.assurance import ASSURED, answer_levels, assurance_shares, share_of
from core.banks.answers import is_visible
from core.banks.model import Answer, Bank
from core.banks.store import load_bank
from core.mappings.provenance import origin_states
from core.models import Assessment, Question, QuestionnaireResponse, ScoreHistory, utcnow
from core.scoring import FORMULA_VERSION, Bands, ScoreResult, score_assessment
from core.settings import bands

# Scores are 0-100 and completion 0-1; closer than this is "unchanged" for a recompute.
RECOMPUTE_TOLERANCE = 1e-6


def load_answers(session: Session, assessment_id: int) -> dict[str, Answer]:
    """The stored answers of an assessment, by question key."""
    rows = session.execute(
        select(Question.key, QuestionnaireResponse.value, QuestionnaireResponse.is_na)
        .join(Question, Question.id == QuestionnaireResponse.question_id)
        .where(QuestionnaireResponse.assessment_id == assessment_id)
    ).all()
    return {key: Answer(value=value, is_na=is_na) for key, value, is_na in rows}


@dataclass(frozen=True)
class ScoreInputs:
    """What scoring one assessment needs, loaded once per action and passed down."""

    bank: Bank
    answers: dict[str, Answer]
    bands: Bands


def score_inputs(
    session: Session,
    assessment: Assessment,
    bank: Bank | None = None,
    used_bands: Bands | None = None,
) -> ScoreInputs:
    """The assessment's bank, stored answers and today's bands (or the bank and bands given)."""
    return ScoreInputs(
        bank or load_bank(session, assessment.questionnaire_id),
        load_answers(session, assessment.id),
        used_bands or bands(session),
    )


@dataclass(frozen=True)
class Scored:
    """An assessment's score inputs and the result scored from them."""

    inputs: ScoreInputs
    result: ScoreResult


class StoredScores(TypedDict):
    """The per-question part of a snapshot, as score_history.question_scores stores it (JSON)."""

    scores: dict[str, float | None]
    contributions: dict[str, float]


class SnapshotFigures(Protocol):
    """What a recompute compares: the figures of a snapshot (a score_history row or its summary)."""

    @property
    def overall_score(self) -> float | None: ...
    @property
    def band(self) -> str | None: ...
    @property
    def completion(self) -> float: ...
    @property
    def section_scores(self) -> dict[str, Any]: ...


def _score(inputs: ScoreInputs) -> Scored:
    return Scored(inputs, score_assessment(inputs.bank, inputs.answers, inputs.bands))


def current_result(session: Session, assessment: Assessment) -> Scored:
    """Score the assessment's answers as they stand, with today's bands."""
    return _score(score_inputs(session, assessment))


def stored_scores(bank: Bank, answers: dict[str, Answer], result: ScoreResult) -> StoredScores:
    """What a snapshot keeps per question: the score of every visible question (None when
    unscored) and the overall points each scored question contributed."""
    visible = [q.key for q in bank.questions if is_visible(q, answers, bank)]
    return {
        "scores": {key: result.question_scores[key] for key in visible},
        "contributions": dict(result.contributions),
    }


def take_snapshot(
    session: Session,
    actor: Actor,
    assessment: Assessment,
    trigger: str,
    *,
    now: datetime | None = None,
    inputs: ScoreInputs | None = None,
) -> ScoreHistory:
    """Append a snapshot of the current score and refresh the assessment's summary columns;
    ``inputs``, when the caller has them, must be the answers as stored."""
    scored = _score(inputs or score_inputs(session, assessment))
    return _write(session, actor, assessment, scored, trigger, now)


def _write(
    session: Session,
    actor: Actor,
    assessment: Assessment,
    scored: Scored,
    trigger: str,
    now: datetime | None,
) -> ScoreHistory:
    now = now or utcnow()
    inputs, result = scored.inputs, scored.result
    bank, answers = inputs.bank, inputs.answers
    used = {"bands": [list(b) for b in inputs.bands]}
    kept = dict(stored_scores(bank, answers, result))
    origins = origin_states(session, assessment.id)
    if origins:  # where carried, confirmed and reused answers came from stays with the score
        kept["origins"] = origins
    assurance = assurance_shares(bank, result, answer_levels(session, assessment.id, now.date()))
    row = ScoreHistory(
        assessment_id=assessment.id,
        overall_score=result.overall,
        section_scores=dict(result.sections),
        band=result.band,
        completion=result.completion,
        answered_count=result.answered,
        total_count=result.total,
        trigger=trigger,
        actor_id=actor.user_id,
        formula_version=FORMULA_VERSION,
        settings_used=used,
        question_scores=kept,
        assurance=assurance.as_json(),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    assessment.latest_score, assessment.latest_band = result.overall, result.band
    assessment.completion = result.completion
    assessment.accepted_share = share_of(assurance.overall, ["accepted"])
    assessment.assured_share = share_of(assurance.overall, ASSURED)
    session.flush()
    audit.record(
        session,
        actor,
        "score_snapshot",
        object_type="assessment",
        object_id=assessment.id,
        detail={"trigger": trigger, "overall": result.overall, "band": result.band},
        now=now,
    )
    return row


def _latest_snapshots(session: Session) -> Sequence[Row[Any]]:
    """The newest snapshot of every assessment that has one (summary columns only)."""
    rank = func.row_number().over(
        partition_by=ScoreHistory.assessment_id,
        order_by=(ScoreHistory.created_at.desc(), ScoreHistory.id.desc()),
    )
    ranked = select(
        ScoreHistory.assessment_id,
        ScoreHistory.overall_score,
        ScoreHistory.band,
        ScoreHistory.section_scores,
        ScoreHistory.completion,
        rank.label("rank"),
    ).subquery()
    return session.execute(
        select(ranked).where(ranked.c.rank == 1).order_by(ranked.c.assessment_id)
    ).all()


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=0.0, abs_tol=RECOMPUTE_TOLERANCE)


def result_differs(snapshot: SnapshotFigures, result: ScoreResult) -> bool:
    """True when a result's overall, band, section scores or completion differ from a snapshot's."""
    sections = snapshot.section_scores or {}
    return (
        snapshot.band != result.band
        or not _close(snapshot.overall_score, result.overall)
        or not _close(snapshot.completion, result.completion)
        or set(sections) != set(result.sections)
        or not all(_close(sections[k], result.sections[k]) for k in sections)
    )


# Answers that can no longer change: only these are re-scored by a recompute.
FROZEN = ("submitted", "under_review", "approved", "rejected")


@dataclass(frozen=True)
class RecomputeReport:
    """What a recompute did: assessments with snapshots it re-scored, and how many changed."""

    checked: int
    changed: int


def recompute_scores(
    session: Session, actor: Actor, *, dry_run: bool = False, now: datetime | None = None
) -> RecomputeReport:
    """Re-score every snapshotted assessment with today's bands and formula and append a
    "recompute" snapshot where the result changed (admins only)."""
    require_role(actor, "admin")
    now = now or utcnow()
    latest, today = _latest_snapshots(session), bands(session)
    banks: dict[int, Bank] = {}
    changed: list[int] = []
    checked = 0
    for snapshot in latest:
        assessment = session.get_one(Assessment, snapshot.assessment_id)
        if assessment.status not in FROZEN:
            continue  # the client is editing: its answers are a draft, scored at the next submit
        checked += 1
        bank = banks.get(assessment.questionnaire_id) or load_bank(
            session, assessment.questionnaire_id
        )
        banks[assessment.questionnaire_id] = bank
        scored = _score(score_inputs(session, assessment, bank, today))
        if result_differs(snapshot, scored.result):
            changed.append(assessment.id)
            if not dry_run:
                _write(session, actor, assessment, scored, "recompute", now)
    report = RecomputeReport(checked=checked, changed=len(changed))
    counts = {"checked": report.checked, "changed": report.changed}
    if not dry_run:
        audit.record(
            session,
            actor,
            "scores_recomputed",
            object_type="score_history",
            detail={**counts, "assessments": changed, "formula_version": FORMULA_VERSION},
            now=now,
        )
    return report
