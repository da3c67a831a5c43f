"""Pure assessment scoring: question, section and overall scores, bands and point breakdowns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from core.banks.answers import is_visible, validate_answer
from core.banks.model import Answer, Bank, Question
from core.banks.question_types import QUESTION_TYPES

__all__ = [
    "BAND_NAMES",
    "DEFAULT_BANDS",
    "FORMULA_VERSION",
    "Answer",
    "Bands",
    "LostPoints",
    "ScoreResult",
    "answer_score",
    "band_for",
    "lost_points",
    "question_shares",
    "score_assessment",
    "score_delta",
]

FORMULA_VERSION = "2026.1"
Bands = tuple[tuple[float, str], ...]  # (lower threshold, name), best band first
DEFAULT_BANDS: Bands = ((80.0, "Low"), (60.0, "Medium"), (40.0, "High"))
BAND_NAMES = ("Low", "Medium", "High", "Critical")
CRITICAL_FAIL_BELOW = 0.5
# Float sums can give 79.99999999999999 for a score that is 80 on paper; that must not drop a band.
_BAND_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ScoreResult:
    """Scores of one assessment; None means "no score", which is not zero."""

    overall: float | None
    sections: dict[str, float | None]
    question_scores: dict[str, float | None]
    contributions: dict[str, float]
    completion: float
    answered: int
    total: int
    band: str | None
    failed_critical: tuple[str, ...]
    formula_version: str = FORMULA_VERSION


class LostPoints(NamedTuple):
    """The overall points one scored question lost against full score."""

    key: str
    points: float


def answer_score(question: Question, answer: Answer | None) -> float | None:
    """Score in [0, 1] of one answer, or None when N/A, unanswered or the type is unscored."""
    qtype = QUESTION_TYPES[question.type]
    if answer is None or not qtype.scored:
        return None
    value = validate_answer(question, answer.value, answer.is_na)
    return None if value is None else qtype.score(question, value)


def band_for(score: float | None, bands: Bands = DEFAULT_BANDS) -> str | None:
    """Band name for a 0-100 score: the first band whose threshold it reaches, else "Critical"."""
    if score is None:
        return None
    for threshold, name in sorted(bands, key=lambda band: -band[0]):
        if score + _BAND_TOLERANCE >= threshold:
            return name
    return "Critical"


def _escalate(band: str | None, bands: Bands) -> str | None:
    # A failed critical control caps the rating at "High" however good the rest is.
    order = [name for _, name in sorted(bands, key=lambda b: -b[0])] + ["Critical"]
    if band is None or "High" not in order:
        return band
    return order[max(order.index(band), order.index("High"))]


def _is_answered(answer: Answer | None) -> bool:
    return answer is not None and (answer.is_na or answer.value is not None)


def _visible_questions(bank: Bank, answers: Mapping[str, Answer]) -> list[Question]:
    return [q for q in bank.questions if is_visible(q, answers, bank)]


def score_assessment(
    bank: Bank, answers: Mapping[str, Answer], bands: Bands = DEFAULT_BANDS
) -> ScoreResult:
    """Score an assessment; hidden questions count nowhere."""
    visible = _visible_questions(bank, answers)
    q_scores: dict[str, float | None] = {q.key: None for q in bank.questions}
    for question in visible:
        q_scores[question.key] = answer_score(question, answers.get(question.key))
    sections = {s.key: _section_score(s.questions, q_scores) for s in bank.sections}
    contributions = _contributions(bank, q_scores)
    overall = _overall(bank, sections)
    failed = tuple(
        q.key
        for q in visible
        if q.critical
        and q.key in contributions
        and (score := q_scores[q.key]) is not None
        and score < CRITICAL_FAIL_BELOW
    )
    band = band_for(overall, bands)
    required = [q for q in visible if q.required]
    done = sum(_is_answered(answers.get(q.key)) for q in required)
    return ScoreResult(
        overall=overall,
        sections=sections,
        question_scores=q_scores,
        contributions=contributions,
        completion=done / len(required) if required else 1.0,
        answered=sum(_is_answered(answers.get(q.key)) for q in visible),
        total=len(visible),
        band=_escalate(band, bands) if failed else band,
        failed_critical=failed,
    )


def _section_score(
    questions: tuple[Question, ...], q_scores: Mapping[str, float | None]
) -> float | None:
    scored = [(q.weight, s) for q in questions if (s := q_scores[q.key]) is not None]
    total = sum(w for w, _ in scored)
    return _clamp(100.0 * sum(w * s for w, s in scored) / total) if scored else None


def _clamp(score: float) -> float:
    # Rounding in weighted sums can overshoot 100 by an ulp; scores are documented as 0-100.
    return min(100.0, max(0.0, score))


def _overall(bank: Bank, sections: Mapping[str, float | None]) -> float | None:
    scored = [(s.weight, score) for s in bank.sections if (score := sections[s.key]) is not None]
    total = sum(w for w, _ in scored)
    return _clamp(sum(w * s for w, s in scored) / total) if scored else None


def _shares(bank: Bank, q_scores: Mapping[str, float | None]) -> dict[str, float]:
    """Overall points each scored question would carry at full score."""
    scored_sections = [
        s for s in bank.sections if any(q_scores.get(q.key) is not None for q in s.questions)
    ]
    section_total = sum(s.weight for s in scored_sections)
    shares: dict[str, float] = {}
    for section in scored_sections:
        scored = [q for q in section.questions if q_scores.get(q.key) is not None]
        question_total = sum(q.weight for q in scored)
        for question in scored:
            shares[question.key] = (
                100.0 * section.weight / section_total * question.weight / question_total
            )
    return shares


def _scored_shares(
    bank: Bank, q_scores: Mapping[str, float | None]
) -> list[tuple[str, float, float]]:
    """(key, share at full score, score) of every scored question (all that _shares holds)."""
    shares = _shares(bank, q_scores).items()
    return [(key, share, score) for key, share in shares if (score := q_scores[key]) is not None]


def _contributions(bank: Bank, q_scores: Mapping[str, float | None]) -> dict[str, float]:
    return {key: share * score for key, share, score in _scored_shares(bank, q_scores)}


def question_shares(bank: Bank, result: ScoreResult) -> dict[str, float]:
    """Overall points each scored question carries at full score (they sum to 100)."""
    return _shares(bank, result.question_scores)


def lost_points(bank: Bank, result: ScoreResult) -> list[LostPoints]:
    """Overall points each scored question lost, largest first (questions at full score omitted)."""
    losses = [
        LostPoints(key, share * (1.0 - score))
        for key, share, score in _scored_shares(bank, result.question_scores)
    ]
    return sorted((item for item in losses if item.points > 0), key=lambda item: -item.points)


def score_delta(before: ScoreResult, after: ScoreResult) -> dict[str, float]:
    """Per-question change in overall points; the values sum to the change in overall."""
    keys = list(before.contributions) + [
        k for k in after.contributions if k not in before.contributions
    ]
    deltas = {k: after.contributions.get(k, 0.0) - before.contributions.get(k, 0.0) for k in keys}
    return {k: d for k, d in deltas.items() if d != 0.0}
