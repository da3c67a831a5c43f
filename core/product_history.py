"""A product's score history: the products to choose from, and every snapshot of every cycle."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.filters import Filters, scope, visibility
from core.labels import format_date, trigger_label
from core.models import Assessment, Organization, Product, Questionnaire, ScoreHistory
from core.products import get_product


@dataclass(frozen=True)
class ProductChoice:
    """A product to pick, with its organisation's name."""

    id: int
    name: str
    organization: str


@dataclass(frozen=True)
class ProductChoices:
    """The first products by name, and how many there are in all."""

    products: list[ProductChoice]
    total: int


def product_choices(
    session: Session, actor: Actor, filters: Filters, *, limit: int = 500
) -> ProductChoices:
    """Products with a snapshot within the filters, by name (at most `limit`), and how many."""
    stmt = scope(
        select(Product.id, Product.name, Organization.name.label("organization"))
        .join(Assessment, Assessment.product_id == Product.id)
        .join(Organization, Organization.id == Product.organization_id)
        .where(Assessment.latest_score.is_not(None)),
        actor,
        filters,
    ).distinct()
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(stmt.order_by(Product.name, Product.id).limit(limit)).all()
    return ProductChoices([ProductChoice(*r) for r in rows], int(total or 0))


def product_history_frame(session: Session, actor: Actor, product_id: int) -> pd.DataFrame:
    """Every snapshot of every cycle of one product the actor may read, oldest first: time, cycle,
    questionnaire, overall, band, completion, trigger and a label."""
    get_product(session, actor, product_id)
    rows = session.connection().execute(
        _history(actor, visibility(session, actor)), {"product": product_id}
    )
    frame = pd.DataFrame(
        rows.all(),
        columns=["time", "cycle", "questionnaire", "overall", "band", "completion", "trigger"],
    )
    frame["label"] = [
        f"Cycle {c} · {trigger_label(t)} · {format_date(w)}: "
        + ("no score" if pd.isna(o) else f"{o:.1f}")
        for c, t, w, o in zip(
            frame["cycle"], frame["trigger"], frame["time"], frame["overall"], strict=False
        )
    ]
    return frame


@lru_cache(maxsize=256)
def _history(actor: Actor, seen: str) -> Select[*tuple[Any, ...]]:
    """The snapshots of the product bound as "product", within the actor's scope, oldest first
    (built once per scope)."""
    return scope(
        select(
            ScoreHistory.created_at,
            Assessment.cycle,
            Questionnaire.title + " v" + func.cast(Questionnaire.version, Questionnaire.title.type),
            ScoreHistory.overall_score,
            ScoreHistory.band,
            ScoreHistory.completion,
            ScoreHistory.trigger,
        )
        .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
        .join(Questionnaire, Questionnaire.id == Assessment.questionnaire_id)
        .where(Assessment.product_id == bindparam("product")),
        actor,
        Filters(),
        seen,
    ).order_by(ScoreHistory.created_at, ScoreHistory.id)
