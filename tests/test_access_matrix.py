"""Every role x object type x own/other organisation x operation, against core (8.2.1-8.4.1)."""

from itertools import count

import pytest
from sqlalchemy import select

from core import access, assessments, comments, db, responses, workspace
from core.access import ROLES
from core.errors import AccessDenied
from core.evidence import add_evidence, list_evidence, read_evidence
from core.exports import assessment_answers_csv
from core.models import Questionnaire
from core.organizations import get_organization, update_organization
from core.products import create_product, get_product
from core.responses import AnswerInput
from core.snapshots import load_answers
from core.users import get_user, update_user
from tests.factories import World

_names = count()


@pytest.fixture
def world(db_url, tmp_path):
    w = World(db_url, tmp_path)
    own, other = w.org("Own Org"), w.org("Other Org")
    w.name(**{role: w.person(role, own if role == "client" else None) for role in ROLES})
    other_client = w.person("client", other, username="otherclient")
    w.name(own=_target(w, own, w["client"]), other=_target(w, other, other_client))
    return w


def _target(w, org, client):
    """An organisation's product and assessment with three answers, a comment and a file."""
    product = w.product(client, name=f"Product {org}")
    aid = w.start(client, product)
    key = next(iter(w.answer(client, aid, w.demo_answers(0.5, seed=3, first=3))))
    w.comment(client, aid, "A question for the reviewer.")
    return {
        "org": org,
        "product": product,
        "assessment": aid,
        "client": client,
        "question": key,
        "evidence": w.evidence(client, aid, key, "policy.pdf"),
        "data_dir": w.data_dir,
    }


def _read(target):
    return lambda s, actor: workspace.get_assessment(s, actor, target["assessment"])


OPERATIONS = {
    # object, operation: (call(session, actor, target), expected(role, own))
    ("product", "read"): (lambda s, a, t: get_product(s, a, t["product"]), "read"),
    ("product", "write"): (
        lambda s, a, t: create_product(s, a, organization_id=t["org"], name=f"New {next(_names)}"),
        "client_write",
    ),
    ("assessment", "read"): (
        lambda s, a, t: workspace.get_assessment(s, a, t["assessment"]),
        "read",
    ),
    ("assessment", "write"): (
        lambda s, a, t: assessments.start_assessment(
            s,
            a,
            product_id=create_product(
                s, t["client"], organization_id=t["org"], name=f"Fresh {next(_names)}"
            ).id,
            questionnaire_id=baseline_id_of(s),
        ),
        "client_write",
    ),
    ("answer", "read"): (lambda s, a, t: responses.answer_rows(s, a, t["assessment"]), "read"),
    ("answer", "write"): (
        lambda s, a, t: responses.save_answers(
            s, a, t["assessment"], {t["question"]: load_answers_input(s, t)}
        ),
        "client_write",
    ),
    ("answer", "export"): (lambda s, a, t: assessment_answers_csv(s, a, t["assessment"]), "read"),
    ("evidence", "read"): (lambda s, a, t: list_evidence(s, a, t["assessment"]), "read"),
    ("evidence", "download"): (
        lambda s, a, t: read_evidence(s, a, t["evidence"], data_dir=t["data_dir"]),
        "read",
    ),
    ("evidence", "write"): (
        lambda s, a, t: add_evidence(
            s,
            a,
            t["assessment"],
            question_key=t["question"],
            filename=f"e{next(_names)}.txt",
            data=b"evidence text",
            data_dir=t["data_dir"],
        ),
        "client_write",
    ),
    ("comment", "read"): (lambda s, a, t: comments.list_comments(s, a, t["assessment"]), "read"),
    ("comment", "write"): (
        lambda s, a, t: comments.add_comment(s, a, t["assessment"], "Noted."),
        "comment_write",
    ),
    ("score", "read"): (lambda s, a, t: assessments.score_history(s, a, t["assessment"]), "read"),
    # the target user is the organisation's client, so client/own reads its own account
    ("user", "read"): (lambda s, a, t: get_user(s, a, t["client"].user_id), "admin_or_self"),
    ("user", "write"): (
        lambda s, a, t: update_user(
            s,
            a,
            t["client"].user_id,
            name="Renamed",
            email="",
            role="client",
            organization_id=t["org"],
        ),
        "admin_only",
    ),
    ("organisation", "read"): (lambda s, a, t: get_organization(s, a, t["org"]), "read"),
    ("organisation", "write"): (
        lambda s, a, t: update_organization(
            s, a, t["org"], name=f"Org {next(_names)}", industry="", tier="tier_2"
        ),
        "admin_only",
    ),
}


def baseline_id_of(session):
    return session.scalar(
        select(Questionnaire.id).where(Questionnaire.key == "securesphere-baseline")
    )


def load_answers_input(session, target):
    value = load_answers(session, target["assessment"])[target["question"]].value
    return AnswerInput(value=value, justification=f"edit {next(_names)}")


RULES = {
    "read": lambda role, own: role != "client" or own,
    "client_write": lambda role, own: role == "admin" or (role == "client" and own),
    "comment_write": lambda role, own: (
        role in ("admin", "lead_reviewer") or (role == "client" and own)
    ),
    "admin_only": lambda role, own: role == "admin",
    "admin_or_self": lambda role, own: role == "admin" or (role == "client" and own),
}


@pytest.mark.parametrize("object_type, operation", list(OPERATIONS), ids=lambda v: v)
def test_access_matrix(world, object_type, operation):
    call, rule = OPERATIONS[(object_type, operation)]
    wrong = []
    for role in ROLES:
        for side in ("own", "other"):
            expected = RULES[rule](role, side == "own")
            try:
                with db.transaction(world.url) as s:
                    call(s, world[role], world[side])
                allowed = True
            except AccessDenied:
                allowed = False
            if allowed != expected:
                wrong.append(f"{role}/{side}: {'allowed' if allowed else 'denied'}")
    assert wrong == []


@pytest.mark.parametrize(
    "group",
    [
        access.STAFF,
        access.OVERSIGHT,
        access.REVIEWERS,
        access.RESPONDENTS,
        access.ANALYTICS_AUDIENCE,
    ],
)
def test_every_role_group_is_drawn_from_the_roles(group):
    assert set(group) <= set(ROLES) and len(set(group)) == len(group)
