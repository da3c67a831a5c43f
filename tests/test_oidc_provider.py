"""The loopback OpenID provider and the tampering proxy (tests/support/oidc.py), driven without a
browser: the authorization code flow with PKCE, as Authlib runs it for Streamlit's st.login."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests

from tests.support.browser import free_port
from tests.support.oidc import OidcProvider, require_node, start_provider, start_tamper_proxy

ACCOUNTS: dict[str, Any] = {
    "alice": {
        "password": "alice-pw-1",
        "claims": {
            "name": "Alice Admin",
            "email": "alice@example.com",
            "email_verified": True,
            "groups": ["ss-admins", "staff"],
        },
        "amr": ["pwd", "otp", "mfa"],
        "acr": "urn:securesphere:test:mfa",
    },
    "bob": {
        "password": "bob-pw-2",
        "claims": {
            "name": "Bob Builder",
            "email": "bob@example.com",
            "email_verified": False,
            "groups": ["staff"],
        },
        "amr": ["pwd"],
    },
}


@dataclass
class Flow:
    meta: dict[str, Any]
    nonce: str
    page: str  # the last HTML page seen
    id_token: str | None = None


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcProvider]:
    require_node()
    port = free_port()  # nothing listens there: the flow stops at the redirect
    uris = [f"http://127.0.0.1:{port}/oauth2callback", f"http://localhost:{port}/oauth2callback"]
    provider = start_provider(ACCOUNTS, uris)
    yield provider
    provider.stop()


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no environment proxies for loopback
    return session


def _follow(http: requests.Session, resp: requests.Response, stop_at: str) -> requests.Response:
    """Follow redirects until one points at ``stop_at`` (never fetched) or a page answers."""
    for _ in range(10):
        if not resp.is_redirect or resp.headers["Location"].startswith(stop_at):
            return resp
        resp = http.get(
            urljoin(resp.url, resp.headers["Location"]), allow_redirects=False, timeout=10
        )
    raise AssertionError(f"too many redirects, last to {resp.headers['Location']}")


def run_flow(
    idp: OidcProvider,
    login: str,
    password: str,
    *,
    metadata_url: str | None = None,
    redirect_uri: str | None = None,
    auth: str = "client_secret_basic",
    session: requests.Session | None = None,
) -> Flow:
    """Sign in as ``login`` and, if a code comes back, exchange it for the tokens."""
    http = session or _session()
    meta = http.get(metadata_url or idp.metadata_url, timeout=10).json()
    redirect_uri = redirect_uri or idp.redirect_uris[0]
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": idp.client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        "prompt": "select_account",
    }
    resp = http.get(meta["authorization_endpoint"], params=params, timeout=10)
    assert resp.status_code == 200, resp.text
    assert "<h1>Test identity provider</h1>" in resp.text
    assert '<label for="username">Username</label>' in resp.text
    assert '<label for="password">Password</label>' in resp.text
    assert "Sign in</button>" in resp.text
    action = re.search(r'<form method="post" action="([^"]+)"', resp.text)
    assert action, resp.text
    resp = http.post(
        urljoin(resp.url, action[1]),
        data={"username": login, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    resp = _follow(http, resp, redirect_uri)
    flow = Flow(meta, nonce, resp.text)
    if not resp.is_redirect:
        return flow
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["state"] == [state], query
    assert query["iss"] == [meta["issuer"]]
    data = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    basic: tuple[str, str] | None = (idp.client_id, idp.client_secret)
    if auth == "client_secret_post":
        data.update(client_id=idp.client_id, client_secret=idp.client_secret)
        basic = None
    token = http.post(meta["token_endpoint"], data=data, auth=basic, timeout=10)
    assert token.status_code == 200, token.text
    flow.id_token = token.json()["id_token"]
    return flow


def verify(flow: Flow, client_id: str) -> dict[str, Any]:
    """The ID token's claims, checked as Authlib checks them (signature, iss, aud, exp, nonce)."""
    assert flow.id_token
    keys = jwt.PyJWKSet.from_dict(_session().get(flow.meta["jwks_uri"], timeout=10).json())
    key = keys[jwt.get_unverified_header(flow.id_token)["kid"]]
    claims: dict[str, Any] = jwt.decode(
        flow.id_token,
        key.key,
        algorithms=["RS256"],
        audience=client_id,
        issuer=flow.meta["issuer"],
        options={"require": ["exp", "iat", "sub", "nonce"]},
    )
    if claims["nonce"] != flow.nonce:
        raise ValueError("nonce mismatch")
    return claims


@pytest.mark.parametrize(
    ("login", "host", "auth"),
    [("alice", "127.0.0.1", "client_secret_basic"), ("bob", "localhost", "client_secret_post")],
)
def test_code_flow_puts_the_account_into_the_id_token(idp, login, host, auth):
    redirect_uri = next(uri for uri in idp.redirect_uris if f"//{host}:" in uri)
    account = ACCOUNTS[login]
    flow = run_flow(idp, login, account["password"], redirect_uri=redirect_uri, auth=auth)
    claims = verify(flow, idp.client_id)
    assert claims["iss"] == idp.issuer
    assert claims["aud"] == idp.client_id
    assert claims["sub"] == login
    assert claims["preferred_username"] == login
    for name in ("name", "email", "email_verified", "groups"):
        assert claims[name] == account["claims"][name]
    assert claims["amr"] == account["amr"]
    assert claims.get("acr") == account.get("acr")


def test_a_second_sign_in_shows_the_form_again_and_can_switch_accounts(idp):
    session = _session()
    first = run_flow(idp, "alice", ACCOUNTS["alice"]["password"], session=session)
    assert verify(first, idp.client_id)["sub"] == "alice"
    again = run_flow(idp, "alice", ACCOUNTS["alice"]["password"], session=session)
    assert verify(again, idp.client_id)["sub"] == "alice"
    # Another account in the same browser: the provider ends alice's session with an
    # auto-submitted form (the browser posts it by itself).
    switched = run_flow(idp, "bob", ACCOUNTS["bob"]["password"], session=session)
    assert switched.id_token is None
    form = re.search(r'<form method="post" action="([^"]+)"', switched.page)
    assert form, switched.page
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', switched.page))
    resp = session.post(form[1], data=fields, allow_redirects=False, timeout=10)
    resp = _follow(session, resp, idp.redirect_uris[0])
    assert resp.is_redirect, resp.text
    assert "code" in parse_qs(urlsplit(resp.headers["Location"]).query)


@pytest.mark.parametrize(("login", "password"), [("alice", "wrong"), ("mallory", "anything")])
def test_a_wrong_password_gets_no_code(idp, login, password):
    flow = run_flow(idp, login, password)
    assert flow.id_token is None
    assert "Wrong username or password." in flow.page
    assert "<h1>Test identity provider</h1>" in flow.page


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("pass", None),
        ("forged", jwt.InvalidSignatureError),
        ("expired", jwt.ExpiredSignatureError),
        ("audience", jwt.InvalidAudienceError),
        ("nonce", ValueError),
    ],
)
def test_the_tamper_proxy_breaks_the_id_token(idp, mode, error):
    proxy = start_tamper_proxy(idp, mode)
    try:
        flow = run_flow(
            idp, "alice", ACCOUNTS["alice"]["password"], metadata_url=proxy.metadata_url
        )
        assert flow.meta["issuer"] == idp.issuer
        assert flow.meta["authorization_endpoint"].startswith(idp.issuer + "/")
        assert flow.meta["token_endpoint"].startswith(f"http://127.0.0.1:{proxy.port}/")
        if error is None:
            assert verify(flow, idp.client_id)["groups"] == ["ss-admins", "staff"]
            assert proxy.altered == 0
        else:
            with pytest.raises(error):
                verify(flow, idp.client_id)
            assert proxy.altered == 1
    finally:
        proxy.stop()
