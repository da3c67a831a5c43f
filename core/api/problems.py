"""Errors as RFC 9457 problem details (application/problem+json), one handler per kind.

Core's exceptions map to statuses here: ValidationError 422, NotFound 404, AccessDenied 403
(404 where the object itself is outside the caller's reach: see core/api/deps.see), anything
else a plain 500 without a traceback. A refused access writes an access_denied audit row, as
the pages do.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core import audit, db
from core.access import Actor
from core.errors import AccessDenied, NotFound, SecureSphereError, ValidationError

PROBLEM = "application/problem+json"
log = logging.getLogger("securesphere.api")
TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(Exception):
    """An error response: status, a short slug naming its type, and a detail for people."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail
        self.headers, self.extra = headers or {}, extra or {}


class Hidden(NotFound):
    """An object outside the caller's reach, answered as if it did not exist (and audited)."""


def problem_response(
    request: Request,
    status: int,
    slug: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """One problem document."""
    body = {
        "type": f"/api/problems/{slug}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **(extra or {}),
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _record_denied(request: Request, what: str) -> None:
    actor = getattr(request.state, "actor", None)
    if not isinstance(actor, Actor):
        return
    with db.transaction(request.app.state.config.settings.database_url) as session:
        audit.record(session, actor, "access_denied", object_type="api", object_id=what[:64])


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


async def _problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(
        request, exc.status, exc.slug, exc.detail, headers=exc.headers, extra=exc.extra
    )


def _errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"location": [str(p) for p in e.get("loc", ())], "message": str(e.get("msg", ""))}
        for e in exc.errors()
    ]


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _errors(exc)
    first = errors[0] if errors else {"location": [], "message": "invalid request"}
    where = ".".join(first["location"])
    return problem_response(
        request,
        422,
        "invalid-request",
        f"{where}: {first['message']}" if where else str(first["message"]),
        extra={"errors": errors},
    )


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem_response(
        request, exc.status_code, slug, str(exc.detail), headers=dict(exc.headers or {})
    )


def _core(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, Hidden):
        _record_denied(request, _route(request))
        return problem_response(request, 404, "not-found", str(exc))
    if isinstance(exc, AccessDenied):
        _record_denied(request, _route(request))
        return problem_response(request, 403, "forbidden", str(exc))
    if isinstance(exc, NotFound):
        return problem_response(request, 404, "not-found", str(exc))
    if isinstance(exc, ValidationError):
        return problem_response(request, 422, "validation-failed", str(exc))
    return problem_response(request, 422, "refused", str(exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s", _route(request), exc_info=exc)
    return problem_response(request, 500, "internal", "Something went wrong; it was logged.")


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(SecureSphereError, _core)
    app.add_exception_handler(Exception, _unexpected)
