"""The score planner (pure, no database): what planned answers would score, and the cheapest set
of changes that reaches a target score or band.

A plan never touches stored answers: it is a mapping of question keys to planned answers laid
over them. The cheapest plan raises questions to their best answer. Candidates are the questions
scored now whose best answer shows or hides no scored question (a condition's question is
checked by scoring that one change): raising one keeps every scored set and weight as it is, so
each gain is exactly the points it lost against its best answer, gains add up, and the search is
a 0/1 knapsack over whole-number efforts (exact, by dynamic programming over the total effort).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.banks.model import MAX_EFFORT, Answer, Bank, Question
from core.errors import ValidationError
from core.scoring import (
    BAND_NAMES,
    CRITICAL_FAIL_BELOW,
    DEFAULT_BANDS,
    Bands,
    ScoreResult,
    answer_score,
    question_shares,
    score_assessment,
)

__all__ = [
    "DEFAULT_TARGET",
    "MAX_EFFORT",
    "TARGET_BANDS",
    "Change",
    "Plan",
    "best_answer",
    "candidates",
    "cheapest_plan",
    "describe_target",
    "parse_target",
    "planned_changes",
    "project",
    "reaches",
    "target_label",
    "target_score",
    "target_text",
]
_TOLERANCE = 1e-9
TARGET_BANDS = ("Low", "Medium", "High")  # the bands a target may name
DEFAULT_TARGET = "Low"  # an organisation's target until an admin sets one
_BAD_TARGET = "The target must be the Low, Medium or High band, or a score from 0 to 100."


@dataclass(frozen=True)
class Change:
    """One planned answer: the question, the answer, and the overall points it adds."""

    key: str
    answer: Answer
    gain: float
    effort: int


@dataclass(frozen=True)
class Plan:
    """Changes that reach the target, their total effort, and the projected scores."""

    changes: tuple[Change, ...]
    effort: int
    projected: ScoreResult


def project(
    bank: Bank,
    answers: Mapping[str, Answer],
    planned: Mapping[str, Answer],
    bands: Bands = DEFAULT_BANDS,
) -> ScoreResult:
    """The scores the answers would have with the planned ones in their place."""
    return score_assessment(bank, {**answers, **planned}, bands)


def planned_changes(
    bank: Bank,
    answers: Mapping[str, Answer],
    planned: Mapping[str, Answer],
    bands: Bands = DEFAULT_BANDS,
) -> list[Change]:
    """Each planned answer with the overall points it adds on its own (with conditions between
    them, these need not add up to the projection's) and its question's effort, in bank order."""
    now = score_assessment(bank, answers, bands).overall or 0.0
    return [
        Change(
            q.key,
            planned[q.key],
            (project(bank, answers, {q.key: planned[q.key]}, bands).overall or 0.0) - now,
            q.effort,
        )
        for q in bank.questions
        if q.key in planned
    ]


def best_answer(question: Question) -> Answer | None:
    """The answer that scores the question highest (fewest options for a multiple choice), or
    None for an unscored question."""
    many = question.type == "multi_choice"
    scored = [
        (answer_score(question, Answer([o.key] if many else o.key)) or 0.0, o.key)
        for o in question.options
    ]
    if not scored:
        return None
    if not many:
        return Answer(max(scored, key=lambda pair: pair[0])[1])
    chosen, total = [], 0.0
    for score, key in sorted(scored, key=lambda pair: -pair[0]):
        if score <= 0 or total >= 1.0:
            break
        chosen.append(key)
        total += score
    return Answer(chosen or [scored[0][1]])


def target_score(target: float | str, bands: Bands = DEFAULT_BANDS) -> float:
    """A target as a score: a number from 0 to 100, or a band's lower bound."""
    if isinstance(target, str):
        bounds = {name: low for low, name in bands}
        if target not in bounds:
            raise ValidationError(
                f"The target band must be one of {', '.join(n for n in BAND_NAMES[:-1])}."
            )
        return float(bounds[target])
    if isinstance(target, bool) or not 0 <= target <= 100:
        raise ValidationError("The target score must be a number from 0 to 100.")
    return float(target)


def parse_target(text: str | None) -> float | str:
    """A stored target (an organisation's or a saved plan's) read back: a band's name, a score
    from "0" to "100", or nothing for the Low band."""
    if text is None or not text.strip():
        return DEFAULT_TARGET
    text = text.strip()
    if text in TARGET_BANDS:
        return text
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(_BAD_TARGET) from None
    if not 0 <= value <= 100:  # also refuses nan
        raise ValidationError(_BAD_TARGET)
    return value


def target_text(target: float | str) -> str:
    """A target as stored: the band's name, or the score to two decimals ("80", "72.5")."""
    if isinstance(target, str):
        if target not in TARGET_BANDS:
            raise ValidationError(_BAD_TARGET)
        return target
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 <= target <= 100:
        raise ValidationError(_BAD_TARGET)
    return f"{round(float(target), 2):g}"


def describe_target(target: float | str) -> str:
    """A target in words within a sentence: "the Low risk band", "a score of 72.5"."""
    if isinstance(target, str):
        return f"the {target} risk band"
    return f"a score of {target:g}"


def target_label(target: float | str) -> str:
    """A target as a label: "Low risk band", "Score of 72.5"."""
    return f"{target} risk band" if isinstance(target, str) else f"Score of {target:g}"


def reaches(result: ScoreResult, target: float | str, bands: Bands = DEFAULT_BANDS) -> bool:
    """Whether scores meet the target: the score, and for a band also the band itself (a failed
    critical control caps the band however high the score)."""
    if result.overall is None or result.overall + _TOLERANCE < target_score(target, bands):
        return False
    if isinstance(target, str):
        order = [name for _, name in sorted(bands, key=lambda b: -b[0])] + ["Critical"]
        return result.band is not None and order.index(result.band) <= order.index(target)
    return True


def candidates(
    bank: Bank, answers: Mapping[str, Answer], effort: Mapping[str, int] | None = None
) -> list[Change]:
    """Every question the cheapest plan may change, at its best answer with its exact gain; its
    effort is the one given, else the bank's (core.banks.model.Question.effort)."""
    now = score_assessment(bank, answers)
    shares = question_shares(bank, now)
    watched = {q.condition.question for q in bank.questions if q.condition is not None}
    found = []
    scored = _scored(now)
    for key, share in shares.items():
        question, score = bank.question(key), now.question_scores[key]
        best = best_answer(question)
        if best is None or score is None:
            continue
        if key in watched and _scored(project(bank, answers, {key: best})) != scored:
            continue  # its best answer shows or hides scored questions: the gains would not add
        gain = share * ((answer_score(question, best) or 0.0) - score)
        if gain > _TOLERANCE:
            found.append(Change(key, best, gain, _effort(effort, question)))
    return found


def _scored(result: ScoreResult) -> set[str]:
    return {key for key, score in result.question_scores.items() if score is not None}


def _effort(effort: Mapping[str, int] | None, question: Question) -> int:
    key = question.key
    value = (effort or {}).get(key, question.effort)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_EFFORT:
        raise ValidationError(f"The effort of {key} must be a whole number from 1 to {MAX_EFFORT}.")
    return value


def cheapest_plan(
    bank: Bank,
    answers: Mapping[str, Answer],
    target: float | str,
    bands: Bands = DEFAULT_BANDS,
    effort: Mapping[str, int] | None = None,
) -> Plan | None:
    """The changes of least total effort (among those, the most points) that make the
    answers reach the target; None when even every candidate together does not."""
    now = score_assessment(bank, answers, bands)
    if reaches(now, target, bands):
        return Plan((), 0, now)
    if now.overall is None:
        return None
    pool = candidates(bank, answers, effort)
    capped = _capped(target, bands)  # a failed critical control keeps the band from the target
    forced = [c for c in pool if capped and c.key in _failing(bank, now)]
    if capped and len(forced) < len(now.failed_critical):
        return None  # a failed critical control that no change can lift
    needed = target_score(target, bands) - now.overall - sum(c.gain for c in forced)
    chosen = _knapsack([c for c in pool if c not in forced], needed)
    if chosen is None:
        return None
    changes = tuple(sorted(forced + chosen, key=lambda c: -c.gain))
    projected = project(bank, answers, {c.key: c.answer for c in changes}, bands)
    if not reaches(projected, target, bands):  # float error at the very edge
        return None
    return Plan(changes, sum(c.effort for c in changes), projected)


def _capped(target: float | str, bands: Bands) -> bool:
    """Whether the target is a band better than "High", where a failed critical control caps it."""
    order = [name for _, name in sorted(bands, key=lambda b: -b[0])] + ["Critical"]
    return isinstance(target, str) and "High" in order and order.index(target) < order.index("High")


def _failing(bank: Bank, now: ScoreResult) -> set[str]:
    return {
        key
        for key in now.failed_critical
        if (answer_score(bank.question(key), best_answer(bank.question(key))) or 0.0)
        >= CRITICAL_FAIL_BELOW
    }


def _knapsack(pool: list[Change], needed: float) -> list[Change] | None:
    """The subset of least effort whose gains reach `needed`: best[e] is the (most points,
    fewest changes) subset of total effort e."""
    if needed <= _TOLERANCE:
        return []
    best: dict[int, tuple[float, int, tuple[int, ...]]] = {0: (0.0, 0, ())}
    for index, change in enumerate(pool):
        for spent, (gain, count, picked) in sorted(best.items(), reverse=True):
            total = spent + change.effort
            offer = (gain + change.gain, count + 1, (*picked, index))
            held = best.get(total)
            if held is None or (offer[0], -offer[1]) > (held[0], -held[1]):
                best[total] = offer
    reaching = [
        (spent, count, -gain, picked)
        for spent, (gain, count, picked) in best.items()
        if gain + _TOLERANCE >= needed
    ]
    if not reaching:
        return None
    return [pool[i] for i in min(reaching)[3]]
