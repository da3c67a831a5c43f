"""Who is calling: the bearer token checked on every request, its scope, the rate limit, the
client's address, and the transactions an endpoint opens as that caller."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from core import db, tokens
from core.access import Actor
from core.api.config import ApiConfig
from core.api.problems import Hidden, Problem
from core.errors import AccessDenied
from core.models import utcnow
from core.settings import get_settings
from core.throttle import client_address

SETTINGS_TTL = 10.0  # seconds the API keeps the run-time settings it reads on every request
# the analytics filters' reviewer-accepted share, as a percent
MinAccepted = Annotated[float, Query(ge=0, le=100)]
BEARER = {"WWW-Authenticate": 'Bearer realm="securesphere"'}


@dataclass(frozen=True)
class Caller:
    """The checked token's user and scope, and where to open their transactions."""

    actor: Actor
    auth: tokens.TokenAuth
    url: str

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only transaction."""
        with db.reading(self.url) as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One write transaction: all of the request's changes, or none."""
        with db.transaction(self.url) as session:
            yield session


class SettingsCache:
    """The run-time settings, read at most every SETTINGS_TTL seconds per process."""

    def __init__(self) -> None:
        self.value: dict[str, Any] = {}
        self.at = -math.inf
        self.lock = threading.Lock()

    def get(self, url: str) -> dict[str, Any]:
        with self.lock:
            if time.monotonic() - self.at > SETTINGS_TTL:
                with db.reading(url) as session:
                    self.value = get_settings(session)
                self.at = time.monotonic()
            return self.value


def config_of(request: Request) -> ApiConfig:
    """The process configuration the app was built with."""
    config: ApiConfig = request.app.state.config
    return config


def address_of(request: Request) -> str:
    """The client's address: the peer, or behind a trusted proxy the client it names."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.getlist("x-forwarded-for")
    return client_address(peer, forwarded, config_of(request).settings.trusted_proxies)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            401,
            "unauthenticated",
            "Send a personal access token: Authorization: Bearer ssp_…",
            headers=BEARER,
        )
    return token.strip()


def _refuse(request: Request, token: str, reason: str) -> Problem:
    url = config_of(request).settings.database_url
    with db.transaction(url) as session:
        tokens.record_refusal(session, token, reason, address=address_of(request))
    return Problem(401, "invalid-token", reason, headers=BEARER)


def authenticated(request: Request) -> Caller:
    """The caller of this request, or a 401 (no token, unknown, revoked, expired, inactive
    user) or a 429 (over the token's rate)."""
    token = _bearer(request)
    url = config_of(request).settings.database_url
    now = utcnow()
    try:
        with db.reading(url) as session:
            auth = tokens.check_token(session, token, now=now)
    except tokens.TokenRefused as exc:
        raise _refuse(request, token, str(exc)) from None
    request.state.actor = auth.actor
    state = request.app.state
    wait = state.limiter.allow(auth.token_id, state.settings.get(url)["api_rate_limit_per_minute"])
    if wait:
        raise Problem(
            429,
            "rate-limited",
            "This token made too many requests; slow down.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    address = address_of(request)
    if auth.needs_touch(address, now):
        with db.transaction(url) as session:
            tokens.note_use(session, auth, address=address, now=now)
    return Caller(auth.actor, auth, url)


def writer(caller: Caller = Depends(authenticated)) -> Caller:  # noqa: B008
    """The caller, if their token may write (else a 403 and an audit row)."""
    tokens.require_scope(caller.auth, "write")
    return caller


def see(read: Callable[[], Any], what: str) -> Any:
    """Run a core read that checks access; an object outside the caller's reach becomes a 404
    (audited as a refusal), as if it did not exist."""
    try:
        return read()
    except AccessDenied:
        raise Hidden(f"That {what} does not exist.") from None


async def reject_unknown_query(request: Request) -> None:
    """A query parameter the endpoint does not take is a mistake worth saying (a typo'd filter
    would otherwise widen the answer silently). Async: it does no I/O, so it runs on the event
    loop instead of costing every request a hop to the threadpool and back."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    known = {p.alias for p in _query_params(dependant)}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise Problem(
            422,
            "unknown-parameter",
            f"Unknown query parameter {unknown[0]!r}; this endpoint takes: "
            + (", ".join(sorted(known)) or "none"),
        )


def _query_params(dependant: Any) -> list[Any]:
    if dependant is None:
        return []
    found = list(dependant.query_params)
    for sub in dependant.dependencies:
        found += _query_params(sub)
    return found
