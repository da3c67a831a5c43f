"""The shipped deploy/nginx.conf, started for real in front of two app processes.

nginx listens on [::1] with a certificate made here; Chromium signs in through it. The apps run
as deploy/securesphere@.service runs them: SECURESPHERE_TRUSTED_PROXIES=127.0.0.1 (the address
nginx connects from) and an empty FORWARDED_ALLOW_IPS (so uvicorn does not resolve
X-Forwarded-For itself). The browser comes from ::1, an address that is not trusted, so the
address the app records shows whose word it took.
"""

from __future__ import annotations

import sqlite3
import stat
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from core import db
from core.models import SignInAttempt
from tests.support import browser as b
from tests.support import nginx as n

pytestmark = pytest.mark.browser

PASSWORD = "nginx journey passphrase"
NAV = '[data-testid="stSidebarNav"]'


def _until(read, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (value := read()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)
    return value


def _config(prefix: Path, app_ports=(8501, 8502)) -> Path:
    cert, key = n.make_certificate(prefix)
    site = n.site_config(
        http_port=b.free_port(), https_port=b.free_port(), app_ports=app_ports, cert=cert, key=key
    )
    return n.write_config(prefix, site)


def test_the_shipped_config_passes_nginx_t(tmp_path):
    binary = n.require_nginx()
    result = n.check_config(binary, tmp_path, _config(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    b.require_chromium()
    binary = n.require_nginx()
    root = tmp_path_factory.mktemp("nginx")
    database = root / "db" / "securesphere.db"
    env = {
        "SECURESPHERE_DATABASE_URL": f"sqlite:///{database}",
        "SECURESPHERE_DATA_DIR": str(root / "data"),
        "SECURESPHERE_DEMO_PASSWORD": PASSWORD,
        "SECURESPHERE_BCRYPT_ROUNDS": "4",
        "SECURESPHERE_COOKIE_KEY": None,
        "SECURESPHERE_TRUSTED_PROXIES": "127.0.0.1",
        "FORWARDED_ALLOW_IPS": "",
    }
    b.run_cli(env, ["init", "--demo"])
    ports = (b.free_port(), b.free_port())
    apps = []
    try:
        for port in ports:
            apps.append(b.start_streamlit(env, port, log_name=f"nginx-app-{len(apps)}"))
        prefix = root / "nginx"
        prefix.mkdir()
        cert, key = n.make_certificate(prefix)
        https_port = b.free_port()
        site = n.site_config(
            http_port=b.free_port(), https_port=https_port, app_ports=ports, cert=cert, key=key
        )
        proxy = n.start_nginx(binary, prefix, n.write_config(prefix, site), https_port)
        try:
            yield SimpleNamespace(
                url=f"https://{n.LISTEN_HOST}:{https_port}/",
                prefix=prefix,
                db_url=env["SECURESPHERE_DATABASE_URL"],
                database=database,
                data_dir=root / "data",
            )
        finally:
            n.stop_nginx(proxy)
    finally:
        for app in apps:
            b.stop_streamlit(app)
        db.dispose_all()


@pytest.fixture(scope="module")
def nginx_chromium(site):
    with sync_playwright() as pw:
        browser = b.launch_chromium(pw, args=b.CHROMIUM_ARGS + ["--ignore-certificate-errors"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_context(nginx_chromium):
    made = []

    def make(**options):
        ctx = nginx_chromium.new_context(ignore_https_errors=True, **options)
        ctx.set_default_timeout(b.STEP_TIMEOUT_MS)
        ctx.add_init_script(b.STABLE_INIT_SCRIPT)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


def _directives(csp: str) -> dict[str, list[str]]:
    parts = (d.split() for d in csp.split(";") if d.strip())
    return {d[0]: d[1:] for d in parts}


def _submit(page, username: str, password: str) -> None:
    b.wait_stable(page, quiet_ms=700)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_client_signs_in_through_nginx_which_sends_the_security_headers(site, new_context):
    page = new_context().new_page()
    response = page.goto(site.url)
    headers = response.headers
    csp = _directives(headers["content-security-policy"])
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert csp["frame-ancestors"] == ["'self'"] and headers["x-frame-options"] == "SAMEORIGIN"
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["x-content-type-options"] == "nosniff"
    _submit(page, "demo_client", PASSWORD)
    # The sign-in completes only once the same-origin cookie component iframe has run.
    expect(page.locator(NAV)).to_be_visible()
    b.wait_stable(page)
    expect(page.locator('[data-testid="stMain"] h1')).to_have_text("My products")
    assert not page.locator('[data-testid="stException"]').count()
    # The second wall against image payloads in user text: another host's image is refused.
    violated = page.evaluate("""() => new Promise(resolve => {
        document.addEventListener('securitypolicyviolation', e => resolve(e.effectiveDirective));
        const img = new Image(); img.src = 'https://tracker.example/pixel.png';
        document.body.appendChild(img);
    })""")
    assert violated == "img-src"


def test_a_failed_sign_in_through_nginx_is_recorded_with_the_browsers_address(site, new_context):
    # Chromium sends no extra headers on the WebSocket handshake (where Streamlit reads them),
    # so a spoofed X-Forwarded-For is tested on the parser's table in tests/test_throttle.py.
    page = new_context().new_page()
    page.goto(site.url)
    _submit(page, "analyst", "not the analyst's password")
    expect(page.get_by_text("Incorrect username or password.")).to_be_visible()

    def failed():
        with db.reading(site.db_url) as s:
            return s.scalar(
                select(SignInAttempt).where(
                    SignInAttempt.username == "analyst", SignInAttempt.succeeded.is_(False)
                )
            )

    attempt = _until(failed, "the failed sign-in row")
    # The app's peer is nginx (127.0.0.1, trusted); nginx appended the browser's address.
    assert attempt.client_address == "::1"
    stream = [
        line
        for line in (site.prefix / "access.log").read_text().splitlines()
        if "/_stcore/stream" in line
    ]
    assert stream and all(line.startswith("::1 ") for line in stream)


def test_the_live_database_and_data_dir_are_private(site):
    # The -wal and -shm files exist only while a connection is open, and an idle app may hold
    # none: this reader keeps them in place (SQLite gives them the database file's own mode).
    with sqlite3.connect(site.database) as reader:
        reader.execute("SELECT count(*) FROM users").fetchone()
        files = [p for p in db.sqlite_files(site.database) if p.exists()]
        assert len(files) == 3
        assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == dict.fromkeys(
            (p.name for p in files), 0o600
        )
    reader.close()
    assert stat.S_IMODE(site.data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(site.database.parent.stat().st_mode) == 0o700
