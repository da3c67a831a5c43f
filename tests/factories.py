"""Plain factory functions for test data, built through core like the pages do."""

from __future__ import annotations

from sqlalchemy import select

from core import db
from core.access import SYSTEM, Actor
from core.models import Questionnaire
from core.organizations import create_organization
from core.products import create_product
from core.users import create_user

PASSWORD = "plum orchard lantern 7"


def make_org(url: str, name: str = "Acme Ltd") -> int:
    with db.transaction(url) as s:
        return create_organization(s, SYSTEM, name=name, industry="Retail").id


def make_actor(
    url: str, role: str, org_id: int | None = None, username: str | None = None
) -> Actor:
    username = username or f"{role}{org_id or ''}"
    with db.transaction(url) as s:
        user, _ = create_user(
            s,
            SYSTEM,
            username=username,
            name=username.title(),
            role=role,
            organization_id=org_id,
            password=PASSWORD,
            rounds=4,
        )
        return Actor(user.id, user.username, role, org_id)


def make_product(url: str, actor: Actor, name: str = "Web Shop") -> int:
    with db.transaction(url) as s:
        return create_product(s, actor, organization_id=actor.organization_id, name=name).id


def baseline_id(url: str) -> int:
    with db.reading(url) as s:
        return s.scalar(
            select(Questionnaire.id).where(Questionnaire.key == "securesphere-baseline")
        )
