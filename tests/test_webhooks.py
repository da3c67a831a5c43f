"""Webhooks against a real HTTP receiver (http.server on loopback): rows written with the change,
signed bodies a receiver verifies, retries with backoff, dead letters, a receiver that is down,
and the registrations refused (private addresses, plain http, bad secrets, unknown events)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import db, review
from core.access import SYSTEM
from core.errors import AccessDenied, ValidationError
from core.models import AuditLog, Webhook, WebhookAttempt, utcnow
from core.settings import get_settings, update_setting
from core.submission import submit
from core.webhook_worker import deliver_due, pinned
from core.webhooks import (
    create_webhook,
    delete_webhook,
    latest_attempts,
    list_webhooks,
    set_enabled,
    sign,
    verify_signature,
)
from tests.clirun import run
from tests.factories import World
from tests.notify_world import cast, rows
from tests.support.hooks import Receiver

SECRET = "s3cret-for-the-receiver-0123456789"


@pytest.fixture
def c(db_url, tmp_path):
    people = cast(World(db_url, tmp_path / "data"))
    _set(db_url, webhook_allow_private="on", notify_retry_seconds=60, notify_max_attempts=3)
    return people


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def _set(url, **values):
    with db.transaction(url) as s:
        for key, value in values.items():
            update_setting(s, SYSTEM, key, value)


def _hook(c, url, events=("submitted",), secret=SECRET):
    with db.transaction(c.world.url) as s:
        hook, shown = create_webhook(s, c.admin, url=url, events=list(events), secret=secret)
        return hook.id, shown


def _submitted(c):
    w = c.world
    aid = w.answered(c.client, w.product(c.client, "Payroll"))
    w.submit(c.client, aid)
    return aid


def _deliver(c, now=None):
    with db.reading(c.world.url) as s:
        settings = get_settings(s)
    engine = db.get_engine(c.world.url)
    return deliver_due(engine, settings, base_url="https://ss.example.com", now=now)


def _attempts(url):
    with db.reading(url) as s:
        return list(s.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)))


def test_a_submission_posts_one_signed_body_of_facts_that_the_receiver_verifies(c, receiver):
    _hook(c, receiver.url())
    aid = _submitted(c)
    assert _deliver(c)["sent"] == 1
    [request] = receiver.received()
    row = rows(c.world.url, channel="webhook")[0]
    t, v1 = (
        part.split("=", 1)[1] for part in request.headers["X-SecureSphere-Signature"].split(",")
    )
    mac = hmac.new(SECRET.encode(), f"{t}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(mac, v1) and abs(time.time() - int(t)) < 60
    assert request.headers["X-SecureSphere-Event"] == "submitted"
    assert request.headers["X-SecureSphere-Delivery"] == row.uid
    body = json.loads(request.body)
    assert body["event"] == "submitted" and body["delivery"] == row.uid
    assert body["assessment"]["id"] == aid and body["assessment"]["status"] == "submitted"
    assert body["assessment"]["product"] == "Payroll" and body["assessment"]["organization"]
    assert body["link"] == f"https://ss.example.com/review?assessment={aid}"
    assert body["time"].endswith("Z")
    assert row.status == "sent" and row.attempts == 1
    [attempt] = _attempts(c.world.url)
    assert attempt.status_code == 200 and attempt.latency_ms > 0 and attempt.error == ""


def test_the_worker_delivers_webhooks_without_a_mail_server(c, receiver, capsys, monkeypatch):
    _hook(c, receiver.url())
    _submitted(c)
    monkeypatch.delenv("SECURESPHERE_SMTP_URL", raising=False)
    monkeypatch.setenv("SECURESPHERE_BASE_URL", "https://ss.example.com")
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", c.world.url)
    code, out, err = run(capsys, "notify", "run", "--once")
    assert code == 0, err
    assert "Mail is not configured" in out and out.splitlines()[-1].startswith("sent 1,")
    assert len(receiver.received()) == 1
    assert {r.status for r in rows(c.world.url, channel="webhook")} == {"sent"}
    assert {r.status for r in rows(c.world.url, channel="email")} == {"queued"}  # they wait
    monkeypatch.delenv("SECURESPHERE_BASE_URL")
    code, _, err = run(capsys, "notify", "run", "--once")
    assert code == 1 and "SECURESPHERE_BASE_URL is not set" in err


def test_a_decision_note_never_reaches_a_webhook(c, receiver):
    _hook(c, receiver.url(), events=["approved", "changes_requested"])
    aid = _submitted(c)
    weak = c.world.weak_key({k: a.value for k, a in c.world.demo_answers().items()})
    with db.transaction(c.world.url) as s:
        review.claim(s, c.reviewer, aid)
        review.set_review_state(s, c.reviewer, aid, weak, "needs_changes", comment="Add MFA")
        review.request_changes(s, c.reviewer, aid, note="Wording for the client only")
    _deliver(c)
    [request] = receiver.received()
    assert json.loads(request.body)["event"] == "changes_requested"
    assert b"Wording" not in request.body and b"MFA" not in request.body
    assert b"note" not in request.body


def test_a_rolled_back_submission_leaves_no_webhook_row(c, receiver):
    _hook(c, receiver.url())
    w = c.world
    aid = w.answered(c.client, w.product(c.client))
    with pytest.raises(RuntimeError), db.transaction(w.url) as s:
        submit(s, c.client, aid)
        raise RuntimeError("the page failed after submitting")
    assert rows(w.url, channel="webhook") == []


def test_only_enabled_webhooks_that_asked_for_the_event_get_a_row(c, receiver):
    _hook(c, receiver.url(), events=["approved"])
    off, _ = _hook(c, receiver.url())
    on, _ = _hook(c, receiver.url())
    with db.transaction(c.world.url) as s:
        set_enabled(s, c.admin, off, False)
    _submitted(c)
    assert [r.data["webhook_id"] for r in rows(c.world.url, channel="webhook")] == [on]


def test_a_receiver_answering_500_is_retried_with_doubling_waits_then_kept_as_failed(c, receiver):
    _hook(c, receiver.url())
    _submitted(c)
    receiver.answers = [500, 500, 500]
    t0 = utcnow()
    assert _deliver(c, t0)["queued"] == 1
    assert _deliver(c, t0 + timedelta(seconds=59)) == {
        "sent": 0,
        "queued": 0,
        "failed": 0,
        "lost": 0,
    }
    assert _deliver(c, t0 + timedelta(seconds=61))["queued"] == 1  # waited 60 s
    row = rows(c.world.url, channel="webhook")[0]
    assert row.next_attempt_at == t0 + timedelta(seconds=61 + 120)  # then 120 s
    assert _deliver(c, t0 + timedelta(seconds=182))["failed"] == 1  # third try: a dead letter
    row = rows(c.world.url, channel="webhook")[0]
    assert row.status == "failed" and "500" in row.last_error and row.attempts == 3
    assert [a.status_code for a in _attempts(c.world.url)] == [500, 500, 500]
    ids = {r.headers["X-SecureSphere-Delivery"] for r in receiver.received()}
    assert ids == {row.uid} and len({r.body for r in receiver.received()}) == 1
    assert _deliver(c, t0 + timedelta(days=1))["queued"] == 0


def test_a_receiver_that_is_down_is_retried_and_gets_the_delivery_when_back(c, receiver):
    _hook(c, receiver.url())
    _submitted(c)
    receiver.stop()
    t0 = utcnow()
    assert _deliver(c, t0)["queued"] == 1
    [attempt] = _attempts(c.world.url)
    assert attempt.status_code is None and "No answer" in attempt.error
    receiver.start()
    assert _deliver(c, t0 + timedelta(seconds=61))["sent"] == 1
    assert len(receiver.received()) == 1
    assert [a.status_code for a in _attempts(c.world.url)] == [None, 200]


def test_each_delivery_checks_the_address_again(c, receiver):
    _hook(c, receiver.url())
    _submitted(c)
    _set(c.world.url, webhook_allow_private="off")
    _deliver(c)
    assert receiver.received() == []
    [attempt] = _attempts(c.world.url)
    assert "private" in attempt.error and attempt.status_code is None


def test_a_disabled_or_deleted_webhook_sends_nothing_and_its_rows_fail(c, receiver):
    off, _ = _hook(c, receiver.url())
    gone, _ = _hook(c, receiver.url())
    _submitted(c)
    with db.transaction(c.world.url) as s:
        set_enabled(s, c.admin, off, False)
        delete_webhook(s, c.admin, gone)
    assert _deliver(c)["failed"] == 2
    assert receiver.received() == []
    errors = sorted(r.last_error for r in rows(c.world.url, channel="webhook"))
    assert errors == ["The webhook is turned off.", "The webhook was deleted."]


@pytest.mark.parametrize(
    ("url", "private", "words"),
    [
        ("https://10.1.2.3/hook", "off", "private network"),
        ("https://192.168.0.10/hook", "off", "private network"),
        ("https://169.254.169.254/latest", "off", "private network"),
        ("https://127.0.0.1:8443/hook", "off", "private network"),
        ("https://localhost/hook", "off", "private network"),
        ("https://[::1]/hook", "off", "private network"),
        ("https://[::ffff:127.0.0.1]/hook", "off", "private network"),
        ("http://127.0.0.1/hook", "off", "private network"),
        ("http://93.184.215.14/hook", "on", "must use https"),
        ("http://93.184.215.14/hook", "off", "must use https"),
        ("ftp://93.184.215.14/hook", "on", "starting with https"),
        ("hooks.example.com/x", "on", "starting with https"),
        ("https://user:pw@93.184.215.14/hook", "on", "no user name"),
        ("https://no-such-host.invalid/hook", "on", "cannot be found"),
    ],
)
def test_a_webhook_address_that_is_not_allowed_is_refused(c, url, private, words):
    _set(c.world.url, webhook_allow_private=private)
    with pytest.raises(ValidationError, match=words):
        _hook(c, url)
    with db.reading(c.world.url) as s:
        assert s.scalar(select(Webhook.id)) is None


@pytest.mark.parametrize(
    ("events", "secret", "words"),
    [
        (["submitted"], "too-short", "24 to 200"),
        (["submitted"], "has spaces in the middle of it, sadly", "without spaces"),
        (["submitted"], "x" * 201, "24 to 200"),
        (["submitted", "exploded"], SECRET, "Unknown events: exploded"),
        ([], SECRET, "at least one event"),
    ],
)
def test_bad_secrets_and_unknown_events_are_refused(c, receiver, events, secret, words):
    with pytest.raises(ValidationError, match=words):
        _hook(c, receiver.url(), events=events, secret=secret)


def test_only_admins_manage_webhooks_and_the_secret_is_shown_once(c, receiver):
    hook_id, shown = _hook(c, receiver.url(), secret=None)
    assert shown.startswith("whsec_") and len(shown) > 40
    for who in (c.reviewer, c.client):
        with pytest.raises(AccessDenied), db.transaction(c.world.url) as s:
            create_webhook(s, who, url=receiver.url(), events=["submitted"])
        with pytest.raises(AccessDenied), db.transaction(c.world.url) as s:
            set_enabled(s, who, hook_id, False)
        with pytest.raises(AccessDenied), db.transaction(c.world.url) as s:
            delete_webhook(s, who, hook_id)
        with pytest.raises(AccessDenied), db.reading(c.world.url) as s:
            list_webhooks(s, who)
        with pytest.raises(AccessDenied), db.reading(c.world.url) as s:
            latest_attempts(s, who)
    with db.reading(c.world.url) as s:
        [item] = list_webhooks(s, c.admin)
        audit = [str(a.detail) for a in s.scalars(select(AuditLog))]
    assert not hasattr(item, "secret") and item.enabled
    assert audit and not [d for d in audit if shown in d]


def test_a_signature_is_refused_when_old_tampered_or_signed_with_another_secret():
    body = b'{"event":"submitted"}'
    now = 1_800_000_000
    header = sign(SECRET, body, now)
    assert verify_signature(SECRET, header, body, now=now + 10)
    assert not verify_signature(SECRET, header, body, now=now + 301)  # a replay, later
    assert not verify_signature(SECRET, header, body + b" ", now=now)
    assert not verify_signature("another-secret-0123456789abcdef", header, body, now=now)
    assert not verify_signature(SECRET, "v1=" + header.split("v1=")[1], body, now=now)


def test_a_delivery_goes_to_the_checked_address_with_the_host_name_kept(c, receiver):
    _hook(c, receiver.url(host="localhost"))
    _submitted(c)
    assert _deliver(c)["sent"] == 1
    [request] = receiver.received()
    assert request.headers["Host"] == f"localhost:{receiver.port}"
    assert request.path == "/hooks/securesphere"
    targets, host = pinned(f"https://localhost:{receiver.port}/a/b?x=1", private_ok=True)
    assert targets == [f"https://127.0.0.1:{receiver.port}/a/b?x=1"]
    assert host == f"localhost:{receiver.port}"
    with pytest.raises(ValidationError, match="private network"):
        pinned(f"https://localhost:{receiver.port}/a", private_ok=False)


def test_purge_removes_delivery_attempts_past_their_retention_and_keeps_newer_ones(
    c, receiver, tmp_path
):
    from core.retention import purge_expired

    _hook(c, receiver.url())
    _submitted(c)
    receiver.answers.append(500)  # a first attempt fails, the retry a day later is sent
    assert _deliver(c)["queued"] == 1
    assert _deliver(c, now=utcnow() + timedelta(days=1))["sent"] == 1
    first, second = _attempts(c.world.url)
    _set(c.world.url, retention_webhook_attempts_days=10)
    at = first.attempted_at + timedelta(days=10, hours=12)  # past the first, not the second
    key = b"k" * 32
    with db.reading(c.world.url) as s:
        report = purge_expired(s, SYSTEM, data_dir=tmp_path, key=key, now=at, dry_run=True)
        assert report.webhook_attempts == 1
    assert len(_attempts(c.world.url)) == 2  # a dry run removes nothing
    with db.transaction(c.world.url) as s:
        assert purge_expired(s, SYSTEM, data_dir=tmp_path, key=key, now=at).webhook_attempts == 1
    assert [a.id for a in _attempts(c.world.url)] == [second.id]
    with db.reading(c.world.url) as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "webhook_attempts_purged"))
        assert [row.detail["count"] for row in audit] == [1]
    with pytest.raises(ValidationError):
        _set(c.world.url, retention_webhook_attempts_days=0)
