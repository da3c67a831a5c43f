"""How well each score is proven: an assurance level per answer, derived here and never set by a
user, and the share of a score's points at each level.

The levels, from least to most assured:

* self-attested: the answer alone;
* with evidence: evidence is attached, with no "valid until" date or only dates that passed;
* evidence in date: at least one attached file is valid until today or later;
* reviewer-accepted: a reviewer accepted the answer (a changed answer goes back to pending, so
  an acceptance is always of the answer as it stands).

A score's points are the overall points its questions contribute (core.scoring contributions;
a section's points are the same contributions of its questions, in proportion). The shares are
the percentage of those points at each level; they sum to 100, and a score with no points (none
scored, or every scored answer at zero) has no shares. "Assured" points are the in-date and
reviewer-accepted ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.banks.model import Bank
from core.models import EvidenceFile, Question, QuestionnaireResponse, ScoreHistory, utcnow
from core.scoring import ScoreResult
from core.workspace import get_assessment

LEVELS = ("self_attested", "evidence", "evidence_valid", "accepted")
LEVEL_LABELS = {
    "self_attested": "Self-attested",
    "evidence": "With evidence",
    "evidence_valid": "Evidence in date",
    "accepted": "Reviewer-accepted",
}
ASSURED = ("evidence_valid", "accepted")

Shares = dict[str, float]  # level -> percent of the score's points, summing to 100


def answer_level(accepted: bool, valid_until: Iterable[date | None], today: date) -> str:
    """The level of one answer: whether a reviewer accepted it, and the "valid until" dates of
    its evidence (None for a file without one; no files, no evidence)."""
    if accepted:
        return "accepted"
    dates = list(valid_until)
    if any(until is not None and until >= today for until in dates):
        return "evidence_valid"
    return "evidence" if dates else "self_attested"


def _shares(points: Mapping[str, float], levels: Mapping[str, str]) -> Shares | None:
    total = sum(points.values())
    if total <= 0:
        return None
    by_level = dict.fromkeys(LEVELS, 0.0)
    for key, value in points.items():
        by_level[levels.get(key, "self_attested")] += value
    return {level: 100.0 * value / total for level, value in by_level.items()}


@dataclass(frozen=True)
class Assurance:
    """The shares of an assessment's overall points, and of each section's, at each level."""

    overall: Shares | None
    sections: dict[str, Shares | None]

    def as_json(self) -> dict[str, Any]:
        """As score_history.assurance stores it."""
        return {"overall": self.overall, "sections": self.sections}


def assurance_shares(bank: Bank, result: ScoreResult, levels: Mapping[str, str]) -> Assurance:
    """The shares of the scored points at each level (a question missing from ``levels`` counts
    as self-attested)."""
    sections = {
        section.key: _shares(
            {
                q.key: result.contributions[q.key]
                for q in section.questions
                if q.key in result.contributions
            },
            levels,
        )
        for section in bank.sections
    }
    return Assurance(_shares(result.contributions, levels), sections)


def from_json(stored: Mapping[str, Any] | None) -> Assurance | None:
    """An Assurance back from score_history.assurance (None for snapshots before it was kept)."""
    if not stored:
        return None
    return Assurance(stored.get("overall"), dict(stored.get("sections") or {}))


def share_of(shares: Shares | None, levels: Iterable[str]) -> float | None:
    """The percent of the points at any of these levels (None when the score has no points)."""
    return None if shares is None else sum(shares.get(level, 0.0) for level in levels)


def answer_levels(
    session: Session, assessment_id: int, today: date | None = None
) -> dict[str, str]:
    """The level of every stored answer of an assessment, by question key (callers check access)."""
    today = today or utcnow().date()
    rows = session.execute(
        select(Question.key, QuestionnaireResponse.review_state, Question.id)
        .join(Question, Question.id == QuestionnaireResponse.question_id)
        .where(QuestionnaireResponse.assessment_id == assessment_id)
    ).all()
    files: dict[int | None, list[date | None]] = {}
    for question_id, until in session.execute(
        select(EvidenceFile.question_id, EvidenceFile.valid_until).where(
            EvidenceFile.assessment_id == assessment_id,
            EvidenceFile.is_active,
            EvidenceFile.question_id.is_not(None),
        )
    ):
        files.setdefault(question_id, []).append(until)
    return {
        key: answer_level(state == "accepted", files.get(question_id, ()), today)
        for key, state, question_id in rows
    }


def assurance_history(session: Session, actor: Actor, assessment_id: int) -> list[Assurance | None]:
    """The shares of every snapshot of an assessment the actor may read, oldest first in the
    order of core.assessments.score_history (None for snapshots before they were kept)."""
    get_assessment(session, actor, assessment_id)
    stored = session.scalars(
        select(ScoreHistory.assurance)
        .where(ScoreHistory.assessment_id == assessment_id)
        .order_by(ScoreHistory.created_at, ScoreHistory.id)
    )
    return [from_json(row) for row in stored]
