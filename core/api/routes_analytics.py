"""The Overview and Trends pages' aggregates, and every extract as streamed CSV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from core import db
from core.access import ANALYTICS_AUDIENCE, Actor, require_role
from core.analytics import overview
from core.api.deps import Caller, MinAccepted, authenticated, reject_unknown_query
from core.api.frames import frame_records
from core.api.problems import Problem
from core.assurance_view import portfolio_assurance
from core.attention import attention
from core.extract_columns import EXTRACTS
from core.extracts import dictionary_csv, extract_chunks
from core.filters import Filters
from core.models import TIERS
from core.movers import movers_frame
from core.trends import GROUPS, trend_frame

router = APIRouter(dependencies=[Depends(reject_unknown_query)])
Reader = Annotated[Caller, Depends(authenticated)]
Tier = Annotated[str | None, Query(pattern="^(" + "|".join(TIERS) + ")$")]
Group = Annotated[str, Query(pattern="^(" + "|".join(GROUPS) + ")$")]


def _filters(
    organization_id: int | None = None,
    questionnaire_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    industry: Annotated[str | None, Query(max_length=60)] = None,
    tier: Tier = None,
    min_accepted: MinAccepted = 0.0,
) -> Filters:
    """The shared filters of the analytics pages, from the query string (min_accepted: the
    percent of the newest snapshot's points a reviewer accepted, at least)."""
    if start and end and start > end:
        raise Problem(422, "invalid-request", "start must not be after end.")
    return Filters(organization_id, questionnaire_id, start, end, industry, tier, min_accepted)


Filtered = Annotated[Filters, Depends(_filters)]


@router.get("/analytics/overview", tags=["analytics"])
def analytics_overview(caller: Reader, filters: Filtered) -> dict[str, Any]:
    """The Overview page: totals, assessments per status and band, the funnel, what needs
    attention (the first 20 per reason, with how many there are) and the points-weighted assured
    and reviewer-accepted shares of the latest scores (null while none has shares)."""
    require_role(caller.actor, *ANALYTICS_AUDIENCE)
    with caller.reading() as s:
        summary = overview(s, caller.actor, filters)
        needing = attention(s, caller.actor, filters)
        proven = portfolio_assurance(s, caller.actor, filters)
    totals = summary.totals
    return {
        "totals": {
            "organizations": totals.organizations,
            "products": totals.products,
            "assessments": totals.assessments,
            "by_status": totals.by_status,
            "average_score": totals.average_score,
            "completion_rate": totals.completion_rate,
            "overdue": totals.overdue,
            "scored": totals.scored,
        },
        "statuses": frame_records(summary.statuses),
        "bands": frame_records(summary.bands),
        "funnel": frame_records(summary.funnel),
        "attention": {"rows": frame_records(needing.rows), "counts": needing.counts},
        "assurance": {
            "assessments": proven.assessments,
            "assured_share": proven.assured,
            "accepted_share": proven.accepted,
        },
    }


@router.get("/analytics/trends", tags=["analytics"])
def analytics_trends(
    caller: Reader, filters: Filtered, group: Group = "organization"
) -> dict[str, Any]:
    """The Trends page: monthly latest score and completion per group, and the biggest movers."""
    require_role(caller.actor, *ANALYTICS_AUDIENCE)
    if caller.actor.is_client and group == "organization":
        group = "portfolio"  # a client's one organisation is its whole portfolio
    with caller.reading() as s:
        trend = trend_frame(s, caller.actor, filters, group=group)
        movers = movers_frame(s, caller.actor, filters)
    return {"group": group, "trend": frame_records(trend), "movers": frame_records(movers)}


@router.get("/extracts", tags=["extracts"])
def extracts(caller: Reader) -> dict[str, Any]:
    """Every extract: its name (for /extracts/{name}.csv), what a row is and its columns."""
    return {
        "extracts": [
            {
                "name": name,
                "title": e.title,
                "row": e.row,
                "dated_by": e.dated_by,
                "columns": [c.name for c in e.columns],
                "url": f"/api/v1/extracts/{name}.csv",
            }
            for name, e in EXTRACTS.items()
        ]
    }


def csv_chunks(url: str, actor: Actor, name: str, filters: Filters) -> Iterator[bytes]:
    """An extract's CSV bytes (core.extracts.extract_chunks, as the app downloads them), a chunk
    at a time, from rows streamed out of one read-only transaction."""
    with db.reading(url) as session:
        yield from extract_chunks(session, actor, name, filters)


@router.get("/extracts/dictionary.csv", tags=["extracts"], response_class=StreamingResponse)
def dictionary(caller: Reader) -> StreamingResponse:
    """The data dictionary: every column of every extract, its type and meaning."""
    return StreamingResponse(iter([dictionary_csv()]), media_type="text/csv; charset=utf-8")


@router.get("/extracts/{name}.csv", tags=["extracts"], response_class=StreamingResponse)
def extract(caller: Reader, name: str, filters: Filtered) -> StreamingResponse:
    """One extract as RFC 4180 CSV, streamed: only what the caller may read, in the filters."""
    if name not in EXTRACTS:
        raise Problem(404, "not-found", f"No extract is named {name!r}; see /api/v1/extracts.")
    return StreamingResponse(
        csv_chunks(caller.url, caller.actor, name, filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
