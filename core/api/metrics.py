"""GET /api/v1/metrics in Prometheus text format: requests and latency by route, and gauges read
at scrape time (live sessions, outbox rows by status when the outbox exists, the newest backup's
age). Readable with an admin token, or without one from SECURESPHERE_METRICS_ADDRESSES."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from ipaddress import ip_address
from pathlib import Path

from fastapi import Response
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, inspect, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import db
from core.access import SYSTEM
from core.backup import list_backups
from core.models import AuthSession, Outbox, utcnow
from core.settings import get_settings

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class StateCollector(Collector):
    """Gauges read from the database and the data dir at each scrape."""

    def __init__(self, url: str, data_dir: str) -> None:
        self.url, self.data_dir = url, data_dir

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        with db.reading(self.url) as session:
            idle = timedelta(minutes=get_settings(session)["session_idle_minutes"])
            live = session.scalar(
                select(func.count())
                .select_from(AuthSession)
                .where(AuthSession.revoked_at.is_(None), AuthSession.last_seen_at > now - idle)
            )
            has_outbox = inspect(session.connection()).has_table(Outbox.__tablename__)
            depth = (
                session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
                if has_outbox
                else []
            )
        sessions = GaugeMetricFamily(
            "securesphere_active_sessions", "Signed-in app sessions not revoked and not idle."
        )
        sessions.add_metric([], float(live or 0))
        yield sessions
        if has_outbox:
            outbox = GaugeMetricFamily(
                "securesphere_outbox_rows", "Outbox rows by status.", labels=["status"]
            )
            for status, count in depth:
                outbox.add_metric([status], float(count))
            yield outbox
        backups = list_backups(SYSTEM, self._data_dir())
        age = GaugeMetricFamily(
            "securesphere_last_backup_age_seconds",
            "Seconds since the newest backup in the data dir (absent: there is none).",
        )
        if backups:
            age.add_metric([], (now - backups[0].created).total_seconds())
        yield age

    def _data_dir(self) -> Path:
        return Path(self.data_dir)


class ApiMetrics:
    """The registry of one API process and the middleware that counts its requests."""

    def __init__(self, url: str, data_dir: str, prefix: str) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created: noise
        self.prefix = prefix
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "securesphere_api_requests",
            "API requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "securesphere_api_request_duration_seconds",
            "API request time by route and method, until the response starts.",
            ["route", "method"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(StateCollector(url, data_dir))

    def observe(self, route: object, method: str, status: int, seconds: float) -> None:
        """Count one request under its route's template, never its raw path."""
        name = getattr(route, "path", None)
        if name is None:
            name = "unmatched"
        elif not name.startswith("/api/"):  # a route of an included router names its own part
            name = self.prefix + name
        self.latency.labels(name, method).observe(seconds)
        self.requests.labels(name, method, str(status)).inc()

    def render(self) -> Response:
        """The text exposition of every metric."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE)


class Measured:
    """ASGI middleware: time each request until its response starts, count it by route and
    status, and add the headers every response carries (when it has not set them itself).
    Plain ASGI rather than Starlette's BaseHTTPMiddleware, which costs every request a task and
    a pair of memory streams."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, headers: dict[str, str]) -> None:
        self.app, self.metrics = app, metrics
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = {name.lower() for name, _ in message.get("headers", [])}
                missing = [(k, v) for k, v in self.headers if k not in given]
                message = {**message, "headers": [*message.get("headers", []), *missing]}
                self.metrics.observe(
                    scope.get("route"),
                    scope["method"],
                    message["status"],
                    time.perf_counter() - started,
                )
            await send(message)

        await self.app(scope, receive, sending)


def allowed_address(address: str, networks: tuple[object, ...]) -> bool:
    """True when the caller's address is in the metrics allowlist."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)  # type: ignore[operator]
