"""Single sign-on in Debian's Chromium against a real server and a real OpenID provider
(tests/support/oidc.py): a client created from her group, a lead reviewer whose provider vouched
for a second factor and one whose did not, groups SecureSphere does not know (from the start, or
once a rule is removed), a provider that does not answer, ID tokens altered on their way (forged,
expired, for another audience, another nonce), and the password form turned off. One server over
the demo data for the module; every test signs in from a fresh browser profile."""

from __future__ import annotations

import json
import re
import secrets
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from core import db
from core.models import AuditLog, AuthSession, SsoIdentity, User
from tests.support import browser as b
from tests.support import oidc
from ui.navigation import PAGES

pytestmark = pytest.mark.browser
expect.set_options(timeout=b.STEP_TIMEOUT_MS)

PASSWORD = "sso browser passphrase 2026"  # the demo accounts'
NAV = '[data-testid="stSidebarNav"]'
NAV_LINK = '[data-testid="stSidebarNavLink"]'
SIDEBAR = '[data-testid="stSidebar"]'
MAIN_H1 = '[data-testid="stMain"] h1'
COOKIE = "securesphere_auth"
NO_GROUP = "is in no group that SecureSphere knows"
DOWN = "is not available right now"
ENROL = "Your role signs in with two steps. Set up your authenticator app below to continue."


def _account(groups: list[str], amr: list[str], email: str, name: str) -> dict:
    claims = {"name": name, "email": email, "email_verified": True, "groups": groups}
    return {"password": f"{name.split()[0].lower()}-idp-pw", "claims": claims, "amr": amr}


IDP_ACCOUNTS = {
    "carol": _account(["demo-corp-security"], ["pwd"], "carol@democorp.example", "Carol Corp"),
    "rita": _account(["ss-reviewers"], ["pwd", "otp", "mfa"], "rita@ss.example", "Rita Lead"),
    "rob": _account(["ss-reviewers"], ["pwd"], "rob@ss.example", "Rob Lead"),
    "nobody": _account(["contractors"], ["pwd"], "nobody@contractor.example", "Nobody Else"),
}
CAROL_RULE = {"group": "demo-corp-security", "role": "client", "organization": "Demo Corp"}
REVIEWER_RULE = {"group": "ss-reviewers", "role": "lead_reviewer", "organization": ""}
TAMPERED = {"forged": "Forged ID", "expired": "Expired ID", "audience": "Audience ID"}
TAMPERED["nonce"] = "Nonce ID"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo data, the group rules, a provider (and tampering proxies in front of it, and one
    that never answers) in a secrets file outside the repo, served by a real Streamlit."""
    b.require_chromium()
    oidc.require_node()
    root = tmp_path_factory.mktemp("sso_browser")
    port = b.free_port()
    idp = oidc.start_provider(IDP_ACCOUNTS, [f"http://127.0.0.1:{port}/oauth2callback"])
    proxies = {mode: oidc.start_tamper_proxy(idp, mode) for mode in TAMPERED}
    closed = f"http://127.0.0.1:{b.free_port()}/.well-known/openid-configuration"
    entries = [("corp", "Corp ID", idp.metadata_url)]
    entries += [(mode, TAMPERED[mode], proxy.metadata_url) for mode, proxy in proxies.items()]
    entries.append(("down", "Down ID", closed))
    toml = [
        "[auth]",
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"',
        f'cookie_secret = "{secrets.token_urlsafe(32)}"',
    ]
    for key, label, url in entries:
        toml += [
            f"[auth.{key}]",
            f'label = "{label}"',
            f'client_id = "{idp.client_id}"',
            f'client_secret = "{idp.client_secret}"',
            f'server_metadata_url = "{url}"',
        ]
    secrets_file = root / "secrets.toml"
    secrets_file.write_text("\n".join(toml) + "\n")
    env = b.app_env(root, PASSWORD, STREAMLIT_SECRETS_FILES=str(secrets_file))
    try:
        b.run_cli(
            env,
            ["init", "--demo"],
            ["settings", "sso_role_rules", json.dumps([CAROL_RULE, REVIEWER_RULE])],
            ["settings", "second_factor_roles", '["admin","lead_reviewer"]'],
        )
        proc = b.start_streamlit(env, port, log_name="sso_browser")
        try:
            yield SimpleNamespace(
                url=b.base_url(port),
                db=env["SECURESPHERE_DATABASE_URL"],
                env=env,
                proxies=proxies,
                log=proc.log_path,
            )
        finally:
            b.stop_streamlit(proc)
    finally:
        for proxy in proxies.values():
            proxy.stop()
        idp.stop()
        db.dispose_all()


@pytest.fixture(scope="module")
def chromium(server):
    yield from b.chromium_browser()


@pytest.fixture
def new_page(chromium):
    """Pages in fresh browser profiles (a failing test's are kept by conftest's hook)."""
    pages = []

    def make():
        pages.append(b.new_page(chromium, width=1366, height=900))
        return pages[-1]

    yield make
    for page in pages:
        page.context.close()


# --------------------------------------------------------------------------- helpers


def _open(page, server) -> None:
    page.goto(server.url)
    b.wait_stable(page, quiet_ms=700)  # a fresh load runs twice (the cookie component reports)


def _sso(page, server, label: str, login: str) -> None:
    """Sign in at the provider as `login` through the button "Sign in with LABEL", and wait until
    SecureSphere has handled the identity it brought back."""
    _open(page, server)
    heading = page.get_by_role("heading", name="Test identity provider")
    b.click_until(page, page.get_by_role("button", name=f"Sign in with {label}"), heading)
    page.get_by_label("Username").fill(login)
    page.get_by_label("Password").fill(IDP_ACCOUNTS[login]["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(server.url) + r"(\?.*)?$"))
    expect(page.locator('[data-testid="stApp"]')).to_be_visible()
    b.wait_stable(page, quiet_ms=700)


def _signed_in(page) -> None:
    expect(page.locator(SIDEBAR).get_by_role("button", name="Sign out")).to_be_visible()
    b.wait_stable(page)
    b.eventually(lambda: _cookie(page), what="the remember-me cookie")


def _on_sign_in_screen(page) -> None:
    expect(page.get_by_role("button", name="Sign in with Corp ID")).to_be_visible()
    expect(page.locator(NAV)).to_have_count(0)
    expect(page.locator(SIDEBAR)).to_have_count(0)
    assert not _cookie(page)


def _cookie(page) -> bool:
    return any(c["name"] == COOKIE for c in page.context.cookies())


def _set(server, key: str, value) -> None:
    b.run_cli(server.env, ["settings", key, value if isinstance(value, str) else json.dumps(value)])


def _user(server, subject: str) -> User | None:
    with db.reading(server.db) as s:
        return s.scalar(select(User).where(User.sso_subject == subject))


def _sessions(server, user_id: int | None = None, *, live: bool = False) -> list[AuthSession]:
    with db.reading(server.db) as s:
        query = select(AuthSession).order_by(AuthSession.issued_at)
        if user_id is not None:
            query = query.where(AuthSession.user_id == user_id)
        if live:
            query = query.where(AuthSession.revoked_at.is_(None))
        return list(s.scalars(query))


def _count_sessions(server) -> int:
    with db.reading(server.db) as s:
        return s.scalar(select(func.count()).select_from(AuthSession))


def _audit(server, action: str) -> list[AuditLog]:
    with db.reading(server.db) as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == action)))


def _refusals(server, subject: str) -> list[AuditLog]:
    return [r for r in _audit(server, "sso_refused") if r.detail.get("subject") == subject]


# --------------------------------------------------------------------------- tests


def test_a_client_signs_in_through_her_provider_once(server, new_page):
    page = new_page()
    _open(page, server)
    b.screenshot(page, "sso_sign_in_screen")
    _sso(page, server, "Corp ID", "carol")
    _signed_in(page)
    expect(page.locator(MAIN_H1).first).to_have_text("My products")
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    for product in ("Mobile App", "Internal HR System", "Cloud Platform"):  # Demo Corp's
        expect(page.locator("body")).to_contain_text(product)  # (in the grid's accessible table)
    assert "Payments Gateway" not in page.locator("body").text_content()  # Enterprise Inc's
    expect(page.locator(SIDEBAR).get_by_text("Client · Demo Corp")).to_be_visible()
    b.screenshot(page, "sso_client_home")

    carol = _user(server, "carol")
    assert carol is not None and carol.sso_provider == "corp" and carol.role == "client"
    assert carol.email == "carol@democorp.example"
    (live,) = _sessions(server, carol.id, live=True)
    assert (live.via, live.second_factor) == ("Corp ID", "")
    signed = [r for r in _audit(server, "sign_in") if r.actor_id == carol.id]
    assert signed and signed[-1].detail.get("via") == "Corp ID"

    page.reload()  # our remember-me cookie resumes the same session
    b.wait_stable(page, quiet_ms=700)
    _signed_in(page)
    expect(page.locator(MAIN_H1).first).to_have_text("My products")
    assert [s.id for s in _sessions(server, carol.id)] == [live.id]

    page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in with Corp ID")).to_be_visible()
    b.eventually(lambda: not _cookie(page), what="the cookie's deletion")
    page.reload()  # Streamlit's identity cookie is still there, but spent: it opens nothing
    b.wait_stable(page, quiet_ms=700)
    _on_sign_in_screen(page)
    b.screenshot(page, "sso_signed_out")
    assert [s.id for s in _sessions(server, carol.id)] == [live.id]
    assert not _sessions(server, carol.id, live=True)


def test_a_provider_vouching_for_a_second_factor_opens_the_full_menu(server, new_page):
    page = new_page()
    _sso(page, server, "Corp ID", "rita")
    _signed_in(page)
    expect(page.locator(MAIN_H1).first).to_have_text("Review desk")
    assert set(b.nav_labels(page)) == {p.title for p in PAGES if "lead_reviewer" in p.roles}
    expect(page.get_by_text(ENROL)).to_have_count(0)
    rita = _user(server, "rita")
    assert rita.role == "lead_reviewer" and rita.organization_id is None
    (live,) = _sessions(server, rita.id, live=True)
    assert (live.via, live.second_factor) == ("Corp ID", "provider")

    page = new_page()
    _sso(page, server, "Corp ID", "rob")
    _signed_in(page)
    expect(page.get_by_text(ENROL)).to_be_visible()
    expect(page.locator(MAIN_H1).first).to_have_text("My profile")
    expect(page.locator(NAV)).to_have_count(0)  # one page only: Streamlit draws no menu
    b.screenshot(page, "sso_second_factor_needed")
    (live,) = _sessions(server, _user(server, "rob").id, live=True)
    assert (live.via, live.second_factor) == ("Corp ID", "")


def test_a_group_nobody_mapped_is_refused(server, new_page):
    before = _count_sessions(server)
    page = new_page()
    _sso(page, server, "Corp ID", "nobody")
    expect(page.get_by_text(NO_GROUP)).to_be_visible()
    _on_sign_in_screen(page)
    b.screenshot(page, "sso_refused_no_group")
    assert _user(server, "nobody") is None and _count_sessions(server) == before
    (refused,) = b.eventually(lambda: _refusals(server, "nobody"), what="the sso_refused row")
    assert refused.detail["provider"] == "Corp ID" and NO_GROUP in refused.detail["reason"]
    with db.reading(server.db) as s:
        assert s.scalar(
            select(func.count()).select_from(SsoIdentity).where(SsoIdentity.user_id.is_(None))
        )


def test_a_mapping_that_disappears_refuses_the_next_sign_in(server, new_page):
    page = new_page()
    _sso(page, server, "Corp ID", "carol")  # her account exists from here on
    _signed_in(page)
    carol = _user(server, "carol")
    sessions = len(_sessions(server, carol.id))
    refusals = len(_refusals(server, "carol"))
    _set(server, "sso_role_rules", [REVIEWER_RULE])
    try:
        page = new_page()
        _sso(page, server, "Corp ID", "carol")
        expect(page.get_by_text(NO_GROUP)).to_be_visible()
        _on_sign_in_screen(page)
        assert len(_sessions(server, carol.id)) == sessions
        b.eventually(lambda: len(_refusals(server, "carol")) == refusals + 1, what="a refusal")
    finally:
        _set(server, "sso_role_rules", [CAROL_RULE, REVIEWER_RULE])


def test_a_provider_that_does_not_answer_leaves_the_password(server, new_page):
    page = new_page()
    _open(page, server)
    b.click_until(
        page, page.get_by_role("button", name="Sign in with Down ID"), page.get_by_text(DOWN)
    )
    b.wait_stable(page)
    page.get_by_text(DOWN).scroll_into_view_if_needed()
    b.screenshot(page, "sso_provider_down")
    page.get_by_label("Username").fill("demo_client")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    _signed_in(page)
    expect(page.locator(MAIN_H1).first).to_have_text("My products")


@pytest.mark.parametrize("mode", list(TAMPERED))
def test_an_altered_id_token_signs_nobody_in(server, new_page, mode):
    proxy = server.proxies[mode]
    before, altered = _count_sessions(server), proxy.altered
    page = new_page()
    _sso(page, server, TAMPERED[mode], "carol")
    _on_sign_in_screen(page)
    expect(page.get_by_text(NO_GROUP)).to_have_count(0)
    assert proxy.altered == altered + 1
    assert _count_sessions(server) == before
    refused = f"OAuth token exchange failed for provider '{mode}'"  # Authlib's check, not ours
    b.eventually(lambda: refused in server.log.read_text(errors="replace"), what=refused)


def test_with_the_password_form_off_only_the_providers_show(server, new_page):
    _set(server, "sign_in_password", "off")
    try:
        page = new_page()
        _open(page, server)
        for label in ("Corp ID", "Down ID", *TAMPERED.values()):
            expect(page.get_by_role("button", name=f"Sign in with {label}")).to_be_visible()
        expect(page.get_by_label("Username")).to_have_count(0)
        expect(page.get_by_label("Password", exact=True)).to_have_count(0)
        expect(page.get_by_role("button", name="Sign in", exact=True)).to_have_count(0)
        b.screenshot(page, "sso_password_off")
    finally:
        _set(server, "sign_in_password", "on")
