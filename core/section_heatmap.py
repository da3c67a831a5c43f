"""The section heatmap: latest section scores of the weakest products the actor may read."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from core.access import ROLES, Actor, require_role
from core.filters import Filters, rollups_answer, scope, scope_rollup, visibility
from core.models import (
    Assessment,
    AssessmentSection,
    BenchmarkCount,
    BenchmarkTotal,
    Organization,
    Product,
)
from core.peers import OVERALL, section_titles

B, T = BenchmarkCount, BenchmarkTotal
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
    conn = session.connection()
    counted, weakest = _statements(
        actor, filters, questionnaire_id, limit, visibility(session, actor)
    )
    total = conn.scalar(counted)
    rows = conn.execute(weakest).all()
    scores: dict[int, dict[str, float]] = {}
    for aid, key, score in conn.execute(_SCORES, {"ids": [r[0] for r in rows]}):
        scores.setdefault(aid, {})[key] = score
    titles = section_titles(session, questionnaire_id)
    out = [
        (product, org, key, title, scores.get(aid, {}).get(key))
        for aid, product, org in rows
        for key, title in titles.items()
    ]
    return Heatmap(pd.DataFrame(out, columns=HEATMAP_COLUMNS), int(total or 0))


_SCORES = select(
    AssessmentSection.assessment_id, AssessmentSection.section_key, AssessmentSection.score
).where(AssessmentSection.assessment_id.in_(bindparam("ids", expanding=True)))


@lru_cache(maxsize=256)
def _statements(
    actor: Actor, filters: Filters, questionnaire_id: int, limit: int, seen: str
) -> tuple[Select[Any], Select[int, str, str]]:
    """How many products there are in all, and (assessment, product, organisation) of the weakest
    `limit`, built once per scope and filters (building and keying them costs more than running
    them)."""
    on_version = Assessment.questionnaire_id == questionnaire_id
    counted: Select[Any]
    if rollups_answer(actor, seen, filters):  # the read model's benchmark units, by score
        units = scope(
            select(Assessment.id).where(on_version, Assessment.is_benchmark), actor, filters
        )
        narrowed = actor.is_client or filters != Filters(start=filters.start, end=filters.end)
        table: Any = B if narrowed else T  # the version's totals, unless only some count
        counted = select(func.sum(table.products)).where(
            table.questionnaire_id == questionnaire_id, table.section_key == OVERALL
        )
        if narrowed:
            counted = scope_rollup(counted, actor, filters, B)
    else:  # each product's newest visible scored assessment (within the accepted share)
        mine = scope(
            select(func.max(Assessment.id)).where(on_version, Assessment.latest_score.is_not(None)),
            actor,
            filters,
            seen,
        ).group_by(Assessment.product_id)
        units = select(Assessment.id).where(Assessment.id.in_(mine))
        counted = select(func.count()).select_from(mine.subquery())
    weakest = units.order_by(Assessment.latest_score, Assessment.id).limit(limit).subquery()
    return counted, (
        select(Assessment.id, Product.name, Organization.name)
        .join(weakest, weakest.c.id == Assessment.id)
        .join(Product, Product.id == Assessment.product_id)
        .join(Organization, Organization.id == Assessment.organization_id)
        .order_by(Assessment.latest_score, Product.name)
    )
