"""The assessments that need attention: overdue reviews, failed critical questions, score drops.

Each reason is one statement of (assessment id, value) over Assessment, ranked and labelled in SQL;
only the first rows of each reason leave the database, with how many there are in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from core.access import ROLES, Actor, require_role
from core.analytics import WAITING
from core.filters import Filters, scope, visibility
from core.labels import format_date
from core.models import Assessment, Organization, Product, Questionnaire, utcnow
from core.scoring import CRITICAL_FAIL_BELOW
from core.settings import get_setting

DROP_POINTS = 5.0  # a fall of at least this many points between the last two snapshots
ATTENTION_COLUMNS = [
    "assessment_id",
    "organization",
    "product",
    "questionnaire",
    "status",
    "latest_score",
    "latest_band",
    "reason",
    "detail",
]


@dataclass(frozen=True)
class Attention:
    """The assessments that need attention, up to a limit per reason (columns
    ATTENTION_COLUMNS), and how many there are per reason in all."""

    rows: pd.DataFrame
    counts: dict[str, int]


class _Metric(NamedTuple):
    """One reason: a statement of (aid, value) over Assessment, and its order."""

    reason: str
    statement: Select[Any, Any]
    descending: bool


def _labelled(metric: Select[Any, Any], descending: bool, limit: int) -> Select[*tuple[Any, ...]]:
    """The first `limit` rows of (aid, value), named (organisation, product, questionnaire, status,
    score, band), each with how many rows the metric has in all (a window over them: no second
    statement to count)."""
    sub = metric.subquery()
    order = (sub.c.value.desc() if descending else sub.c.value, sub.c.aid)
    total = func.count().over().label("total")
    top = select(sub.c.aid, sub.c.value, total).order_by(*order).limit(limit).subquery()
    return (
        select(
            Assessment.id,
            Organization.name,
            Product.name,
            Questionnaire.title + " v" + func.cast(Questionnaire.version, Questionnaire.title.type),
            Assessment.status,
            Assessment.latest_score,
            Assessment.latest_band,
            top.c.value,
            top.c.total,
        )
        .join(Assessment, Assessment.id == top.c.aid)
        .join(Organization, Organization.id == Assessment.organization_id)
        .join(Product, Product.id == Assessment.product_id)
        .join(Questionnaire, Questionnaire.id == Assessment.questionnaire_id)
        .order_by(top.c.value.desc() if descending else top.c.value, Assessment.id)
    )


@lru_cache(maxsize=256)
def _statements(
    actor: Actor, filters: Filters, seen: str, limit: int
) -> tuple[tuple[str, Select[*tuple[Any, ...]]], ...]:
    """(reason, statement) of each reason within the actor's scope and the filters, built once
    per scope (the review cutoff is the bound parameter "cutoff"): building and keying a
    statement costs more than running it on the read model's indexes."""
    return tuple(
        (reason, _labelled(scope(statement, actor, filters, seen), descending, limit))
        for reason, statement, descending in _attention_metrics(bindparam("cutoff"))
    )


def attention(
    session: Session,
    actor: Actor,
    filters: Filters,
    *,
    now: datetime | None = None,
    limit: int = 20,
) -> Attention:
    """Assessments that need attention (up to `limit` per reason) and how many there are per
    reason: overdue reviews (oldest first), failed critical questions in the stored answers (most
    first), and drops of DROP_POINTS or more between the last two snapshots (largest first)."""
    require_role(actor, *ROLES)
    seen = visibility(session, actor)
    now = now or utcnow()
    cutoff = {"cutoff": now - timedelta(days=get_setting(session, "review_sla_days"))}
    rows: list[tuple[Any, ...]] = []
    counts: dict[str, int] = {}
    for reason, statement in _statements(actor, filters, seen, limit):
        found = session.connection().execute(statement, cutoff).all()
        counts[reason] = int(found[0][-1]) if found else 0
        rows += [(*r[:7], reason, _detail(reason, r[7], now)) for r in found]
    return Attention(pd.DataFrame(rows, columns=ATTENTION_COLUMNS), counts)


def _detail(reason: str, value: Any, now: datetime) -> str:
    if reason == "overdue":
        return f"submitted {format_date(value)}, waiting {(now - value).days} days"
    if reason == "failed_critical":
        return f"{value} critical question{'s' if value != 1 else ''} below {CRITICAL_FAIL_BELOW:g}"
    return f"{value:+.1f} points since the previous snapshot"


def _attention_metrics(cutoff: Any) -> tuple[_Metric, ...]:
    """Overdue reviews, failed critical questions and score drops, as metrics."""
    overdue = select(Assessment.id.label("aid"), Assessment.submitted_at.label("value")).where(
        Assessment.status.in_(WAITING), Assessment.submitted_at < cutoff
    )
    return (
        _Metric("overdue", overdue, False),
        _Metric(
            "failed_critical",
            select(Assessment.id.label("aid"), Assessment.failed_critical.label("value")).where(
                Assessment.failed_critical > 0
            ),
            True,
        ),
        _Metric(
            "score_drop",
            select(Assessment.id.label("aid"), Assessment.score_change.label("value")).where(
                Assessment.score_change <= -DROP_POINTS
            ),
            False,
        ),
    )
