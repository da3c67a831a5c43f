"""The shared filters of the analytics pages and extracts, and the scope every aggregate reads in.

`scope()` restricts a statement over Assessment to what the actor may read (clients: their
organisation; lead reviewers: per reviewer_visibility) and to the filters. The read model's
roll-ups per organisation and version answer only while `rollups_answer()`: the reviewer-accepted
share is per assessment, so a page narrowed by it reads the assessments themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import InstrumentedAttribute, QueryableAttribute, Session

from core.access import Actor, scope_assessments, scope_to_org
from core.errors import ValidationError
from core.models import Assessment, Organization
from core.periods import day_end, day_start
from core.settings import get_setting

Ts = TypeVarTuple("Ts")
DateColumn = (
    QueryableAttribute[datetime]
    | QueryableAttribute[datetime | None]
    | ColumnElement[datetime]
    | ColumnElement[datetime | None]
)


@dataclass(frozen=True)
class Filters:
    """What the analytics pages and extracts narrow by; None means no restriction.

    The date range is inclusive and read in UTC days. `min_accepted` keeps the assessments whose
    newest snapshot has at least that percent (0-100) of its points accepted by a reviewer
    (Assessment.accepted_share); 0 keeps every assessment, scored or not."""

    organization_id: int | None = None
    questionnaire_id: int | None = None
    start: date | None = None
    end: date | None = None
    industry: str | None = None
    tier: str | None = None
    min_accepted: float = 0.0

    def __post_init__(self) -> None:
        share = self.min_accepted
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 100:
            raise ValidationError(
                "The reviewer-accepted share to filter by is a percentage from 0 to 100."
            )

    @property
    def since(self) -> datetime | None:
        """Start of the date range (midnight UTC), or None."""
        return day_start(self.start) if self.start else None

    @property
    def until(self) -> datetime | None:
        """End of the date range, exclusive (midnight UTC after the end day), or None."""
        return day_end(self.end) if self.end else None

    def in_range(self, statement: Select[*Ts], column: DateColumn) -> Select[*Ts]:
        """Narrow a statement to rows whose `column` falls within the date range."""
        if self.since is not None:
            statement = statement.where(column >= self.since)
        if self.until is not None:
            statement = statement.where(column < self.until)
        return statement


def visibility(session: Session, actor: Actor) -> str:
    """seen_by() with the setting read by its key (no SQL once the session holds it)."""
    return seen_by(actor, {"reviewer_visibility": get_setting(session, "reviewer_visibility")})


def seen_by(actor: Actor, settings: dict[str, Any]) -> str:
    """The reviewer_visibility in force for this actor (it only narrows lead reviewers)."""
    return str(settings["reviewer_visibility"]) if actor.role == "lead_reviewer" else "all"


def org_filter(
    statement: Select[*Ts],
    filters: Filters,
    org_column: InstrumentedAttribute[int] | ColumnElement[int],
) -> Select[*Ts]:
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


def scope(statement: Select[*Ts], actor: Actor, filters: Filters, seen: str = "all") -> Select[*Ts]:
    """Restrict a statement over Assessment to active assessments the actor may read that match
    the organisation and questionnaire filters (`seen`: the reviewer_visibility in force)."""
    statement = scope_assessments(statement, actor, seen, Assessment).where(Assessment.is_active)
    if filters.questionnaire_id is not None:
        statement = statement.where(Assessment.questionnaire_id == filters.questionnaire_id)
    if filters.min_accepted:
        # shares are sums of float points: 50 % stored as 49.999999… still counts as 50 %
        statement = statement.where(Assessment.accepted_share >= filters.min_accepted - 1e-6)
    return org_filter(statement, filters, Assessment.organization_id)


def org_scoped(actor: Actor, seen: str) -> bool:
    """True when what the actor may read is whole organisations (so the read model's roll-ups
    per organisation and version can answer); False for a lead reviewer who sees only the
    assessments assigned to them."""
    return not (actor.role == "lead_reviewer" and seen == "assigned")


def rollups_answer(actor: Actor, seen: str, filters: Filters) -> bool:
    """True when the read model's roll-ups per organisation and version can answer within the
    filters: org_scoped(), and no reviewer-accepted share to narrow by (that is per assessment)."""
    return org_scoped(actor, seen) and not filters.min_accepted


def scope_rollup(statement: Select[*Ts], actor: Actor, filters: Filters, table: Any) -> Select[*Ts]:
    """scope() for a roll-up table of the read model (rows per organisation and version); refused
    with a reviewer-accepted share, which the roll-ups cannot narrow by (see rollups_answer)."""
    if filters.min_accepted:
        raise ValueError("The roll-ups cannot narrow by the reviewer-accepted share.")
    statement = scope_to_org(statement, actor, table.organization_id)
    if filters.questionnaire_id is not None:
        statement = statement.where(table.questionnaire_id == filters.questionnaire_id)
    return org_filter(statement, filters, table.organization_id)
