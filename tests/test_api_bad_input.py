"""Bad input to every endpoint of the REST API gives an RFC 9457 problem document and writes
nothing: wrong types, unknown fields and parameters, values core refuses, huge bodies, bad
cursors, missing, malformed, expired and revoked tokens, a token of a deactivated user or of one
who must change their password, read tokens that try to write. Real uvicorn, real HTTP, SQLite
and PostgreSQL. The only rows a refusal may leave are the audit rows of the refusal itself."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from core import db
from core.access import SYSTEM
from core.models import TABLES, AuditLog, utcnow
from core.settings import update_setting
from core.tokens import create_token, revoke_token
from core.users import reset_password, set_user_active
from tests.factories import World
from tests.support.api import ApiServer, module_database, problem, token_for

# Tables a refused request may touch: the refusal's own audit row; a token's last use.
BOOKKEEPING = {"audit_log", "api_tokens", "auth_sessions", "sign_in_attempts"}
REFUSALS = {"access_denied", "api_token_refused"}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"api-bad-{request.param}")
    url = module_database(request, request.param, tmp)
    w = World(url, tmp / "data")
    org = w.org("Acme Ltd")
    client, analyst = w.person("client", org), w.person("analyst")
    gone, fresh = w.person("client", org, "gone"), w.person("client", org, "fresh")
    aid = w.start(client, w.product(client))
    answers = w.answer(client, aid, w.demo_answers(0.5, first=3))
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "upload_max_mb", 1)
        expired = create_token(
            s,
            SYSTEM,
            name="old",
            scope="write",
            expires_days=30,
            user_id=client.user_id,
            now=utcnow() - timedelta(days=31),
        ).token
    revoked = token_for(url, client)
    gone_token, fresh_token = token_for(url, gone), token_for(url, fresh)
    with db.transaction(url) as s:
        revoke_token(
            s,
            SYSTEM,
            s.scalar(
                text("SELECT max(id) FROM api_tokens WHERE user_id = :u"), {"u": client.user_id}
            ),
        )
        set_user_active(s, SYSTEM, gone.user_id, False)
        reset_password(s, SYSTEM, fresh.user_id, rounds=4)
    w.name(
        client=client,
        aid=aid,
        key=next(iter(answers)),
        tokens={
            "client": token_for(url, client),
            "read": token_for(url, client, "read"),
            "analyst": token_for(url, analyst),
            "expired": expired,
            "revoked": revoked,
            "deactivated": gone_token,
            "must_change": fresh_token,
        },
    )
    server = ApiServer(url, tmp / "data", tmp / "api.log")
    for name in ("client", "read", "analyst"):  # a first use is audited; later ones are not
        with server.client(w["tokens"][name]) as c:
            assert c.get("/me").status_code == 200
    yield w, server
    server.stop()
    db.dispose_all()


def _digest(url: str) -> dict[str, str]:
    """A fingerprint of every row of every table but the bookkeeping ones."""
    out = {}
    with db.reading(url) as s:
        for table in TABLES:
            if table in BOOKKEEPING:
                continue
            # table names come from our own models, never from input
            rows = s.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')).all()
            out[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def _last_audit(url: str) -> int:
    with db.reading(url) as s:
        return s.scalar(select(func.max(AuditLog.id))) or 0


def _new_actions(url: str, after: int) -> set[str]:
    with db.reading(url) as s:
        return set(s.scalars(select(AuditLog.action).where(AuditLog.id > after)))


BIG = "x" * (2 * 1024 * 1024)
CASES = [
    # (token, method, path, request options, status, problem type)
    (None, "GET", "/assessments", {}, 401, "unauthenticated"),
    ("garbage", "GET", "/assessments", {}, 401, "invalid-token"),
    ("expired", "GET", "/assessments", {}, 401, "invalid-token"),
    ("revoked", "GET", "/assessments", {}, 401, "invalid-token"),
    ("deactivated", "GET", "/assessments", {}, 401, "invalid-token"),
    ("must_change", "GET", "/me", {}, 401, "invalid-token"),
    ("read", "PUT", "/assessments/{aid}/answers", {"json": {"answers": {}}}, 403, "forbidden"),
    ("read", "POST", "/assessments/{aid}/comments", {"json": {"body": "Hi"}}, 403, "forbidden"),
    ("analyst", "PUT", "/assessments/{aid}/answers", {"json": {"answers": {}}}, 403, "forbidden"),
    ("client", "GET", "/assessments", {"params": {"cursor": "!!not a cursor"}}, 400, "bad-cursor"),
    ("client", "GET", "/assessments", {"params": {"cursor": "eyJhIjoxfQ"}}, 400, "bad-cursor"),
    (
        "client",
        "GET",
        "/assessments",
        {"params": {"cursor": "eyJsIjoicHJvZHVjdHMiLCJhIjoxfQ"}},  # a products cursor
        400,
        "bad-cursor",
    ),
    ("client", "GET", "/assessments", {"params": {"limit": 0}}, 422, "invalid-request"),
    ("client", "GET", "/assessments", {"params": {"limit": "ten"}}, 422, "invalid-request"),
    ("client", "GET", "/assessments", {"params": {"status": "done"}}, 422, "invalid-request"),
    ("client", "GET", "/assessments", {"params": {"stauts": "approved"}}, 422, "unknown-parameter"),
    ("client", "GET", "/assessments/abc", {}, 422, "invalid-request"),
    ("client", "GET", "/assessments/999999", {}, 404, "not-found"),
    ("client", "GET", "/nowhere", {}, 404, "not-found"),
    ("client", "DELETE", "/assessments/{aid}", {}, 405, "method-not-allowed"),
    (
        "client",
        "PUT",
        "/assessments/{aid}/answers",
        {"json": {"answers": []}},
        422,
        "invalid-request",
    ),
    (
        "client",
        "PUT",
        "/assessments/{aid}/answers",
        {"json": {"answers": {"{key}": {"value": "yes", "colour": "red"}}}},
        422,
        "invalid-request",
    ),
    (
        "client",
        "PUT",
        "/assessments/{aid}/answers",
        {"json": {"answers": {"{key}": {"value": "yes", "is_na": "no"}}}},
        422,
        "invalid-request",
    ),
    (
        "client",
        "PUT",
        "/assessments/{aid}/answers",
        {"json": {"answers": {"{key}": {"value": "maybe"}}}},
        422,
        "validation-failed",
    ),
    (
        "client",
        "PUT",
        "/assessments/{aid}/answers",
        {"json": {"answers": {"{key}": {"value": "yes", "justification": "\u202eevil"}}}},
        422,
        "validation-failed",
    ),
    (
        "client",
        "PUT",
        "/assessments/{aid}/answers",
        {"json": {"answers": {"{key}": {"value": "yes", "justification": BIG}}}},
        413,
        "body-too-large",
    ),
    (
        "client",
        "PUT",
        "/assessments/{aid}/answers",
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        422,
        "invalid-request",
    ),
    ("client", "POST", "/assessments", {"json": {"product_id": "1"}}, 422, "invalid-request"),
    (
        "client",
        "POST",
        "/assessments",
        {"json": {"product_id": 1, "questionnaire_id": 1, "due_date": "soon"}},
        422,
        "invalid-request",
    ),
    (
        "client",
        "POST",
        "/products",
        {"json": {"organization_id": 1, "name": "New", "owner": "me"}},
        422,
        "invalid-request",
    ),
    (
        "client",
        "POST",
        "/products",
        {"json": {"organization_id": "{org}", "name": "New", "tier": "gold"}},
        422,
        "validation-failed",
    ),
    (
        "client",
        "POST",
        "/assessments/{aid}/comments",
        {"json": {"body": "Hi", "visibility": "public"}},
        422,
        "invalid-request",
    ),
    (
        "client",
        "POST",
        "/assessments/{aid}/comments",
        {"json": {"body": "Just us", "visibility": "internal"}},
        422,
        "validation-failed",
    ),
    ("client", "POST", "/assessments/{aid}/comments", {"json": {}}, 422, "invalid-request"),
    (
        "client",
        "POST",
        "/assessments/{aid}/evidence",
        {"data": {"question_key": "{key}"}},
        422,
        "invalid-request",
    ),
    (
        "client",
        "POST",
        "/assessments/{aid}/evidence",
        {"data": {"question_key": "{key}"}, "files": {"file": ("run.exe", b"MZ\x90\x00", None)}},
        422,
        "validation-failed",
    ),
    (
        "client",
        "POST",
        "/assessments/{aid}/evidence",
        {"data": {"question_key": "{key}"}, "files": {"file": ("big.txt", b"a" * (2 << 20))}},
        413,
        "body-too-large",
    ),
    ("client", "GET", "/extracts/secrets.csv", {}, 404, "not-found"),
    (
        "client",
        "GET",
        "/extracts/answers.csv",
        {"params": {"start": "2026-02-01", "end": "2026-01-01"}},
        422,
        "invalid-request",
    ),
    ("client", "GET", "/question-banks/nope/export", {}, 404, "not-found"),
    (
        "client",
        "POST",
        "/question-banks",
        {"files": {"file": ("bank.yaml", b"key: x\n")}},
        403,
        "forbidden",
    ),
    ("client", "GET", "/metrics", {}, 403, "forbidden"),
]


def _fill(value, w: World):
    if isinstance(value, str):
        return value.replace("{aid}", str(w["aid"])).replace("{key}", w["key"])
    if isinstance(value, dict):
        filled = {_fill(k, w): _fill(v, w) for k, v in value.items()}
        if filled.get("organization_id") == "{org}":
            filled["organization_id"] = w["client"].organization_id
        return filled
    return value


@pytest.mark.parametrize(
    "token, method, path, options, status, kind",
    CASES,
    ids=[f"{c[1]} {c[2]} {c[5]} {i}" for i, c in enumerate(CASES)],
)
def test_bad_input_gets_a_problem_and_writes_nothing(
    site, token, method, path, options, status, kind
):
    w, server = site
    raw = w["tokens"].get(token, token)
    before, last = _digest(w.url), _last_audit(w.url)
    with server.client(raw) as client:
        response = client.request(method, _fill(path, w), **_fill(options, w))
    body = problem(response, status)
    assert body["type"] == f"/api/problems/{kind}"
    assert _digest(w.url) == before
    assert _new_actions(w.url, last) <= REFUSALS
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_refused_tokens_are_audited_without_the_token(site):
    w, server = site
    last = _last_audit(w.url)
    with server.client(w["tokens"]["revoked"]) as client:
        problem(client.get("/me"), 401)
    with db.reading(w.url) as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.id > last)).all()
    assert [r.action for r in rows] == ["api_token_refused"]
    assert rows[0].detail["reason"] == "The token was revoked."
    assert w["tokens"]["revoked"] not in repr(rows[0].detail)
