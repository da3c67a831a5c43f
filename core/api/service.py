"""The REST API application: FastAPI over the same core as the pages (uvicorn core.api:app).

Routes live under /api/v1; the OpenAPI description at /api/openapi.json and interactive docs at
/api/docs (Swagger UI served from this process, no CDN). Every request but health and docs runs
as the user of its bearer token; see core/api/deps.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from core import settings as run_time
from core.api import problems
from core.api.config import ApiConfig, load_api_config
from core.api.deps import SettingsCache
from core.api.limits import BANK_LIMIT, ENVELOPE, JSON_LIMIT, MB, BodyLimit, RateLimiter
from core.api.metrics import ApiMetrics, Measured
from core.api.routes_analytics import router as analytics_router
from core.api.routes_assessments import router as assessments_router
from core.api.routes_banks import router as banks_router
from core.api.routes_files import router as files_router
from core.api.routes_objects import router as objects_router
from core.api.routes_ops import router as ops_router
from core.version import VERSION

PREFIX = "/api/v1"
DOCS_STATIC = Path(fastapi_offline.__file__).parent / "static"
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def _body_limit(cache: SettingsCache, url: str) -> Callable[[str, str], int]:
    def limit_for(method: str, path: str) -> int:
        if method == "POST" and path.endswith("/evidence"):
            upload_mb = float(
                cache.get(url).get("upload_max_mb", run_time.DEFAULTS["upload_max_mb"])
            )
            return int(upload_mb * MB) + ENVELOPE
        if method == "POST" and path == f"{PREFIX}/question-banks":
            return BANK_LIMIT + ENVELOPE
        return JSON_LIMIT

    return limit_for


def create_app(config: ApiConfig | None = None) -> FastAPI:
    """The application for one process's configuration (read from the environment by default)."""
    config = config or load_api_config()
    app = FastAPI(
        title="SecureSphere API",
        version=VERSION,
        summary="Assessments, answers, evidence, scores, analytics and extracts, as the pages "
        "show them to the token's user.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.config = config
    app.state.settings = SettingsCache()
    app.state.limiter = RateLimiter()
    app.state.metrics = ApiMetrics(
        config.settings.database_url, str(config.settings.data_dir), PREFIX
    )
    problems.install(app)
    for router in (
        ops_router,
        objects_router,
        assessments_router,
        files_router,
        analytics_router,
        banks_router,
    ):
        app.include_router(router, prefix=PREFIX)
    app.mount("/api/docs/static", StaticFiles(directory=DOCS_STATIC), name="docs-static")

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="SecureSphere API",
            swagger_js_url="/api/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/api/docs/static/swagger-ui.css",
            swagger_favicon_url="/api/docs/static/favicon.png",
        )

    app.add_middleware(Measured, metrics=app.state.metrics, headers=HEADERS)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(
        BodyLimit, limit_for=_body_limit(app.state.settings, config.settings.database_url)
    )
    return app
