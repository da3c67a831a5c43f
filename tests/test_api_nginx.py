"""The shipped deploy/nginx.conf's location /api/, started for real in front of the API.

nginx listens on [::1] with a certificate made here and reaches the API (uvicorn core.api:app,
run as deploy/securesphere-api.service runs it: SECURESPHERE_TRUSTED_PROXIES=127.0.0.1 and an
empty FORWARDED_ALLOW_IPS) on 127.0.0.1, so the address the API records for a token's use shows
whose word it took. The app's own upstream ports are left unserved: only /api/ is asked for.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from core import db
from core.extracts import extract_csv
from core.filters import Filters
from core.models import ApiToken
from tests.factories import World
from tests.support import nginx as n
from tests.support.api import ApiServer, free_port, module_database, token_for

pytestmark = pytest.mark.browser  # the nginx layer, like tests/test_nginx.py


@pytest.fixture(scope="module")
def proxied(request, tmp_path_factory):
    binary = n.require_nginx()
    tmp = tmp_path_factory.mktemp("api-nginx")
    url = module_database(request, "sqlite", tmp)
    w = World(url, tmp / "data")
    client = w.person("client", w.org("Acme Ltd"))
    aid = w.start(client, w.product(client))
    w.answer(client, aid, w.demo_answers(0.6, first=4))
    api = ApiServer(url, tmp / "data", tmp / "api.log", SECURESPHERE_TRUSTED_PROXIES="127.0.0.1")
    prefix = tmp / "nginx"
    prefix.mkdir()
    cert, key = n.make_certificate(prefix)
    https_port = free_port()
    site = n.site_config(
        http_port=free_port(),
        https_port=https_port,
        app_ports=(free_port(), free_port()),
        cert=cert,
        key=key,
    )
    old = "server 127.0.0.1:8600;"
    assert site.count(old) == 1, "deploy/nginx.conf names the API upstream once"
    site = site.replace(old, f"server 127.0.0.1:{api.port};")
    proxy = n.start_nginx(binary, prefix, n.write_config(prefix, site), https_port)
    base = f"https://{n.LISTEN_HOST}:{https_port}/api/v1"
    try:
        yield w, client, token_for(url, client), base
    finally:
        n.stop_nginx(proxy)
        api.stop()
        db.dispose_all()


def test_the_api_answers_through_nginx_with_the_security_headers(proxied):
    _, _, token, base = proxied
    with httpx.Client(verify=False, timeout=30) as http:
        health = http.get(f"{base}/health")
        me = http.get(f"{base}/me", headers={"Authorization": f"Bearer {token}"})
        refused = http.get(f"{base}/me")
    assert health.json() == {"status": "ok"}
    assert me.json()["role"] == "client"
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert me.headers["strict-transport-security"].startswith("max-age=")
    assert me.headers["x-content-type-options"] == "nosniff"


def test_the_token_use_is_recorded_with_the_callers_address_not_the_proxys(proxied):
    w, _, token, base = proxied
    with httpx.Client(verify=False, timeout=30) as http:
        spoofed = {"Authorization": f"Bearer {token}", "X-Forwarded-For": "203.0.113.9"}
        assert http.get(f"{base}/organisations", headers=spoofed).status_code == 200
    with db.reading(w.url) as s:
        row = s.scalars(select(ApiToken)).one()
    # nginx appended the caller's address (::1) after the one the caller wrote itself.
    assert row.last_used_address == "::1"


def test_an_extract_streams_through_nginx_unchanged(proxied):
    w, client, token, base = proxied
    with httpx.Client(verify=False, timeout=60) as http:
        with http.stream(
            "GET", f"{base}/extracts/answers.csv", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            body = b"".join(response.iter_bytes())
    with db.reading(w.url) as s:
        assert body == extract_csv(s, client, "answers", Filters())
