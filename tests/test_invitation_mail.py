"""Invitation and reset e-mails through the real worker to a real SMTP server (aiosmtpd): the
link in the received message works, user text is escaped, and the CLI queues the same mail."""

from __future__ import annotations

import re
from email.headerregistry import Address

import pytest
from sqlalchemy import select, update

from core import db, invitations, password_reset
from core.mail_messages import build_message, describe
from core.mail_worker import Worker
from core.models import LinkToken, Organization, Outbox, User, utcnow
from tests.clirun import run
from tests.factories import World
from tests.notify_world import BASE_URL, cast, mail_config
from tests.support.smtp import SmtpServer

LINK = re.compile(re.escape(BASE_URL) + r"/\?(invite|reset)=([A-Za-z0-9_-]{43})")


@pytest.fixture
def server():
    smtp = SmtpServer().start()
    yield smtp
    smtp.stop()


@pytest.fixture
def c(env, db_url, tmp_path):
    env(db_url)
    return cast(World(db_url, tmp_path / "data"))


def _send(url, server):
    return Worker(url, mail_config(server.url), interval=0.05).run(once=True)


def _parts(received):
    mail = received.message
    return mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()


def test_the_invitation_link_in_the_received_mail_creates_the_account(c, server):
    with db.transaction(c.world.url) as s:
        s.execute(update(User).where(User.id == c.admin.user_id).values(name="Ada <b>Admin</b>"))
        s.execute(update(Organization).where(Organization.id == c.org).values(name="Acme & <Co>"))
        invitations.invite(
            s, c.admin, email="Newcomer@Example.org", role="client", organization_id=c.org
        )
    assert _send(c.world.url, server).sent == 1
    (received,) = server.inbox.wait_for(1)
    text, html = _parts(received)
    assert received.rcpt_tos == ["newcomer@example.org"]
    assert (
        received.message["Subject"] == "[SecureSphere] Ada <b>Admin</b> invites you to SecureSphere"
    )
    assert "Ada <b>Admin</b> invites you to SecureSphere, as client at Acme & <Co>." in text
    assert "Ada &lt;b&gt;Admin&lt;/b&gt;" in html and "Acme &amp; &lt;Co&gt;" in html
    assert "<b>" not in html and "My profile" not in text
    (kind, token) = LINK.search(text).groups()
    assert kind == "invite" and f'href="{BASE_URL}/?invite={token}"' in html
    with db.reading(c.world.url) as s:
        assert token not in repr(s.scalar(select(Outbox.data)))
    with db.transaction(c.world.url) as s:
        user = invitations.accept(
            s,
            token,
            username="newcomer",
            name="New Comer",
            password="a long enough passphrase",
            rounds=4,
        )
        assert (user.email, user.organization_id) == ("newcomer@example.org", c.org)


def test_the_reset_link_in_the_received_mail_sets_the_password(c, server):
    with db.transaction(c.world.url) as s:
        password_reset.request_reset(s, "nobody@example.org")
        password_reset.request_reset(s, "cleo@example.org")
    assert _send(c.world.url, server).sent == 1
    (received,) = server.inbox.wait_for(1)
    assert received.rcpt_tos == ["cleo@example.org"]
    assert received.message["Subject"] == "[SecureSphere] Choose a new password"
    text, html = _parts(received)
    assert "account cleo" in text and "ignore this message" in text
    (kind, token) = LINK.search(text).groups()
    assert kind == "reset" and f'href="{BASE_URL}/?reset={token}"' in html
    with db.transaction(c.world.url) as s:
        assert (
            password_reset.reset_with_link(s, token, password="a fresh passphrase", rounds=4).id
            == c.client.user_id
        )


def test_the_invite_command_queues_the_mail_the_page_would(c, server, capsys):
    code, out, err = run(
        capsys,
        "invite",
        "--email",
        "ops@example.org",
        "--role",
        "client",
        "--organization",
        "Acme Ltd",
    )
    assert code == 0, err
    assert "queued" in out and "ops@example.org" in out and not LINK.search(out)
    code, _, err = run(capsys, "invite", "--email", "cleo@example.org", "--role", "analyst")
    assert code == 1 and "already exists" in err
    code, _, err = run(
        capsys, "invite", "--email", "x@example.org", "--role", "client", "--organization", "Nope"
    )
    assert code == 1 and "no organisation" in err
    assert _send(c.world.url, server).sent == 1
    (received,) = server.inbox.wait_for(1)
    assert (
        "An administrator invites you to SecureSphere, as client at Acme Ltd."
        in _parts(received)[0]
    )
    with db.reading(c.world.url) as s:
        assert s.scalar(select(LinkToken.email)) == "ops@example.org"


def test_an_inviter_name_with_a_line_break_stays_in_the_subject(env):
    rendered = describe(
        "invitation",
        {
            "purpose": "invitation",
            "nonce": "n",
            "inviter": "Eve\r\nBcc: victim@example.org",
            "role": "Client",
            "organization": "",
            "expires_at": "2026-12-08T12:00:00+00:00",
        },
    )
    message = build_message(
        rendered,
        sender=Address("SecureSphere", addr_spec="noreply@example.com"),
        to_address="new@example.org",
        to_name="",
        message_id="<x@example.com>",
        base_url=BASE_URL,
        when=utcnow(),
    )
    assert (
        message["Subject"]
        == "[SecureSphere] Eve Bcc: victim@example.org invites you to SecureSphere"
    )
    assert message["Bcc"] is None and rendered.link.startswith("?invite=")
