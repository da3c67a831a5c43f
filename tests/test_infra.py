"""Tests of the test-support code itself (tests/support/); they do not need the app."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from tests.support import browser as b
from tests.support import layers
from tests.support.postgres import INSTALL_HINT, find_pg_bin, start_cluster

# --------------------------------------------------------------------------- layers


def test_skip_layer_skips_by_default(monkeypatch):
    monkeypatch.delenv(layers.REQUIRE_ALL_ENV, raising=False)
    assert layers.require_all() is False
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y thing"):
        layers.skip_layer("thing missing; install with: apt-get install -y thing")


@pytest.mark.parametrize("value", ["0", "", "yes", "true"])
def test_require_all_only_for_exactly_1(monkeypatch, value):
    monkeypatch.setenv(layers.REQUIRE_ALL_ENV, value)
    assert layers.require_all() is False


def test_skip_layer_fails_under_require_all(monkeypatch):
    monkeypatch.setenv(layers.REQUIRE_ALL_ENV, "1")
    assert layers.require_all() is True
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y thing"):
        layers.skip_layer("thing missing; install with: apt-get install -y thing")


def test_missing_chromium_is_skip_or_fail(monkeypatch):
    monkeypatch.setattr(b, "CHROMIUM_PATH", "/nonexistent/chromium")
    monkeypatch.delenv(layers.REQUIRE_ALL_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        b.require_chromium()
    monkeypatch.setenv(layers.REQUIRE_ALL_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        b.require_chromium()


# --------------------------------------------------------------------------- postgres


@pytest.fixture(scope="module")
def pg_cluster():
    if find_pg_bin() is None:
        layers.skip_layer(f"PostgreSQL binaries not found (initdb); {INSTALL_HINT}")
    t0 = time.monotonic()
    cluster = start_cluster()
    cluster.start_seconds = time.monotonic() - t0
    yield cluster
    cluster.stop()
    assert not cluster.base_dir.exists()


@pytest.mark.postgres
def test_postgres_cluster_version(pg_cluster):
    import sqlalchemy as sa

    url = pg_cluster.create_database("infra_check")
    assert url == f"postgresql+psycopg://postgres@127.0.0.1:{pg_cluster.port}/infra_check"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT version()")).scalar_one()
            encoding = conn.execute(sa.text("SHOW server_encoding")).scalar_one()
            dbname = conn.execute(sa.text("SELECT current_database()")).scalar_one()
    finally:
        engine.dispose()
    assert version.startswith("PostgreSQL ")
    assert encoding == "UTF8"
    assert dbname == "infra_check"
    assert pg_cluster.start_seconds < 30


@pytest.mark.postgres
def test_postgres_databases_are_independent(pg_cluster):
    import sqlalchemy as sa

    urls = [pg_cluster.create_database(f"iso_{i}") for i in range(2)]
    engines = [sa.create_engine(u) for u in urls]
    try:
        with engines[0].begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x int)"))
        with engines[1].connect() as conn:
            assert conn.execute(sa.text("SELECT to_regclass('public.t')")).scalar() is None
    finally:
        for e in engines:
            e.dispose()
    pg_cluster.drop_database("iso_0")


# --------------------------------------------------------------------------- browser

_STATIC_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>infra</title></head>
<body>
  <div data-testid="stApp" data-test-script-state="running"
       data-test-connection-state="CONNECTED">
    <h1 id="greeting">Hello from http.server</h1>
    <p id="status">working</p>
  </div>
  <script>
    // Imitate a Streamlit rerun: keep changing the DOM for a while, then go idle.
    let n = 0;
    const timer = setInterval(() => {
      document.getElementById('status').textContent = 'tick ' + (++n);
      if (n === 5) {
        clearInterval(timer);
        document.getElementById('status').textContent = 'done';
        document.querySelector('[data-testid="stApp"]')
          .setAttribute('data-test-script-state', 'notRunning');
      }
    }, 100);
  </script>
</body></html>
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(_STATIC_PAGE)))
        self.end_headers()
        self.wfile.write(_STATIC_PAGE)

    def log_message(self, *args):
        pass


@pytest.fixture
def static_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def chromium_page():
    b.require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        t0 = time.monotonic()
        browser = pw.chromium.launch(executable_path=b.CHROMIUM_PATH, args=b.CHROMIUM_ARGS)
        launch_seconds = time.monotonic() - t0
        context = browser.new_context(viewport={"width": 1100, "height": 700})
        context.add_init_script(b.STABLE_INIT_SCRIPT)
        page = context.new_page()
        page.launch_seconds = launch_seconds
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.mark.browser
def test_chromium_opens_static_page(static_server, chromium_page):
    page = chromium_page
    page.goto(static_server)
    assert page.title() == "infra"
    assert page.locator("#greeting").inner_text() == "Hello from http.server"
    # The fake app flips to notRunning after ~500 ms of DOM churn.
    b.wait_stable(page, quiet_ms=300, timeout_ms=10000)
    assert page.locator("#status").inner_text() == "done"
    quiet_for = page.evaluate("performance.now() - window.__lastChange")
    assert quiet_for >= 300
    shot = b.screenshot(page, "infra_static_page")
    assert shot.exists() and shot.stat().st_size > 0
    assert shot.parent == b.ARTIFACTS_DIR


@pytest.mark.browser
def test_wait_stable_times_out_while_running(static_server, chromium_page):
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page = chromium_page
    page.goto(static_server)
    page.evaluate(
        "document.querySelector('[data-testid=\"stApp\"]')"
        ".setAttribute('data-test-connection-state', 'PINGING_SERVER')"
    )
    with pytest.raises(PlaywrightTimeoutError):
        b.wait_stable(page, quiet_ms=100, timeout_ms=1500)


@pytest.mark.browser
def test_start_streamlit_serves_a_tiny_app(tmp_path, chromium_page):
    """start_streamlit/stop_streamlit/wait_stable against a real (tiny) Streamlit app."""
    app = tmp_path / "tiny_app.py"
    app.write_text(
        "import os\n"
        "import streamlit as st\n"
        "st.title('Tiny infra app')\n"
        "st.write('marker:', os.environ.get('INFRA_MARKER', 'unset'))\n"
        "if st.button('Click me'):\n"
        "    st.write('clicked!')\n"
    )
    port = b.free_port()
    proc = b.start_streamlit(
        {"INFRA_MARKER": "m-42"}, port, app=str(app), log_name="infra_tiny_app"
    )
    try:
        page = chromium_page
        page.goto(b.base_url(port))
        b.wait_stable(page)
        assert page.get_by_text("Tiny infra app").is_visible()
        assert page.get_by_text("m-42").count() >= 1
        page.get_by_role("button", name="Click me").click()
        b.wait_stable(page)
        assert page.get_by_text("clicked!").is_visible()
        b.screenshot(page, "infra_tiny_app")
    finally:
        b.stop_streamlit(proc)
    assert proc.poll() is not None
    assert proc.log_path.exists()
    b.stop_streamlit(proc)  # idempotent


def test_start_streamlit_reports_crash(tmp_path):
    app = tmp_path / "missing_app.py"  # does not exist: streamlit exits at once
    with pytest.raises(RuntimeError, match="streamlit"):
        b.start_streamlit({}, b.free_port(), app=str(app), log_name="infra_crash", timeout=30)
