"""The section heatmap: latest section scores of the weakest products the actor may read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import ROLES, Actor, require_role
from core.filters import Filters, scope, seen_by
from core.models import Assessment, Organization, Product, ScoreHistory
from core.peers import section_titles
from core.settings import get_settings

HEATMAP_COLUMNS = ["product", "organization", "section", "title", "score"]


@dataclass(frozen=True)
class Heatmap:
    """Section scores of the weakest products, long form (columns HEATMAP_COLUMNS), and how many
    products there are in all."""

    frame: pd.DataFrame
    total: int


def heatmap_frame(
    session: Session, actor: Actor, filters: Filters, questionnaire_id: int, *, limit: int = 40
) -> Heatmap:
    """Section scores of the weakest `limit` products the actor may read within the filters
    (newest scored assessment on the version), and how many products there are in all."""
    require_role(actor, *ROLES)
    mine = scope(
        select(func.max(Assessment.id)).where(
            Assessment.questionnaire_id == questionnaire_id, Assessment.latest_score.is_not(None)
        ),
        actor,
        filters,
        seen_by(actor, get_settings(session)),
    ).group_by(Assessment.product_id)
    total = session.scalar(select(func.count()).select_from(mine.subquery()))
    weakest = (
        select(Assessment.id)
        .where(Assessment.id.in_(mine))  # latest_score = newest snapshot's
        .order_by(Assessment.latest_score, Assessment.id)
        .limit(limit)
    )
    latest = (
        select(func.max(ScoreHistory.id))
        .where(ScoreHistory.assessment_id.in_(weakest))
        .group_by(ScoreHistory.assessment_id)
    )
    rows = session.execute(
        select(
            Product.name, Organization.name, ScoreHistory.overall_score, ScoreHistory.section_scores
        )
        .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
        .join(Product, Product.id == Assessment.product_id)
        .join(Organization, Organization.id == Assessment.organization_id)
        .where(ScoreHistory.id.in_(latest))
        .order_by(ScoreHistory.overall_score, Product.name)
        .limit(limit)
    ).all()
    titles = section_titles(session, questionnaire_id)
    out = [
        (product, org, key, title, _number((sections or {}).get(key)))
        for product, org, _, sections in rows
        for key, title in titles.items()
    ]
    return Heatmap(pd.DataFrame(out, columns=HEATMAP_COLUMNS), int(total or 0))


def _number(value: Any) -> float | None:
    return None if value is None else float(json.loads(value) if isinstance(value, str) else value)
