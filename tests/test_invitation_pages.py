"""Invitations and reset links through AppTest on the demo database: the Users page and a
client's Colleagues page invite, the link in the URL opens its form on the sign-in screen and
signs the person in, refusals say why, and "Forgot your password?" answers one way."""

from __future__ import annotations

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core import auth, db, invitations, links, password_reset
from core.access import SYSTEM
from core.models import AuthSession, LinkToken, Organization, Outbox, User
from core.passwords import verify_password
from core.settings import update_setting
from core.text import md_escape
from core.users import create_user
from tests.apptest import APP, rerun, signed_in

PASSWORD = "a long enough passphrase"


def _user(url, **where):
    with db.reading(url) as s:
        return s.scalar(select(User).filter_by(**where))


def _link(url, email):
    with db.reading(url) as s:
        return s.scalar(select(LinkToken).where(LinkToken.email == email))


def _token(url, email):
    """The token the worker would put in this address's newest e-mail."""
    with db.reading(url) as s:
        row = s.scalars(
            select(Outbox).where(Outbox.address == email).order_by(Outbox.id.desc())
        ).first()
        return links.derive_token(row.data["nonce"])


def _click(at, label):
    next(b for b in at.button if b.label == label).click()
    return rerun(at)


def _fill(at, **fields):
    inputs = {t.label: t for t in at.text_input}
    for label, value in fields.items():
        inputs[label].input(value)


def _landing(param, token):
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params[param] = token
    return at.run()


def test_the_admin_invites_from_the_users_page(app_env):
    at = signed_in(app_env, "admin").run().switch_page("pages/admin_users.py").run()
    with db.reading(app_env) as s:
        org = s.scalars(select(Organization).order_by(Organization.id)).first()
    at.text_input(key="invite_email").input("page.invitee@example.org")
    at.selectbox(key="invite_org").select(org.name)
    _click(at, "Send invitation")
    assert not at.exception
    assert md_escape("Invitation sent: the link works once.") in [m.value for m in at.success]
    link = _link(app_env, "page.invitee@example.org")
    assert (link.role, link.organization_id, link.used_at) == ("client", org.id, None)
    assert "page.invitee@example.org" in at.dataframe[0].value["email"].tolist()


def test_a_client_invites_colleagues_only_when_the_setting_allows_it(app_env):
    at = signed_in(app_env, "demo_client").run().switch_page("pages/colleagues.py").run()
    assert not at.exception
    assert "Only administrators invite people here" in at.info[0].value
    assert not [t for t in at.text_input if t.label == "E-mail address to invite"]
    with db.transaction(app_env) as s:
        update_setting(s, SYSTEM, "client_invitations", "on")
    try:
        rerun(at)
        at.text_input(key="invite_email").input("colleague@example.org")
        _click(at, "Send invitation")
        assert not at.exception
    finally:
        with db.transaction(app_env) as s:
            update_setting(s, SYSTEM, "client_invitations", "off")
    client = _user(app_env, username="demo_client")
    link = _link(app_env, "colleague@example.org")
    assert (link.role, link.organization_id) == ("client", client.organization_id)


def test_the_invitation_link_opens_its_form_and_signs_the_invitee_in(app_env):
    with db.transaction(app_env) as s:
        invitations.invite(s, SYSTEM, email="analyst.two@example.org", role="analyst")
    token = _token(app_env, "analyst.two@example.org")
    at = _landing("invite", token)
    assert not at.exception
    assert md_escape("analyst.two@example.org") in at.markdown[-1].value
    assert not [b for b in at.button if b.label == "Sign in"]  # the link's form, not the login
    _fill(at, **{"Full name": "Ann Two", "Username": "ann.two", "Password": PASSWORD})
    _fill(at, **{"Repeat password": PASSWORD})
    at = _click(at, "Create my account")
    assert not at.exception
    user = _user(app_env, username="ann.two")
    assert user.role == "analyst" and verify_password(PASSWORD, user.password_hash)
    with db.reading(app_env) as s:
        row = s.get(AuthSession, at.session_state["sid"])
        assert row.user_id == user.id and row.cookie_hash and row.revoked_at is None
    assert "invite" not in at.query_params
    at.run()
    assert not at.exception and at.title[0].value == "Portfolio"


def test_a_used_link_says_so_and_a_mistyped_password_writes_nothing(app_env):
    with db.transaction(app_env) as s:
        invitations.invite(s, SYSTEM, email="twice@example.org", role="analyst")
    token = _token(app_env, "twice@example.org")
    at = _landing("invite", token)
    _fill(at, **{"Full name": "Tw Ice", "Username": "twice", "Password": PASSWORD})
    _fill(at, **{"Repeat password": PASSWORD + "!"})
    at = _click(at, "Create my account")
    assert [e.value for e in at.error] == ["The two passwords differ."]
    _fill(at, **{"Password": "short", "Repeat password": "short"})
    at = _click(at, "Create my account")
    assert "at least 12 characters" in at.error[0].value and "sid" not in at.session_state
    assert (
        _user(app_env, username="twice") is None
        and _link(app_env, "twice@example.org").used_at is None
    )
    with db.transaction(app_env) as s:
        invitations.accept(s, token, username="twice", name="Tw Ice", password=PASSWORD, rounds=4)
    at = _landing("invite", token)
    assert not at.exception
    assert "already used" in at.error[0].value
    assert not [t for t in at.text_input if t.label == "Password"]


def test_forgot_password_answers_the_same_and_the_reset_link_signs_in(app_env):
    with db.transaction(app_env) as s:
        user = create_user(
            s,
            SYSTEM,
            username="forgetful",
            name="For Getful",
            role="analyst",
            email="forgetful@example.org",
            password=PASSWORD,
            rounds=4,
        ).user
        old = auth.open_session(s, "forgetful").session_id
    answers = []
    for email in ("nobody.here@example.org", "Forgetful@example.org"):
        at = AppTest.from_file(APP, default_timeout=30).run()
        _fill(at, **{"E-mail address": email})
        at = _click(at, "Send me a link")
        assert not at.exception
        answers.append([m.value for m in at.success])
    assert answers[0] == answers[1] == [password_reset.ANSWER]
    with db.reading(app_env) as s:
        sent = list(s.scalars(select(Outbox.address).where(Outbox.kind == "password_reset")))
    assert sent == ["forgetful@example.org"]
    at = _landing("reset", _token(app_env, "forgetful@example.org"))
    assert "forgetful" in at.markdown[-1].value
    _fill(
        at, **{"Password": "my brand new passphrase", "Repeat password": "my brand new passphrase"}
    )
    at = _click(at, "Save and sign in")
    assert not at.exception and at.session_state["sid"]
    with db.reading(app_env) as s:
        assert s.get(AuthSession, old).revoked_at is not None
        assert verify_password("my brand new passphrase", s.get(User, user.id).password_hash)


def test_the_admin_resends_and_withdraws_from_the_users_page(app_env):
    with db.transaction(app_env) as s:
        first = invitations.invite(s, SYSTEM, email="resent@example.org", role="analyst").id
    old = _token(app_env, "resent@example.org")
    at = signed_in(app_env, "admin").run().switch_page("pages/admin_users.py").run()
    at.selectbox(key="invitation_pick").select("resent@example.org")
    at = _click(at, "Re-send")
    assert not at.exception
    new = _token(app_env, "resent@example.org")
    with db.reading(app_env) as s:
        assert s.get(LinkToken, first).revoked_at is not None
        assert links.check(s, new, "invitation").email == "resent@example.org"
    assert "replaced by a newer one" in _landing("invite", old).error[0].value
    at.selectbox(key="invitation_pick").select("resent@example.org")
    at = _click(at, "Yes, withdraw")
    assert not at.exception
    assert "withdrawn" in _landing("invite", new).error[0].value
