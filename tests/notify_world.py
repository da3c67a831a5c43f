"""Shared set-up for the notification tests: a World whose people have e-mail addresses, a real
SMTP server, and a worker configuration pointed at it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from core import db
from core.access import Actor
from core.mail_config import MailConfig, load_mail_config
from core.models import Outbox, User
from tests.factories import World

BASE_URL = "https://securesphere.example.com"
MAIL_FROM = "SecureSphere <noreply@securesphere.example.com>"


def mail_env(smtp_url: str) -> dict[str, str]:
    return {
        "SECURESPHERE_SMTP_URL": smtp_url,
        "SECURESPHERE_MAIL_FROM": MAIL_FROM,
        "SECURESPHERE_BASE_URL": BASE_URL,
    }


def mail_config(smtp_url: str) -> MailConfig:
    return load_mail_config(mail_env(smtp_url))


def with_email(url: str, actor: Actor, address: str | None = None) -> Actor:
    with db.transaction(url) as s:
        s.execute(
            update(User)
            .where(User.id == actor.user_id)
            .values(email=address or f"{actor.username}@example.org")
        )
    return actor


@dataclass
class Cast:
    """Two organisations, a client each, two lead reviewers and an admin, all with addresses."""

    world: World
    org: int
    other_org: int
    client: Actor
    colleague: Actor
    stranger: Actor
    reviewer: Actor
    second_reviewer: Actor
    admin: Actor


def cast(world: World) -> Cast:
    org, other = world.org("Acme Ltd"), world.org("Globex")
    people = [
        world.person("client", org, "cleo"),
        world.person("client", org, "colin"),
        world.person("client", other, "stan"),
        world.person("lead_reviewer", None, "rita"),
        world.person("lead_reviewer", None, "ravi"),
        world.person("admin", None, "ada"),
    ]
    return Cast(world, org, other, *[with_email(world.url, p) for p in people])


def rows(url: str, **where: object) -> list[Outbox]:
    with db.reading(url) as s:
        stmt = select(Outbox).order_by(Outbox.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Outbox, key) == value)
        return list(s.scalars(stmt))


def usernames(url: str, kind: str) -> list[str]:
    with db.reading(url) as s:
        return list(
            s.scalars(
                select(User.username)
                .join(Outbox, Outbox.recipient_id == User.id)
                .where(Outbox.kind == kind)
                .order_by(User.username)
            )
        )
