"""The API process's configuration: the core settings plus what only the API reads.

| variable | meaning |
|---|---|
| SECURESPHERE_API_CORS_ORIGINS | comma-separated origins allowed to call the API from a browser; empty: no CORS |
| SECURESPHERE_METRICS_ADDRESSES | addresses or networks that may read /api/v1/metrics without a token |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.config import Settings, load_settings, trusted_proxies
from core.errors import ConfigError
from core.throttle import Network


@dataclass(frozen=True)
class ApiConfig:
    """What the API process needs: core's settings, CORS origins and the metrics allowlist."""

    settings: Settings
    cors_origins: tuple[str, ...] = ()
    metrics_addresses: tuple[Network, ...] = ()


def _origins(raw: str) -> tuple[str, ...]:
    origins = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        parts = urlsplit(item)
        if item == "*" or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"SECURESPHERE_API_CORS_ORIGINS: {item!r} is not an origin like "
                "https://bi.example.com (a wildcard is refused)"
            )
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(origins)


def load_api_config(env: Mapping[str, str] | None = None) -> ApiConfig:
    """Read and validate the environment; ConfigError with one line when a value is bad."""
    env = os.environ if env is None else env
    try:
        metrics = trusted_proxies(env.get("SECURESPHERE_METRICS_ADDRESSES") or "")
    except ConfigError as exc:
        raise ConfigError(
            str(exc).replace("SECURESPHERE_TRUSTED_PROXIES", "SECURESPHERE_METRICS_ADDRESSES")
        ) from None
    return ApiConfig(
        settings=load_settings(env),
        cors_origins=_origins(env.get("SECURESPHERE_API_CORS_ORIGINS") or ""),
        metrics_addresses=metrics,
    )
