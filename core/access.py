"""Who may see and do what: the one place every core query and write asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVarTuple

from sqlalchemy import ColumnElement, Select, or_
from sqlalchemy.orm import InstrumentedAttribute

from core.errors import AccessDenied

if TYPE_CHECKING:  # core.models imports ROLES from here
    from core.models import Assessment

Ts = TypeVarTuple("Ts")

# Every role, and each named group of them: the one table the rest of the code refers to.
ROLES = ("admin", "lead_reviewer", "security_manager", "analyst", "client")
# Everyone but clients: they read every organisation (portfolio totals, review operations).
STAFF = ("admin", "lead_reviewer", "security_manager", "analyst")
# Staff who watch the portfolio rather than review it: the portfolio home and user activity.
OVERSIGHT = ("admin", "security_manager", "analyst")
# Who review: the review desk, claiming, assigning and deciding.
REVIEWERS = ("admin", "lead_reviewer")
# Who answer questionnaires: starting, answering and submitting.
RESPONDENTS = ("admin", "client")
# Who get the Analytics pages (lead reviewers see scores through the review desk instead).
ANALYTICS_AUDIENCE = (*OVERSIGHT, "client")


@dataclass(frozen=True)
class Actor:
    """The signed-in user (or the system) on whose behalf core acts."""

    user_id: int | None
    username: str
    role: str
    organization_id: int | None = None
    session_id: str = ""

    @property
    def is_client(self) -> bool:
        return self.role == "client"


SYSTEM = Actor(user_id=None, username="system", role="admin")


def require_role(actor: Actor, *roles: str) -> None:
    """Refuse unless the actor has one of the roles."""
    if actor.role not in roles:
        raise AccessDenied("You do not have permission to do this.")


def can_read_org(actor: Actor, organization_id: int) -> bool:
    """Clients read only their own organisation; every other role reads all."""
    return not actor.is_client or actor.organization_id == organization_id


def require_org_read(actor: Actor, organization_id: int) -> None:
    """Refuse a read of another organisation's object."""
    if not can_read_org(actor, organization_id):
        raise AccessDenied("You do not have access to this organisation's data.")


def require_org_write(actor: Actor, organization_id: int) -> None:
    """Clients write their own organisation's objects; admins any; other roles none."""
    if actor.role == "admin":
        return
    if not (actor.is_client and actor.organization_id == organization_id):
        raise AccessDenied("You do not have permission to change this organisation's data.")


def can_read_assessment(actor: Actor, assessment: Assessment, reviewer_visibility: str) -> bool:
    """Clients: their organisation's. Reviewers: all, or (setting "assigned") theirs and unclaimed
    submissions. Admins, managers, analysts: all."""
    if actor.is_client:
        return actor.organization_id == assessment.organization_id
    if actor.role == "lead_reviewer" and reviewer_visibility == "assigned":
        return assessment.reviewer_id == actor.user_id or (
            assessment.status == "submitted" and assessment.reviewer_id is None
        )
    return True


def scope_assessments(
    statement: Select[*Ts], actor: Actor, reviewer_visibility: str, assessment: type[Assessment]
) -> Select[*Ts]:
    """Restrict an assessment query (on the Assessment entity given) to what the actor may read."""
    if actor.role == "lead_reviewer" and reviewer_visibility == "assigned":
        return statement.where(
            or_(
                assessment.reviewer_id == actor.user_id,
                (assessment.status == "submitted") & assessment.reviewer_id.is_(None),
            )
        )
    return scope_to_org(statement, actor, assessment.organization_id)


def scope_to_org(
    statement: Select[*Ts],
    actor: Actor,
    org_column: InstrumentedAttribute[int] | ColumnElement[int],
) -> Select[*Ts]:
    """Restrict a query to what the actor may read."""
    if actor.is_client:
        return statement.where(org_column == actor.organization_id)
    return statement
