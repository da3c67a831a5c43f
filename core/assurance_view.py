"""How well the scores on screen are proven: one assessment's live assurance shares for the Scores
page, and the portfolio's assured and reviewer-accepted shares for the Overview.

The levels and the shares are core/assurance.py's. The portfolio's figures are weighted by points:
sum(latest score x share) / sum(latest score) over the assessments in scope with a latest score
and both shares, read from the read-model columns on each assessment (never its answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import ROLES, Actor, require_role
from core.assurance import Assurance, Shares, answer_levels, assurance_shares
from core.filters import Filters, scope, visibility
from core.models import Assessment
from core.snapshots import current_result
from core.workspace import get_assessment

NOT_ASSURED = "not_assured"  # the portfolio's self-attested and with-evidence points together
PORTFOLIO_LEVELS = (NOT_ASSURED, "evidence_valid", "accepted")


def live_assurance(
    session: Session, actor: Actor, assessment_id: int, today: date | None = None
) -> Assurance:
    """The shares of a readable assessment's live score (its answers as they stand) at each
    level, overall and per section, with evidence dates read against today."""
    assessment = get_assessment(session, actor, assessment_id)
    current = current_result(session, assessment)
    levels = answer_levels(session, assessment.id, today)
    return assurance_shares(current.inputs.bank, current.result, levels)


@dataclass(frozen=True)
class PortfolioAssurance:
    """The points-weighted shares (percent, 0-100) of the latest scores in scope that are assured
    (evidence in date or reviewer-accepted) and reviewer-accepted; None while no assessment
    in scope has shares. `assessments` counts those with shares, `points` sums their scores."""

    assessments: int
    points: float
    assured: float | None
    accepted: float | None

    @property
    def shares(self) -> Shares | None:
        """The shares by PORTFOLIO_LEVELS (the read model keeps no finer split), or None."""
        if self.assured is None or self.accepted is None:
            return None
        return {
            NOT_ASSURED: max(0.0, 100.0 - self.assured),
            "evidence_valid": max(0.0, self.assured - self.accepted),
            "accepted": self.accepted,
        }


def portfolio_assurance(session: Session, actor: Actor, filters: Filters) -> PortfolioAssurance:
    """The assured and reviewer-accepted shares of the latest scores the actor may read within
    the filters, weighted by points (one aggregate over the assessments, no answers read)."""
    require_role(actor, *ROLES)
    score = Assessment.latest_score
    stmt = select(
        func.count(),
        func.sum(score),
        func.sum(score * Assessment.assured_share),
        func.sum(score * Assessment.accepted_share),
    ).where(
        score.is_not(None),
        Assessment.assured_share.is_not(None),
        Assessment.accepted_share.is_not(None),
    )
    count, points, assured, accepted = session.execute(
        scope(stmt, actor, filters, visibility(session, actor))
    ).one()
    points = float(points or 0)
    if not count or points <= 0:
        return PortfolioAssurance(int(count or 0), points, None, None)
    return PortfolioAssurance(
        int(count), points, float(assured or 0) / points, float(accepted or 0) / points
    )
