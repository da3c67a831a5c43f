"""Policy for optional test layers (PostgreSQL, browser, ...).

Locally a missing system dependency skips the layer; under
``SECURESPHERE_REQUIRE_ALL=1`` (set by ``.ci/run``) it fails instead, so CI can
never go green by silently skipping a whole layer.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE_ALL_ENV = "SECURESPHERE_REQUIRE_ALL"


def require_all() -> bool:
    """True when every test layer must run (``SECURESPHERE_REQUIRE_ALL=1``)."""
    return os.environ.get(REQUIRE_ALL_ENV) == "1"


def skip_layer(reason: str) -> NoReturn:
    """Skip the current test -- or fail it when :func:`require_all` is set.

    ``reason`` should say how to install what is missing, e.g.
    ``"PostgreSQL binaries not found (initdb); install with: apt-get install -y postgresql"``.
    """
    if require_all():
        pytest.fail(f"{reason} [{REQUIRE_ALL_ENV}=1: layer may not be skipped]", pytrace=False)
    pytest.skip(reason)
