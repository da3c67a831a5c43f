"""My profile's API tokens through AppTest on the demo database, against a real API server:
the token shown once signs the API in as its user, the list shows it without its secret and
its last use, and revoking it on the page refuses it at the API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import db
from core.models import ApiToken
from tests.apptest import rerun, signed_in
from tests.support.api import ApiServer, problem


@pytest.fixture(scope="module")
def api(demo_url):
    url, tmp = demo_url
    server = ApiServer(url, tmp / "data", tmp / "api.log")
    yield server
    server.stop()


def _profile(url: str, username: str):
    at = signed_in(url, username).run()
    return at.switch_page("pages/profile.py").run()


def test_a_token_made_on_my_profile_works_until_revoked_there(app_env, api):
    at = _profile(app_env, "demo_client")
    assert not at.exception
    next(t for t in at.text_input if t.label == "What the token is for").input("BI sync")
    next(r for r in at.radio if r.label == "Scope").set_value("read")
    next(b for b in at.button if b.label == "Create token").click()
    rerun(at)
    assert not at.exception
    token = at.code[0].value
    assert token.startswith("ssp_")
    with api.client(token) as client:
        me = client.get("/me").json()
    assert me["username"] == "demo_client" and me["token"]["scope"] == "read"
    rerun(at)  # shown once: gone at the next run, and never in the list
    assert not at.code
    assert token not in str([d.value for d in at.dataframe])
    assert "BI sync" in at.dataframe[-1].value.to_string()
    with db.reading(app_env) as s:
        stored = s.scalars(select(ApiToken).where(ApiToken.name == "BI sync")).one()
    assert stored.token_hash != token and token not in stored.token_hash
    next(s for s in at.selectbox if s.label == "Token to revoke").set_value(stored.id)
    next(b for b in at.button if b.label == "Revoke token").click()
    rerun(at)
    assert not at.exception
    with api.client(token) as client:
        assert problem(client.get("/me"), 401)["detail"] == "The token was revoked."


def test_a_refused_token_form_says_why_and_stores_nothing(app_env):
    at = _profile(app_env, "analyst")
    next(t for t in at.text_input if t.label == "What the token is for").input("")
    next(b for b in at.button if b.label == "Create token").click()
    rerun(at)
    assert not at.exception and at.error
    with db.reading(app_env) as s:
        assert s.scalars(select(ApiToken).where(ApiToken.name == "")).first() is None
