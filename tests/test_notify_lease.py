"""The worker's delivery rule: a row is claimed (leased) before it is sent and marked sent only
after the receiver accepted it; a row whose worker died comes back when the lease runs out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import db
from core.access import SYSTEM
from core.mail_worker import Worker
from core.models import utcnow
from core.outbox import claim
from core.settings import update_setting
from tests.factories import World
from tests.notify_world import cast, mail_config, rows
from tests.support.smtp import SmtpServer


@pytest.fixture
def c(db_url, tmp_path):
    return cast(World(db_url, tmp_path / "data"))


def _submitted(c):
    w = c.world
    w.submit(c.client, w.answered(c.client, w.product(c.client)))


def test_a_claimed_row_is_held_for_the_lease_then_due_again(c):
    _submitted(c)
    row = rows(c.world.url)[0]
    engine = db.get_engine(c.world.url)
    now = utcnow()
    with engine.begin() as conn:
        assert claim(conn, row.id, now, lease_seconds=60)
    with engine.begin() as conn:
        assert not claim(conn, row.id, now + timedelta(seconds=59), lease_seconds=60)
    held = rows(c.world.url, id=row.id)[0]
    assert held.status == "queued" and held.attempts == 1 and held.sent_at is None
    with engine.begin() as conn:  # the worker that held it died: another takes it
        assert claim(conn, row.id, now + timedelta(seconds=61), lease_seconds=60)
    assert rows(c.world.url, id=row.id)[0].attempts == 2


def test_a_message_is_marked_sent_only_after_the_server_answered_250(c):
    _submitted(c)
    with db.transaction(c.world.url) as s:
        update_setting(s, SYSTEM, "notify_lease_seconds", 600)
    server = SmtpServer().start()
    seen = []

    def look(count: int) -> None:  # the server holds this whole message, not yet answered
        uid = str(server.inbox.messages()[count - 1].message["Message-ID"])[1:].split("@")[0]
        seen.extend((r.status, r.attempts, r.next_attempt_at) for r in rows(c.world.url, uid=uid))

    server.inbox.on_data = look
    try:
        started = utcnow()
        Worker(c.world.url, mail_config(server.url), interval=0.05).run(once=True)
    finally:
        server.stop()
    assert len(seen) == 2  # the two lead reviewers' messages
    assert [(status, attempts) for status, attempts, _ in seen] == [("queued", 1)] * 2
    assert all(at >= started + timedelta(seconds=590) for _, _, at in seen)  # held by its lease
    assert {(r.status, r.attempts) for r in rows(c.world.url)} == {("sent", 1)}
    assert all(r.reply.startswith("250") for r in rows(c.world.url))
