"""The access matrix of tests/test_access_matrix.py again, through the REST API: every role x
object type x own/other organisation x read/write/export/download, over real HTTP to uvicorn on
loopback, on SQLite and PostgreSQL. Allowed is a 2xx; refused is a 404 where the object is outside
the caller's reach (as if it did not exist) and a 403 where it is visible but not the caller's to
change; a refusal writes the access_denied audit row the pages write, and nothing else."""

from __future__ import annotations

from itertools import count

import pytest
from sqlalchemy import func, select

from core import db
from core.access import ROLES
from core.models import AuditLog, Product
from core.products import create_product
from tests.factories import World
from tests.support.api import ApiServer, module_database, problem, token_for

_names = count()


def _target(w: World, org: int, client) -> dict:
    """An organisation's product and assessment with three answers, a comment and a file."""
    product = w.product(client, name=f"Product {org}")
    aid = w.start(client, product)
    answers = w.answer(client, aid, w.demo_answers(0.5, seed=3, first=3))
    key, given = next(iter(answers.items()))
    w.comment(client, aid, "A question for the reviewer.")
    return {
        "org": org,
        "product": product,
        "product_name": f"Product {org}",
        "assessment": aid,
        "client": client,
        "question": key,
        "value": given.value,
        "evidence": w.evidence(client, aid, key, "policy.pdf"),
    }


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"api-{request.param}")
    url = module_database(request, request.param, tmp)
    w = World(url, tmp / "data")
    own, other = w.org("Own Org"), w.org("Other Org")
    w.name(**{role: w.person(role, own if role == "client" else None) for role in ROLES})
    other_client = w.person("client", other, username="otherclient")
    w.name(own=_target(w, own, w["client"]), other=_target(w, other, other_client))
    w.name(tokens={role: token_for(url, w[role]) for role in ROLES})
    server = ApiServer(url, tmp / "data", tmp / "api.log")
    yield w, server
    server.stop()
    db.dispose_all()


def _fresh_product(w: World, t: dict) -> int:
    with db.transaction(w.url) as s:
        return create_product(
            s, t["client"], organization_id=t["org"], name=f"Fresh {next(_names)}"
        ).id


OPERATIONS = {
    # (object, operation): (request(client, world, target), rule)
    ("product", "read"): (lambda c, w, t: c.get(f"/products/{t['product']}"), "read"),
    ("product", "write"): (
        lambda c, w, t: c.post(
            "/products", json={"organization_id": t["org"], "name": f"New {next(_names)}"}
        ),
        "client_write",
    ),
    ("product", "history"): (lambda c, w, t: c.get(f"/products/{t['product']}/history"), "read"),
    ("assessment", "read"): (lambda c, w, t: c.get(f"/assessments/{t['assessment']}"), "read"),
    ("assessment", "write"): (
        lambda c, w, t: c.post(
            "/assessments", json={"product_id": _fresh_product(w, t), "questionnaire_id": w.bank_id}
        ),
        "client_write",
    ),
    ("answer", "read"): (lambda c, w, t: c.get(f"/assessments/{t['assessment']}/answers"), "read"),
    ("answer", "write"): (
        lambda c, w, t: c.put(
            f"/assessments/{t['assessment']}/answers",
            json={
                "answers": {
                    t["question"]: {"value": t["value"], "justification": f"edit {next(_names)}"}
                }
            },
        ),
        "client_write",
    ),
    ("answer", "export"): (
        lambda c, w, t: c.get(f"/assessments/{t['assessment']}/answers.csv"),
        "read",
    ),
    ("evidence", "read"): (
        lambda c, w, t: c.get(f"/assessments/{t['assessment']}/evidence"),
        "read",
    ),
    ("evidence", "download"): (lambda c, w, t: c.get(f"/evidence/{t['evidence']}/content"), "read"),
    ("evidence", "write"): (
        lambda c, w, t: c.post(
            f"/assessments/{t['assessment']}/evidence",
            data={"question_key": t["question"]},
            files={"file": (f"e{next(_names)}.txt", b"evidence text", "text/plain")},
        ),
        "client_write",
    ),
    ("comment", "read"): (
        lambda c, w, t: c.get(f"/assessments/{t['assessment']}/comments"),
        "read",
    ),
    ("comment", "write"): (
        lambda c, w, t: c.post(f"/assessments/{t['assessment']}/comments", json={"body": "Noted."}),
        "comment_write",
    ),
    ("score", "read"): (lambda c, w, t: c.get(f"/assessments/{t['assessment']}/scores"), "read"),
    ("organisation", "read"): (lambda c, w, t: c.get(f"/organisations/{t['org']}"), "read"),
}

RULES = {
    "read": lambda role, own: role != "client" or own,
    "client_write": lambda role, own: role == "admin" or (role == "client" and own),
    "comment_write": lambda role, own: (
        role in ("admin", "lead_reviewer") or (role == "client" and own)
    ),
}


def _audit_rows(url: str) -> int:
    with db.reading(url) as s:
        return s.scalar(select(func.max(AuditLog.id))) or 0


def _actions_since(url: str, last: int, user_id: int) -> list[str]:
    """What the caller's requests wrote to the audit trail after row `last`."""
    with db.reading(url) as s:
        return list(
            s.scalars(
                select(AuditLog.action).where(AuditLog.id > last, AuditLog.actor_id == user_id)
            )
        )


@pytest.mark.parametrize("object_type, operation", list(OPERATIONS), ids=lambda v: v)
def test_access_matrix_through_the_api(site, object_type, operation):
    w, server = site
    call, rule = OPERATIONS[(object_type, operation)]
    wrong = []
    for role in ROLES:
        with server.client(w["tokens"][role]) as client:
            for side in ("own", "other"):
                allowed = RULES[rule](role, side == "own")
                readable = RULES["read"](role, side == "own")
                before = _audit_rows(w.url)
                response = call(client, w, w[side])
                status = response.status_code
                if allowed and not 200 <= status < 300:
                    wrong.append(f"{role}/{side}: {status} {response.text[:200]}")
                elif not allowed:
                    want = 404 if not readable else 403
                    if status != want:
                        wrong.append(f"{role}/{side}: {status}, expected {want}")
                        continue
                    problem(response, want)
                    actions = _actions_since(w.url, before, w[role].user_id)
                    if actions != ["access_denied"]:
                        wrong.append(f"{role}/{side}: refusal wrote {actions}")
    assert wrong == []


@pytest.mark.parametrize(
    "listing, key",
    [("/assessments", "assessment"), ("/products", "product"), ("/organisations", "org")],
)
def test_listings_hold_exactly_what_each_role_may_read(site, listing, key):
    w, server = site
    for role in ROLES:
        with server.client(w["tokens"][role]) as client:
            seen = {
                item["id"] for item in client.get(listing, params={"limit": 200}).json()["items"]
            }
        for side in ("own", "other"):
            assert (w[side][key] in seen) == RULES["read"](role, side == "own"), (role, side)


@pytest.mark.parametrize("name", ["answers", "comments", "evidence", "status_timeline"])
def test_extracts_hold_only_what_each_role_may_read(site, name):
    w, server = site
    for role in ROLES:
        with server.client(w["tokens"][role]) as client:
            response = client.get(f"/extracts/{name}.csv")
        assert response.status_code == 200, response.text
        for side in ("own", "other"):
            present = w[side]["product_name"] in response.text
            expected = RULES["read"](role, side == "own")
            assert present == expected, (role, side)


def test_a_clients_filter_on_another_organisation_yields_nothing_of_it(site):
    w, server = site
    with server.client(w["tokens"]["client"]) as client:
        listed = client.get("/assessments", params={"organization_id": w["other"]["org"]})
        products = client.get("/products", params={"organization_id": w["other"]["org"]})
    assert listed.json()["items"] == [] and products.json()["items"] == []
    with db.reading(w.url) as s:
        assert s.scalar(select(func.count()).select_from(Product)) >= 2
