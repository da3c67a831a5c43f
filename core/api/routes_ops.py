"""Health (no token) and metrics (an admin token, or an address in the metrics allowlist)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from core.api.deps import address_of, authenticated, config_of, reject_unknown_query
from core.api.metrics import allowed_address
from core.api.problems import Problem
from core.health import check_health

router = APIRouter(dependencies=[Depends(reject_unknown_query)], tags=["operations"])


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    """200 when the database answers and is migrated; 503 with the reason otherwise."""
    result = check_health(config_of(request).settings.database_url)
    if not result.ok:
        raise Problem(503, "unhealthy", result.reason)
    return {"status": "ok"}


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus text format: requests and latency by route, live sessions, outbox rows by
    status, the newest backup's age."""
    if not allowed_address(address_of(request), config_of(request).metrics_addresses):
        caller = authenticated(request)
        if caller.actor.role != "admin":
            raise Problem(403, "forbidden", "Metrics are for admin tokens and allowed addresses.")
    rendered: Response = request.app.state.metrics.render()
    return rendered
