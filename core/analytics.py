"""Read-only aggregates for the home pages and dashboards; SQL does the grouping.

The analytics pages share one `Filters` value and `scope()`: every aggregate is restricted to what
the actor may read (clients: their organisation; lead reviewers: per reviewer_visibility) and to
the filters, and returns small DataFrames ready for core.charts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from core.access import ROLES, STAFF, Actor, require_role, scope_assessments, scope_to_org
from core.labels import format_date
from core.models import (
    STATUSES,
    TIERS,
    Assessment,
    AuditLog,
    Organization,
    Product,
    Question,
    Questionnaire,
    QuestionnaireResponse,
    ScoreHistory,
    utcnow,
)
from core.periods import day_end, day_start
from core.scoring import BAND_NAMES, CRITICAL_FAIL_BELOW
from core.settings import get_settings

WAITING = ("submitted", "under_review")
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


def portfolio_totals(session: Session, actor: Actor) -> dict:
    """Organisations, products, assessments, average latest score and mean completion."""
    require_role(actor, *STAFF)
    orgs = session.scalar(
        select(func.count()).select_from(Organization).where(Organization.is_active)
    )
    products = session.scalar(select(func.count()).select_from(Product).where(Product.is_active))
    row = session.execute(
        select(
            func.count(), func.avg(Assessment.latest_score), func.avg(Assessment.completion)
        ).where(Assessment.is_active)
    ).one()
    return {
        "organizations": orgs,
        "products": products,
        "assessments": row[0],
        "average_score": row[1],
        "average_completion": row[2],
    }


def status_frame(session: Session, actor: Actor) -> pd.DataFrame:
    """Assessments per status (every status listed, in workflow order), within the actor's scope."""
    stmt = (
        select(Assessment.status, func.count().label("assessments"))
        .where(Assessment.is_active)
        .group_by(Assessment.status)
    )
    counts = dict(session.execute(scope_to_org(stmt, actor, Assessment.organization_id)).all())
    return pd.DataFrame(
        {"status": list(STATUSES), "assessments": [counts.get(s, 0) for s in STATUSES]}
    )


def band_frame(session: Session, actor: Actor) -> pd.DataFrame:
    """Assessments per latest risk band within the actor's scope (scored ones only)."""
    stmt = (
        select(Assessment.latest_band.label("band"), func.count().label("assessments"))
        .where(Assessment.is_active, Assessment.latest_band.is_not(None))
        .group_by(Assessment.latest_band)
    )
    rows = session.execute(scope_to_org(stmt, actor, Assessment.organization_id)).all()
    return pd.DataFrame(rows, columns=["band", "assessments"])


@dataclass(frozen=True)
class Filters:
    """What the analytics pages and extracts narrow by; None means no restriction.

    The date range is inclusive and read in UTC days."""

    organization_id: int | None = None
    questionnaire_id: int | None = None
    start: date | None = None
    end: date | None = None
    industry: str | None = None
    tier: str | None = None

    @property
    def since(self) -> datetime | None:
        """Start of the date range (midnight UTC), or None."""
        return day_start(self.start) if self.start else None

    @property
    def until(self) -> datetime | None:
        """End of the date range, exclusive (midnight UTC after the end day), or None."""
        return day_end(self.end) if self.end else None

    def in_range(self, statement: Select, column) -> Select:
        """Narrow a statement to rows whose `column` falls within the date range."""
        if self.since is not None:
            statement = statement.where(column >= self.since)
        if self.until is not None:
            statement = statement.where(column < self.until)
        return statement


def seen_by(actor: Actor, settings: dict) -> str:
    """The reviewer_visibility in force for this actor (it only narrows lead reviewers)."""
    return settings["reviewer_visibility"] if actor.role == "lead_reviewer" else "all"


def org_filter(statement: Select, filters: Filters, org_column) -> Select:
    """Narrow by the organisation filters (the organisation, its industry and tier)."""
    if filters.organization_id is not None:
        statement = statement.where(org_column == filters.organization_id)
    if filters.industry or filters.tier:
        orgs = select(Organization.id)
        if filters.industry:
            orgs = orgs.where(Organization.industry == filters.industry)
        if filters.tier:
            orgs = orgs.where(Organization.tier == filters.tier)
        statement = statement.where(org_column.in_(orgs))
    return statement


def scope(statement: Select, actor: Actor, filters: Filters, seen: str = "all") -> Select:
    """Restrict a statement over Assessment to active assessments the actor may read that match
    the organisation and questionnaire filters (`seen`: the reviewer_visibility in force)."""
    statement = scope_assessments(statement, actor, seen, Assessment).where(Assessment.is_active)
    if filters.questionnaire_id is not None:
        statement = statement.where(Assessment.questionnaire_id == filters.questionnaire_id)
    return org_filter(statement, filters, Assessment.organization_id)


def _counts(session: Session, actor: Actor, filters: Filters) -> tuple[int, int]:
    orgs = org_filter(
        scope_to_org(
            select(func.count()).select_from(Organization).where(Organization.is_active),
            actor,
            Organization.id,
        ),
        filters,
        Organization.id,
    )
    products = org_filter(
        scope_to_org(
            select(func.count()).select_from(Product).where(Product.is_active),
            actor,
            Product.organization_id,
        ),
        filters,
        Product.organization_id,
    )
    return session.execute(select(orgs.scalar_subquery(), products.scalar_subquery())).one()


def overview(
    session: Session, actor: Actor, filters: Filters, *, now: datetime | None = None
) -> dict:
    """Totals, assessments per status and per latest band, the funnel and the overdue count."""
    require_role(actor, *ROLES)
    settings = get_settings(session)
    cutoff = (now or utcnow()) - timedelta(days=settings["review_sla_days"])
    late = case((Assessment.status.in_(WAITING) & (Assessment.submitted_at < cutoff), 1), else_=0)
    sent = case((Assessment.submitted_at.is_not(None), 1), else_=0)
    stmt = select(
        Assessment.status,
        Assessment.latest_band,
        func.count(),
        func.sum(Assessment.latest_score),
        func.count(Assessment.latest_score),
        func.sum(Assessment.completion),
        func.sum(sent),
        func.sum(late),
    ).group_by(Assessment.status, Assessment.latest_band)
    seen = seen_by(actor, settings)
    rows = session.execute(scope(stmt, actor, filters, seen)).all()
    return _summarise(rows, *_counts(session, actor, filters))


def _summarise(rows: list, organizations: int, products: int) -> dict:
    by_status, by_band = dict.fromkeys(STATUSES, 0), dict.fromkeys(BAND_NAMES, 0)
    for status, band, n, *_ in rows:
        by_status[status] += n
        if band is not None:
            by_band[band] = by_band.get(band, 0) + n
    total = sum(by_status.values())
    scored, score_sum, done, sent, late = (sum(r[i] or 0 for r in rows) for i in (4, 3, 5, 6, 7))
    totals = {
        "organizations": int(organizations),
        "products": int(products),
        "assessments": total,
        "by_status": by_status,
        "average_score": score_sum / scored if scored else None,
        "completion_rate": done / total if total else None,
        "overdue": int(late),
        "scored": int(scored),
    }
    funnel = [
        ("Started", total),
        ("Answering", total - by_status["not_started"]),
        ("Submitted", int(sent)),
        ("Decided", by_status["approved"] + by_status["rejected"]),
        ("Approved", by_status["approved"]),
    ]
    return {
        "totals": totals,
        "statuses": pd.DataFrame(list(by_status.items()), columns=["status", "assessments"]),
        "bands": pd.DataFrame(
            [(b, n) for b, n in by_band.items() if n], columns=["band", "assessments"]
        ),
        "funnel": pd.DataFrame(funnel, columns=["stage", "assessments"]),
    }


def _labelled(metric: Select, keep, descending: bool, limit: int) -> Select:
    """The first `limit` rows of (aid, value), named (organisation, product, questionnaire, status,
    score, band), each with the number of rows before the limit."""
    sub = metric.subquery()
    ranked = select(sub.c.aid, sub.c.value, func.count().over().label("total"))
    if keep is not None:
        ranked = ranked.where(keep(sub.c.value))
    order = (sub.c.value.desc() if descending else sub.c.value, sub.c.aid)
    top = ranked.order_by(*order).limit(limit).subquery()
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


def attention(
    session: Session,
    actor: Actor,
    filters: Filters,
    *,
    now: datetime | None = None,
    limit: int = 20,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Assessments that need attention (up to `limit` per reason) and how many there are per
    reason: overdue reviews (oldest first), failed critical questions in the stored answers (most
    first), and drops of DROP_POINTS or more between the last two snapshots (largest first)."""
    require_role(actor, *ROLES)
    settings = get_settings(session)
    seen = seen_by(actor, settings)
    now = now or utcnow()
    rows, counts = [], {}
    for reason, metric, keep, descending in _attention_metrics(
        now - timedelta(days=settings["review_sla_days"])
    ):
        found = session.execute(
            _labelled(scope(metric, actor, filters, seen), keep, descending, limit)
        ).all()
        counts[reason] = int(found[0].total) if found else 0
        rows += [(*r[:7], reason, _detail(reason, r.value, now)) for r in found]
    return pd.DataFrame(rows, columns=ATTENTION_COLUMNS), counts


def _detail(reason: str, value, now: datetime) -> str:
    if reason == "overdue":
        return f"submitted {format_date(value)}, waiting {(now - value).days} days"
    if reason == "failed_critical":
        return f"{value} critical question{'s' if value != 1 else ''} below {CRITICAL_FAIL_BELOW:g}"
    return f"{value:+.1f} points since the previous snapshot"


def _attention_metrics(cutoff: datetime) -> tuple:
    """(reason, statement of (aid, value) over Assessment, which values to keep, descending)."""
    overdue = select(Assessment.id.label("aid"), Assessment.submitted_at.label("value")).where(
        Assessment.status.in_(WAITING), Assessment.submitted_at < cutoff
    )
    critical = select(Question.id).where(Question.critical)
    failed = (
        select(QuestionnaireResponse.assessment_id.label("aid"), func.count().label("value"))
        .where(
            QuestionnaireResponse.question_id.in_(critical),
            QuestionnaireResponse.score < CRITICAL_FAIL_BELOW,
        )
        .group_by(QuestionnaireResponse.assessment_id)
        .subquery()
    )
    previous = (
        select(ScoreHistory.overall_score)
        .where(ScoreHistory.assessment_id == Assessment.id)
        .order_by(ScoreHistory.created_at.desc(), ScoreHistory.id.desc())
        .limit(1)
        .offset(1)
        .correlate(Assessment)
        .scalar_subquery()
    )
    return (
        ("overdue", overdue, None, False),
        (
            "failed_critical",
            select(failed.c.aid, failed.c.value).join(Assessment, Assessment.id == failed.c.aid),
            None,
            True,
        ),
        (
            "score_drop",
            select(Assessment.id.label("aid"), (Assessment.latest_score - previous).label("value")),
            lambda v: v <= -DROP_POINTS,
            False,
        ),
    )


def data_version(session: Session) -> int:
    """The newest audit row id: every write appends one, so it moves whenever the data does."""
    return int(session.scalar(select(func.max(AuditLog.id))) or 0)


def filter_options(session: Session, actor: Actor) -> dict:
    """Choices for the shared filters: organisations the actor may read, questionnaire versions
    with assessments in scope, organisation industries and tiers."""
    orgs = scope_to_org(
        select(Organization.id, Organization.name).where(Organization.is_active),
        actor,
        Organization.id,
    )
    questionnaires = scope(
        select(Questionnaire.id, Questionnaire.title, Questionnaire.version).join(
            Assessment, Assessment.questionnaire_id == Questionnaire.id
        ),
        actor,
        Filters(),
        seen_by(actor, get_settings(session)),
    ).distinct()
    industries = (
        select(Organization.industry)
        .where(Organization.is_active, Organization.industry != "")
        .distinct()
    )
    return {
        "organizations": [tuple(r) for r in session.execute(orgs.order_by(Organization.name))],
        "questionnaires": [
            (i, f"{t} v{v}")
            for i, t, v in session.execute(
                questionnaires.order_by(Questionnaire.title, Questionnaire.version)
            )
        ],
        "industries": sorted(session.scalars(industries)),
        "tiers": list(TIERS),
    }
