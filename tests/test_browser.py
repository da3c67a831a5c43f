"""End-to-end: a real Streamlit server with the demo data, driven through Debian's Chromium.

One server (own temporary SQLite database and data dir) and one browser per
module; every test gets fresh browser contexts, so no cookies or Streamlit
sessions leak between tests.  Screenshots go to ``tests/artifacts/``; a failing
test also leaves ``FAILED_<test>.png`` there, next to the server log
``browser-e2e.log``.

Menus: the app keeps gaining pages, so a role's menu is compared with what
``ui.navigation.PAGES`` grants that role (nothing more, nothing less, same
order), and separately with a fixed list of entries the role must have and
must never have.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from types import SimpleNamespace

import jwt
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support import browser as b

pytestmark = pytest.mark.browser

PASSWORD = "browser-e2e-passphrase"  # >= 12 characters, shared by all demo accounts
COOKIE = "securesphere_auth"
COOKIE_DAYS = 0.5  # ui.login.COOKIE_DAYS
FAILED_SIGN_IN = "Incorrect username or password."
NO_ACCESS = "You do not have access to this page."
SIGNED_OUT = "You have been signed out."
SESSION_ENDED = "Your session has ended. Please sign in again."

NAV = '[data-testid="stSidebarNav"]'
NAV_LINK = '[data-testid="stSidebarNavLink"]'
NAV_SECTION = '[data-testid="stNavSectionHeader"]'
SIDEBAR = '[data-testid="stSidebar"]'
MAIN_H1 = '[data-testid="stMain"] h1'
METRIC_LABEL = '[data-testid="stMetricLabel"]'
PLOTLY = '.js-plotly-plot, [data-testid="stPlotlyChart"]'
APP_ERROR = "This app has encountered an error"

ADMIN_PAGES = ("Users", "Organisations", "Sign-in activity")
NOT_FOR_CLIENTS = ("Portfolio", "Review desk", "Review") + ADMIN_PAGES
# username -> (role, home page title, role line in the sidebar, menu entries that must never show)
ACCOUNTS = {
    "admin": ("admin", "Portfolio", "Admin", ("My products",)),
    "lead_reviewer": (
        "lead_reviewer",
        "Review desk",
        "Lead Reviewer",
        ("My products", "Portfolio") + ADMIN_PAGES,
    ),
    "security_manager": (
        "security_manager",
        "Portfolio",
        "Security Manager",
        ("My products", "Review desk") + ADMIN_PAGES,
    ),
    "analyst": ("analyst", "Portfolio", "Analyst", ("My products", "Review desk") + ADMIN_PAGES),
    "demo_client": ("client", "My products", "Client · Demo Corp", NOT_FOR_CLIENTS),
    "enterprise_client": ("client", "My products", "Client · Enterprise Inc", NOT_FOR_CLIENTS),
}
# URL paths of other roles' pages (Streamlit uses the page file's stem)
OTHER_ROLES_PATHS = ("portfolio_home", "review_home", "review", "admin_users")


def registry_menu(role: str) -> list[str]:
    """The menu ui.navigation.PAGES declares for ``role``, in the order st.navigation draws it."""
    from ui.navigation import PAGES

    groups: dict[str, list[str]] = {}
    for spec in PAGES:
        if role in spec.roles:
            groups.setdefault(spec.group, []).append(spec.title)
    return [title for group in groups.values() for title in group]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` over a fresh database with the demo data."""
    b.require_chromium()
    root = tmp_path_factory.mktemp("browser_e2e")
    env = {
        "SECURESPHERE_DATABASE_URL": f"sqlite:///{root / 'securesphere.db'}",
        "SECURESPHERE_DATA_DIR": str(root / "data"),
        "SECURESPHERE_DEMO_PASSWORD": PASSWORD,
        "SECURESPHERE_BCRYPT_ROUNDS": "4",
        "SECURESPHERE_COOKIE_KEY": None,  # generated into the data dir, shared by init and server
    }
    init_env = {k: v for k, v in os.environ.items() if k not in env}
    init_env.update({k: v for k, v in env.items() if v is not None})
    init = subprocess.run(
        [sys.executable, "-m", "core.cli", "init", "--demo"],
        cwd=b.REPO_ROOT,
        env=init_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert init.returncode == 0, f"core.cli init --demo failed:\n{init.stdout}\n{init.stderr}"

    # The registry as the server is about to load it (read once, so every test compares
    # against the same menus even if ui/navigation.py is edited during the run).
    menus = {role: registry_menu(role) for role, *_ in ACCOUNTS.values()}
    port = b.free_port()
    proc = b.start_streamlit(env, port, log_name="browser-e2e")
    try:
        yield SimpleNamespace(
            url=b.base_url(port),
            port=port,
            log_path=proc.log_path,
            menus=menus,
            db_url=env["SECURESPHERE_DATABASE_URL"],
        )
    finally:
        b.stop_streamlit(proc)


@pytest.fixture(scope="module")
def chromium(server):
    with sync_playwright() as pw:
        browser = b.launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_context(chromium):
    """Factory for fresh browser contexts (all closed at teardown)."""
    contexts = []

    def make(cookies: list[dict] | None = None):
        ctx = chromium.new_context(viewport={"width": 1366, "height": 900})
        ctx.set_default_timeout(b.STEP_TIMEOUT_MS)
        ctx.add_init_script(b.STABLE_INIT_SCRIPT)
        if cookies:
            ctx.add_cookies(cookies)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def app_page(request, new_context):
    """A page in a fresh context; if the test fails its screenshot is FAILED_<test>.png."""
    failed_before = request.session.testsfailed
    page = new_context().new_page()
    yield page
    # The call phase has been reported (and counted) before fixture teardown runs.
    if request.session.testsfailed > failed_before and not page.is_closed():
        with contextlib.suppress(Exception):  # a failing screenshot must not hide the real failure
            b.screenshot(page, "FAILED_" + request.node.name)


# --------------------------------------------------------------------------- helpers


def _log_tail(server, chars: int = 3000) -> str:
    try:
        return server.log_path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no server log)"


def assert_no_app_error(page, server) -> None:
    """Streamlit's (redacted) uncaught-exception box is never acceptable."""
    if page.get_by_text(APP_ERROR).count() or page.locator('[data-testid="stException"]').count():
        pytest.fail(
            f"the app raised an exception on {page.url}; server log tail:\n{_log_tail(server)}",
            pytrace=False,
        )


def auth_cookie(ctx) -> dict | None:
    return next((c for c in ctx.cookies() if c["name"] == COOKIE), None)


def wait_until(predicate, timeout: float = b.STEP_TIMEOUT_MS / 1000, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def open_app(page, server, path: str = "", quiet_ms: int = 700) -> None:
    """Load a URL and wait for the app to settle.

    A fresh load runs the script twice: once on connect, and again ~0.3-0.4 s later
    when the cookie component reports; ``quiet_ms`` must bridge that gap.
    """
    page.goto(server.url + path)
    b.wait_stable(page, quiet_ms=quiet_ms)
    assert_no_app_error(page, server)


def login_form_visible(page) -> bool:
    return page.get_by_role("button", name="Sign in").is_visible()


def submit_login(page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page, server, username: str, password: str = PASSWORD, *, path: str = "") -> dict:
    """Sign in through the form (at ``path``); returns the remember-me cookie once set."""
    open_app(page, server, path)
    submit_login(page, username, password)
    assert wait_until(lambda: auth_cookie(page.context) is not None), (
        f"no {COOKIE} cookie 10 s after signing in as {username}"
    )
    b.wait_stable(page)
    assert_no_app_error(page, server)
    expect(page.locator(NAV)).to_be_visible(timeout=10_000)
    return auth_cookie(page.context)


def sign_out(page, server) -> None:
    page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
    wait_until(lambda: auth_cookie(page.context) is None or login_form_visible(page))
    b.wait_stable(page)
    assert_no_app_error(page, server)


def expect_login_form(page) -> None:
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.locator(NAV)).to_have_count(0)


def titles(page) -> list[str]:
    return [t.strip() for t in page.locator(MAIN_H1).all_inner_texts()]


def heading(page) -> str:
    expect(page.locator(MAIN_H1).first).to_be_visible()
    return titles(page)[0]


def wait_for_charts(page) -> None:
    """Plotly draws after Streamlit is idle; wait until every chart has its SVG."""
    for chart in page.locator('[data-testid="stPlotlyChart"]').all():
        expect(chart.locator(".main-svg").first).to_be_visible()


def visit_in_session(page, path: str) -> None:
    """Change the URL inside the open app (as back/forward does): same Streamlit session."""
    page.evaluate(
        "p => { history.pushState({}, '', '/' + p);"
        " window.dispatchEvent(new PopStateEvent('popstate', {state: {}})); }",
        path,
    )
    b.wait_stable(page, quiet_ms=800)


def shot(page, name: str) -> None:
    """Screenshot without a hover effect left behind by the last click."""
    page.mouse.move(1, 1)
    page.wait_for_timeout(150)
    b.screenshot(page, name)


def mint_cookie(username: str, key: str) -> dict:
    """A remember-me cookie in streamlit-authenticator's format, signed with ``key``."""
    exp_date = time.time() + COOKIE_DAYS * 86400
    token = jwt.encode({"username": username, "exp_date": exp_date}, key, algorithm="HS256")
    return {
        "name": COOKIE,
        "value": token,
        "domain": "127.0.0.1",
        "path": "/",
        "expires": int(exp_date),
        "sameSite": "Strict",
    }


def assert_no_foreign_role_content(page) -> None:
    found = titles(page)
    for title in NOT_FOR_CLIENTS:
        assert title not in found, f"client sees the {title!r} page on {page.url}"
    expect(page.locator(METRIC_LABEL).filter(has_text="Organisations")).to_have_count(0)
    expect(page.locator(METRIC_LABEL).filter(has_text="Waiting for review")).to_have_count(0)
    expect(page.locator(PLOTLY)).to_have_count(0)
    body = page.locator("body").text_content()
    for foreign in ("Payments Gateway", "Enterprise Inc"):
        assert foreign not in body, f"client sees {foreign!r} on {page.url}"


def assert_client_home_or_refusal(page, server, path: str) -> None:
    expect(page.locator(NAV)).to_be_visible()
    assert titles(page) == ["My products"] or page.get_by_text(NO_ACCESS).count(), (
        f"{path}: titles {titles(page)} on {page.url}"
    )
    assert b.nav_labels(page) == server.menus["client"]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_sign_in_shows_role_home_and_menu_then_sign_out(app_page, server, username):
    page = app_page
    role, title, role_line, forbidden = ACCOUNTS[username]
    sign_in(page, server, username)

    assert heading(page) == title
    menu = b.nav_labels(page)
    assert menu == server.menus[role]
    assert {title, "My profile"} <= set(menu), menu
    assert not set(forbidden) & set(menu), menu
    sections = [t.strip() for t in page.locator(NAV).locator(NAV_SECTION).all_inner_texts()]
    assert ("Administration" in sections) == (role == "admin"), sections
    current = page.locator(NAV).locator(f'{NAV_LINK}[aria-current="page"]')
    expect(current).to_have_count(1)
    expect(current).to_contain_text(title)

    sidebar = page.locator(SIDEBAR)
    expect(sidebar).to_contain_text(role_line)  # under the name, in the same paragraph
    expect(
        sidebar.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Demo data").first
    ).to_be_visible()
    wait_for_charts(page)
    shot(page, f"home_{username}")

    sign_out(page, server)
    expect_login_form(page)
    expect(page.get_by_text(SIGNED_OUT)).to_be_visible()


def test_wrong_password_and_unknown_user_get_the_same_refusal(app_page, server):
    page = app_page
    messages = {}
    for label, username, password in (
        ("wrong password", "analyst", "not-the-right-passphrase"),
        ("unknown user", "nobody_here", PASSWORD),
    ):
        open_app(page, server)  # a fresh Streamlit session for each attempt
        submit_login(page, username, password)
        b.wait_stable(page)
        assert_no_app_error(page, server)
        expect(page.get_by_text(FAILED_SIGN_IN, exact=True)).to_be_visible()
        expect_login_form(page)
        assert auth_cookie(page.context) is None, f"{label}: a {COOKIE} cookie was set"
        messages[label] = page.locator('[data-testid="stAlert"]').all_inner_texts()
    assert messages["wrong password"] == messages["unknown user"], messages
    shot(page, "login_failed")


def test_client_url_to_other_roles_pages_in_open_app(app_page, server):
    """The URL changes inside the signed-in session: Streamlit looks the page up by path."""
    page = app_page
    sign_in(page, server, "demo_client")
    visit_in_session(page, "profile")  # control: the path lookup does work for an allowed page
    assert heading(page) == "My profile"

    for path in OTHER_ROLES_PATHS:
        visit_in_session(page, path)
        assert_no_app_error(page, server)
        assert_no_foreign_role_content(page)
        assert_client_home_or_refusal(page, server, path)


def test_client_types_other_roles_urls(app_page, server):
    """A typed URL is a new page load and Streamlit session; the cookie carries the sign-in."""
    page = app_page
    sign_in(page, server, "demo_client")
    open_app(page, server, "profile")  # control: the cookie does sign the load in
    expect(page.locator(NAV)).to_be_visible()
    assert heading(page) == "My profile"

    for path in OTHER_ROLES_PATHS:
        open_app(page, server, path)
        assert_no_foreign_role_content(page)
        assert_client_home_or_refusal(page, server, path)
        shot(page, f"client_url_{path}")


def test_client_deep_link_to_other_roles_page_survives_sign_in_safely(
    app_page, server, new_context
):
    """Signed out, a deep link shows the sign-in form; after signing in the page is checked."""
    control = new_context().new_page()
    sign_in(control, server, "demo_client", path="profile")  # deep links do survive sign-in
    b.wait_stable(control, quiet_ms=800)
    assert heading(control) == "My profile"

    page = app_page
    open_app(page, server, "portfolio_home")
    expect_login_form(page)
    assert_no_foreign_role_content(page)
    sign_in(page, server, "demo_client", path="portfolio_home")
    b.wait_stable(page, quiet_ms=800)
    assert_no_foreign_role_content(page)
    assert_client_home_or_refusal(page, server, "portfolio_home")


def test_old_cookie_does_not_sign_in_after_sign_out(app_page, server, new_context):
    page = app_page
    cookie = sign_in(page, server, "lead_reviewer")

    # Control: while the sign-in is live the same cookie signs a fresh browser in, so the
    # refusal below is down to the sign-out, not to a cookie that never works.
    live = new_context(cookies=[cookie]).new_page()
    open_app(live, server)
    expect(live.locator(NAV)).to_be_visible(timeout=10_000)
    assert heading(live) == "Review desk"

    sign_out(page, server)
    expect_login_form(page)
    assert auth_cookie(page.context) is None, "sign-out left the remember-me cookie in the browser"

    replay = new_context(cookies=[cookie]).new_page()
    open_app(replay, server, quiet_ms=1500)  # give a cookie sign-in time to happen, if it would
    assert_no_app_error(replay, server)
    expect_login_form(replay)
    expect(replay.get_by_role("heading", name="Review desk")).to_have_count(0)
    shot(replay, "cookie_replay_after_sign_out")


def _idle_for(server, username: str, minutes: int) -> int:
    """Move the user's live sessions back in time, as if the browser had been idle."""
    from core import db
    from core.models import AuthSession, User

    with db.transaction(server.db_url) as s:
        rows = (
            s.query(AuthSession)
            .join(User, User.id == AuthSession.user_id)
            .filter(User.username == username, AuthSession.revoked_at.is_(None))
            .all()
        )
        for row in rows:
            row.last_seen_at -= timedelta(minutes=minutes)
    db.dispose_all()
    return len(rows)


def test_idle_timeout_ends_the_cookie_in_every_browser(app_page, server, new_context):
    page = app_page
    cookie = sign_in(page, server, "security_manager")
    assert _idle_for(server, "security_manager", 31) >= 1

    open_app(page, server)  # a reload: a new Streamlit session, signed in only by the cookie
    expect_login_form(page)
    expect(page.get_by_text(SESSION_ENDED)).to_be_visible()
    assert wait_until(lambda: auth_cookie(page.context) is None), "the refused cookie was kept"

    replay = new_context(cookies=[cookie]).new_page()
    open_app(replay, server, quiet_ms=1500)  # give a cookie sign-in time to happen, if it would
    expect_login_form(replay)
    expect(replay.get_by_role("heading", name="Portfolio")).to_have_count(0)


def test_sign_out_in_one_browser_ends_a_copied_cookie_in_the_other(app_page, server, new_context):
    page = app_page
    cookie = sign_in(page, server, "analyst")
    copy = new_context(cookies=[cookie]).new_page()
    open_app(copy, server)
    expect(copy.locator(NAV)).to_be_visible(timeout=10_000)  # the copied cookie does sign in

    sign_out(page, server)
    copy.get_by_role("link", name="My profile").click()  # the copy's next rerun
    b.wait_stable(copy, quiet_ms=700)
    assert_no_app_error(copy, server)
    expect(copy.get_by_text(SESSION_ENDED)).to_be_visible()
    expect(copy.locator(NAV)).to_have_count(0)
    open_app(copy, server, quiet_ms=1500)
    expect_login_form(copy)


def test_cookie_is_strict_and_lives_no_longer_than_the_session(app_page, server):
    cookie = sign_in(app_page, server, "analyst")
    assert cookie["sameSite"] == "Strict" and not cookie["secure"]  # plain HTTP here
    assert cookie["expires"] <= time.time() + 12 * 3600 + 60  # session_absolute_hours


def test_cookie_is_secure_behind_a_tls_proxy(server, new_context):
    ctx = new_context()
    ctx.set_extra_http_headers({"X-Forwarded-Proto": "https"})  # what nginx sends on
    cookie = sign_in(ctx.new_page(), server, "analyst")
    assert cookie["secure"] and cookie["sameSite"] == "Strict"


def test_cookie_signed_with_another_key_is_refused(app_page, server):
    page = app_page
    page.context.add_cookies([mint_cookie("admin", key="not-the-server-key-" + "x" * 32)])
    open_app(page, server, quiet_ms=1500)
    assert_no_app_error(page, server)
    expect_login_form(page)


@pytest.mark.parametrize(
    "username, own, foreign",
    [
        ("demo_client", ["Customer Portal", "Mobile App"], ["Payments Gateway"]),
        ("enterprise_client", ["Payments Gateway"], ["Customer Portal", "Mobile App"]),
    ],
)
def test_client_home_lists_only_own_products(app_page, server, username, own, foreign):
    page = app_page
    sign_in(page, server, username)
    assert heading(page) == "My products"
    table = page.locator('[data-testid="stDataFrame"]')
    expect(table.first).to_be_visible()
    # st.dataframe draws on a canvas; its text lives in the grid's accessible table.
    for product in own:
        expect(page.locator("body")).to_contain_text(product)
    body = page.locator("body").text_content()
    for product in foreign:
        assert product not in body, f"{username} sees {product!r}"


def test_portfolio_home_shows_metrics_and_chart(app_page, server):
    page = app_page
    sign_in(page, server, "security_manager")
    assert heading(page) == "Portfolio"
    labels = [t.strip() for t in page.locator(METRIC_LABEL).all_inner_texts()]
    assert "Organisations" in labels, labels
    value = (
        page.locator('[data-testid="stMetric"]')
        .filter(has_text="Organisations")
        .locator('[data-testid="stMetricValue"]')
        .inner_text()
        .strip()
    )
    assert re.fullmatch(r"[1-9]\d*", value), f"Organisations metric is {value!r}"
    expect(page.locator(PLOTLY).first).to_be_visible()
    wait_for_charts(page)
    shot(page, "portfolio_security_manager")


def test_cookie_of_a_deactivated_account_is_refused_and_deleted(app_page, server, new_context):
    from core import db
    from core.access import SYSTEM
    from core.models import User
    from core.users import create_user, set_user_active

    with db.transaction(server.db_url) as s:
        create_user(
            s,
            SYSTEM,
            username="leaver",
            name="Lee Leaver",
            role="analyst",
            password=PASSWORD,
            rounds=4,
        )
    db.dispose_all()
    page = app_page
    cookie = sign_in(page, server, "leaver")
    with db.transaction(server.db_url) as s:
        set_user_active(s, SYSTEM, s.query(User).filter_by(username="leaver").one().id, False)
    db.dispose_all()
    replay = new_context(cookies=[cookie]).new_page()
    open_app(replay, server, quiet_ms=1500)
    expect_login_form(replay)
    assert wait_until(lambda: auth_cookie(replay.context) is None), "the refused cookie was kept"
