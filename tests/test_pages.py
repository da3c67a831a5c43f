"""Every page through AppTest, for every role that may see it, on the demo database."""

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core import auth, db
from core.models import AuditLog, Product, User
from tests.apptest import APP, DEMO_PASSWORD, rerun, signed_in
from ui.navigation import HOME_BY_ROLE, PAGES

USERS = {
    "admin": "admin",
    "lead_reviewer": "lead_reviewer",
    "security_manager": "security_manager",
    "analyst": "analyst",
    "client": "demo_client",
}
TITLES = {spec.path: spec.title for spec in PAGES}


def _heading(at: AppTest) -> str:
    return at.title[0].value if at.title else ""


def test_login_form_signs_in_through_streamlit_authenticator(app_env):
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    at.text_input[0].input("demo_client")
    at.text_input[1].input(DEMO_PASSWORD)
    at.button[0].click().run()
    at.run()
    assert not at.exception
    assert _heading(at) == "My products"
    assert at.session_state["sid"]


@pytest.mark.parametrize("username", ["demo_client", "nobody"])
def test_wrong_password_and_unknown_user_get_the_same_message(app_env, username):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input[0].input(username)
    at.text_input[1].input("not the password at all")
    at.button[0].click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Incorrect username or password."]
    assert "sid" not in at.session_state


ALLOWED = [(role, spec.path) for spec in PAGES for role in spec.roles]


@pytest.mark.parametrize("role, path", ALLOWED, ids=[f"{r}-{p.split('/')[-1]}" for r, p in ALLOWED])
def test_every_page_runs_for_every_role_that_may_see_it(app_env, role, path):
    at = signed_in(app_env, USERS[role]).run()
    assert not at.exception
    assert _heading(at) == TITLES[HOME_BY_ROLE[role]]
    at.switch_page(path).run()
    assert not at.exception
    assert _heading(at) == TITLES[path]


DENIED = [(role, spec.path) for spec in PAGES for role in USERS if role not in spec.roles]


@pytest.mark.parametrize("role, path", DENIED, ids=[f"{r}-{p.split('/')[-1]}" for r, p in DENIED])
def test_pages_refuse_roles_they_are_not_for(app_env, role, path):
    at = signed_in(app_env, USERS[role], page=path).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["You do not have access to this page."]
    assert not at.metric and not at.dataframe
    with db.reading(app_env) as s:
        assert (
            s.scalar(
                select(AuditLog)
                .where(AuditLog.action == "access_denied")
                .order_by(AuditLog.id.desc())
                .limit(1)
            ).actor_role
            == role
        )


def _open_url(at: AppTest, url_path: str) -> AppTest:
    """Run the page registered at this URL path, as typing /url_path in the browser does."""
    at._page_hash = next(
        h for h, info in at._registered_pages.items() if info.get("url_pathname") == url_path
    )
    return at.run()


def _last_audit(url):
    with db.reading(url) as s:
        return s.scalar(select(AuditLog).order_by(AuditLog.id.desc()).limit(1))


@pytest.mark.parametrize("role, path", DENIED, ids=[f"{r}-{p.split('/')[-1]}" for r, p in DENIED])
def test_typing_the_url_of_a_page_outside_the_role_says_so_and_is_audited(app_env, role, path):
    at = signed_in(app_env, USERS[role]).run()
    before = _last_audit(app_env).id
    _open_url(at, path.removeprefix("pages/").removesuffix(".py"))
    assert not at.exception
    assert [e.value for e in at.error] == ["You do not have access to this page."]
    assert not at.title and not at.metric and not at.dataframe  # neither the page nor home ran
    row = _last_audit(app_env)
    assert (row.id > before, row.action, row.actor_role, row.object_type, row.object_id) == (
        True,
        "access_denied",
        role,
        "page",
        path.removeprefix("pages/").removesuffix(".py"),
    )


def test_client_home_shows_only_its_organisation(app_env):
    at = signed_in(app_env, "demo_client").run()
    products = set(at.dataframe[0].value["product"])
    with db.reading(app_env) as s:
        org = s.scalar(select(User.organization_id).where(User.username == "demo_client"))
        own = set(s.scalars(select(Product.name).where(Product.organization_id == org)))
    assert products and products <= own


def test_revoked_session_is_signed_out_at_the_next_action(app_env):
    at = signed_in(app_env, "analyst").run()
    assert at.metric
    with db.transaction(app_env) as s:
        auth.close_session(s, at.session_state["actor"])
    rerun(at)
    assert not at.exception
    assert "sid" not in at.session_state and not at.metric
    assert any("session has ended" in i.value for i in at.info)


def test_sign_out_button_ends_the_server_session(app_env):
    at = signed_in(app_env, "lead_reviewer").run()
    sid = at.session_state["sid"]
    next(b for b in at.button if b.label == "Sign out").click()
    rerun(at)
    assert not at.exception
    rerun(at)  # in a browser the cookie component triggers this run once the cookie is gone
    assert any("signed out" in i.value for i in at.info)
    with db.transaction(app_env) as s:
        assert auth.check_session(s, sid) is None


def test_invalid_configuration_stops_the_app_with_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", "mysql://nobody@nowhere/db")
    monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "SecureSphere cannot start: SECURESPHERE_DATABASE_URL uses unsupported driver 'mysql'; "
        "use sqlite:///path.db or postgresql+psycopg://user@host/db"
    ]
    assert not at.text_input  # no login form


def test_an_unmigrated_database_asks_for_init(monkeypatch, tmp_path):
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "core.cli init" in at.error[0].value and not at.text_input
