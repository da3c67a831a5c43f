"""Shared helpers for the SecureSphere test suite.

* :mod:`tests.support.layers`   -- skip-or-fail policy for optional test layers.
* :mod:`tests.support.postgres` -- throw-away PostgreSQL clusters.
* :mod:`tests.support.browser`  -- Streamlit server + Playwright/Chromium helpers.
"""
