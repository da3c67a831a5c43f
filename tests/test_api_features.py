"""The REST API's behaviour over real HTTP to uvicorn on loopback: cursor pages that add up,
extracts streamed byte for byte as core makes them, uploads and downloads, the audit rows of a
change made through the API, tokens' last use, the rate limit, metrics, CORS, the OpenAPI
description and docs, and a token made by the CLI."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from core import db
from core.access import SYSTEM
from core.audit import session_ref
from core.cli import main
from core.demo_content import sample_pdf
from core.extracts import extract_csv
from core.filters import Filters
from core.models import ApiToken, AuditLog
from core.settings import update_setting
from tests.factories import World
from tests.support.api import ApiServer, module_database, problem, token_for


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"api-features-{request.param}")
    url = module_database(request, request.param, tmp)
    w = World(url, tmp / "data")
    org = w.org("Acme Ltd")
    client, admin, analyst = w.person("client", org), w.person("admin"), w.person("analyst")
    products = [w.product(client, f"Product {i:02d}") for i in range(12)]
    aids = [w.start(client, p) for p in products]
    w.answer(client, aids[0], w.demo_answers(0.6, first=5))
    w.name(
        client=client,
        admin=admin,
        aids=aids,
        tokens={
            "client": token_for(url, client),
            "admin": token_for(url, admin),
            "analyst": token_for(url, analyst, "read"),
        },
    )
    server = ApiServer(url, tmp / "data", tmp / "api.log")
    yield w, server, tmp
    server.stop()
    db.dispose_all()


def test_cursor_pages_walk_every_assessment_once(site):
    w, server, _ = site
    seen, cursor, pages = [], None, 0
    with server.client(w["tokens"]["client"]) as client:
        while True:
            params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
            body = client.get("/assessments", params=params).json()
            seen += [a["id"] for a in body["items"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
    assert seen == sorted(w["aids"]) and pages == 3


def test_an_extract_streams_the_very_bytes_core_makes(site):
    w, server, _ = site
    with server.client(w["tokens"]["client"]) as client:
        with client.stream("GET", "/extracts/answers.csv") as response:
            assert response.headers["content-type"].startswith("text/csv")
            streamed = b"".join(response.iter_bytes())
    with db.reading(w.url) as s:
        assert streamed == extract_csv(s, w["client"], "answers", Filters())
    assert streamed.count(b"\r\n") == 6  # the header and five answers


def test_a_change_through_the_api_writes_the_audit_rows_the_page_writes(site):
    w, server, _ = site
    aid, key = w["aids"][1], next(iter(w.demo_answers(0.6, first=1)))
    value = w.demo_answers(0.6, first=1)[key].value
    with server.client(w["tokens"]["client"]) as client:
        me = client.get("/me").json()
        response = client.put(
            f"/assessments/{aid}/answers", json={"answers": {key: {"value": value}}}
        )
    assert response.status_code == 200 and response.json()["changed"] == 1
    with db.reading(w.url) as s:
        row = s.scalars(
            select(AuditLog).where(AuditLog.action == "answers_saved").order_by(AuditLog.id.desc())
        ).first()
    assert row.actor_id == w["client"].user_id and row.object_id == str(aid)
    assert row.detail["questions"] == [key]
    assert row.session_id == session_ref(f"api-token:{me['token']['id']}")


def test_evidence_goes_up_and_comes_down_unchanged(site):
    w, server, _ = site
    aid, key = w["aids"][0], next(iter(w.demo_answers(0.6, first=1)))
    pdf = sample_pdf("Policy")
    with server.client(w["tokens"]["client"]) as client:
        up = client.post(
            f"/assessments/{aid}/evidence",
            data={"question_key": key},
            files={"file": ("policy.pdf", pdf, "application/pdf")},
        )
        assert up.status_code == 201, up.text
        down = client.get(f"/evidence/{up.json()['id']}/content")
    assert down.content == pdf and down.headers["content-type"] == "application/pdf"
    assert "attachment" in down.headers["content-disposition"]


def test_a_tokens_last_use_is_recorded(site):
    w, server, _ = site
    with server.client(w["tokens"]["analyst"]) as client:
        assert client.get("/organisations").status_code == 200
    with db.reading(w.url) as s:
        token = s.scalars(select(ApiToken).where(ApiToken.scope == "read")).one()
    assert token.last_used_at is not None and token.last_used_address == "127.0.0.1"


def test_over_the_rate_a_token_gets_429_with_retry_after(site):
    w, _, tmp = site
    with db.transaction(w.url) as s:
        update_setting(s, SYSTEM, "api_rate_limit_per_minute", 10)
    fast = ApiServer(w.url, tmp / "data", tmp / "rate.log")
    try:
        with fast.client(w["tokens"]["admin"]) as client:
            statuses = [client.get("/organisations").status_code for _ in range(12)]
            refused = client.get("/organisations")
        assert statuses[:10] == [200] * 10 and 429 in statuses[10:]
        assert int(problem(refused, 429) and refused.headers["retry-after"]) >= 1
    finally:
        fast.stop()
        with db.transaction(w.url) as s:
            update_setting(s, SYSTEM, "api_rate_limit_per_minute", 600)


def test_metrics_need_an_admin_token_or_an_allowed_address(site):
    w, server, tmp = site
    with server.client(w["tokens"]["admin"]) as client:
        client.get("/organisations")
        metrics = client.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert re.search(r'securesphere_api_requests_total\{.*route="/api/v1/organisations"', text)
    assert "securesphere_api_request_duration_seconds_bucket" in text
    assert "securesphere_active_sessions" in text and "securesphere_outbox_rows" in text
    with server.client(w["tokens"]["analyst"]) as client:
        problem(client.get("/metrics"), 403)
    with server.client() as anonymous:
        problem(anonymous.get("/metrics"), 401)
    allowed = ApiServer(
        w.url, tmp / "data", tmp / "metrics.log", SECURESPHERE_METRICS_ADDRESSES="127.0.0.1"
    )
    try:
        with allowed.client() as anonymous:
            assert anonymous.get("/metrics").status_code == 200
    finally:
        allowed.stop()


def test_the_newest_backup_age_is_a_metric(site):
    w, server, tmp = site
    backups = tmp / "data" / "backups"
    backups.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() - 3600))
    (backups / f"securesphere-{stamp}.tar.gz").write_bytes(b"not a real backup")
    with server.client(w["tokens"]["admin"]) as client:
        text = client.get("/metrics").text
    age = float(re.search(r"^securesphere_last_backup_age_seconds (\S+)$", text, re.M).group(1))
    assert 3500 < age < 7200


def test_no_cors_unless_configured(site):
    w, server, tmp = site
    origin = {"Origin": "https://bi.example.com"}
    with server.client(w["tokens"]["client"]) as client:
        plain = client.get("/organisations", headers=origin)
    assert "access-control-allow-origin" not in plain.headers
    cors = ApiServer(
        w.url,
        tmp / "data",
        tmp / "cors.log",
        SECURESPHERE_API_CORS_ORIGINS="https://bi.example.com",
    )
    try:
        with cors.client(w["tokens"]["client"]) as client:
            allowed = client.get("/organisations", headers=origin)
            other = client.get("/organisations", headers={"Origin": "https://evil.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://bi.example.com"
        assert "access-control-allow-origin" not in other.headers
    finally:
        cors.stop()


def test_openapi_docs_and_health_need_no_token(site):
    _, server, _ = site
    with server.client() as anonymous:
        spec = anonymous.get(f"{server.base}/api/openapi.json").json()
        docs = anonymous.get(f"{server.base}/api/docs")
        script = anonymous.get(f"{server.base}/api/docs/static/swagger-ui-bundle.js")
        health = anonymous.get("/health")
    assert "/api/v1/assessments" in spec["paths"] and "/api/v1/extracts/{name}.csv" in spec["paths"]
    assert docs.status_code == 200 and "/api/docs/static/swagger-ui-bundle.js" in docs.text
    assert script.status_code == 200 and "cdn" not in docs.text.lower()
    assert health.json() == {"status": "ok"}


def test_a_token_made_with_the_cli_works_until_revoked(site, monkeypatch, capsys):
    w, server, tmp = site
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", w.url)
    monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(tmp / "data"))
    code = main(["token", "create", "--user", "admin", "--scope", "read", "--expires-days", "7"])
    out = capsys.readouterr().out
    assert code == 0, out
    token = out.strip().splitlines()[-1].split()[-1]
    with server.client(token) as client:
        assert client.get("/me").json()["username"] == "admin"
        token_id = client.get("/me").json()["token"]["id"]
        assert main(["token", "revoke", str(token_id)]) == 0
        problem(client.get("/me"), 401)
