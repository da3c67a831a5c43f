"""Read-only aggregates for the home pages and dashboards; SQL does the grouping."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import PORTFOLIO_ROLES, Actor, require_role, scope_to_org
from core.models import STATUSES, Assessment, Organization, Product


def portfolio_totals(session: Session, actor: Actor) -> dict:
    """Organisations, products, assessments, average latest score and mean completion."""
    require_role(actor, *PORTFOLIO_ROLES)
    orgs = session.scalar(select(func.count()).select_from(Organization).where(Organization.is_active))
    products = session.scalar(select(func.count()).select_from(Product).where(Product.is_active))
    row = session.execute(select(func.count(), func.avg(Assessment.latest_score),
                                 func.avg(Assessment.completion))
                          .where(Assessment.is_active)).one()
    return {"organizations": orgs, "products": products, "assessments": row[0],
            "average_score": row[1], "average_completion": row[2]}


def status_frame(session: Session, actor: Actor) -> pd.DataFrame:
    """Assessments per status (every status listed, in workflow order), within the actor's scope."""
    stmt = (select(Assessment.status, func.count().label("assessments"))
            .where(Assessment.is_active).group_by(Assessment.status))
    counts = dict(session.execute(scope_to_org(stmt, actor, Assessment.organization_id)).all())
    return pd.DataFrame({"status": list(STATUSES),
                         "assessments": [counts.get(s, 0) for s in STATUSES]})


def band_frame(session: Session, actor: Actor) -> pd.DataFrame:
    """Assessments per latest risk band within the actor's scope (scored ones only)."""
    stmt = (select(Assessment.latest_band.label("band"), func.count().label("assessments"))
            .where(Assessment.is_active, Assessment.latest_band.is_not(None))
            .group_by(Assessment.latest_band))
    rows = session.execute(scope_to_org(stmt, actor, Assessment.organization_id)).all()
    return pd.DataFrame(rows, columns=["band", "assessments"])
