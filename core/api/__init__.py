"""The REST API: ``uvicorn core.api:app`` (see core/api/service.py). The only part of core that
imports FastAPI; everything it does goes through the same core functions as the pages."""

from __future__ import annotations

from typing import Any

from core.api.service import create_app

__all__ = ["app", "create_app"]


def __getattr__(name: str) -> Any:
    # Built on first use, so importing core.api.* (tests, the architecture check) reads no
    # environment; uvicorn's "core.api:app" asks for it by name.
    if name == "app":
        globals()["app"] = create_app()
        return globals()["app"]
    raise AttributeError(name)
