"""The mail worker against a real SMTP server (aiosmtpd on loopback): what a message holds, what
is escaped, retries, backoff, dead letters, a server that goes away, and refusals at start."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from email.utils import getaddresses

import pytest
from sqlalchemy import update

from core import db
from core.access import SYSTEM
from core.demo_content import sample_pdf
from core.errors import ConfigError
from core.evidence import add_evidence
from core.labels import format_date
from core.mail_config import load_mail_config
from core.mail_worker import Worker
from core.models import Outbox, Product, User, utcnow
from core.notify_inbox import set_preferences
from core.outbox import claim
from core.settings import update_setting
from tests.clirun import run
from tests.factories import World
from tests.notify_world import BASE_URL, cast, mail_config, mail_env, rows, with_email
from tests.support.smtp import SmtpServer


@pytest.fixture
def server():
    smtp = SmtpServer().start()
    yield smtp
    smtp.stop()


@pytest.fixture
def c(db_url, tmp_path):
    return cast(World(db_url, tmp_path / "data"))


def _approved(c):
    """An assessment taken through review to approval: two rows for each of the two clients."""
    w = c.world
    aid = w.answered(c.client, w.product(c.client))
    w.submit(c.client, aid)
    w.decide(c.reviewer, aid, "approved")
    return aid


def _send(c, server, **kwargs):
    return Worker(c.world.url, mail_config(server.url), interval=0.05, **kwargs).run(once=True)


def _settings(url, **values):
    with db.transaction(url) as s:
        for key, value in values.items():
            update_setting(s, SYSTEM, key, value)


def test_each_row_becomes_one_message_in_text_and_html_with_a_link_and_a_stable_id(c, server):
    aid = _approved(c)
    report = _send(c, server)
    assert report.sent == 6  # two reviewers told of the submission, two clients twice
    received = server.inbox.messages()
    by_id = {r.message["Message-ID"]: r for r in received}
    for row in rows(c.world.url):
        mail = by_id[f"<{row.uid}@securesphere.example.com>"].message
        assert row.status == "sent" and row.reply.startswith("250")
        assert getaddresses([mail["To"]])[0][1] == row.address
        assert mail["From"] == "SecureSphere <noreply@securesphere.example.com>"
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        assert f"{BASE_URL}/{row.data['link']}" in text
        assert f'href="{BASE_URL}/{row.data["link"]}"'.replace("?", "?") in html.replace(
            "&amp;", "&"
        )
    approved = next(r for r in received if "approved" in r.message["Subject"])
    assert approved.message["Subject"] == "[SecureSphere] Web Shop was approved"
    assert f"scores?assessment={aid}" in approved.message.get_body(("plain",)).get_content()
    assert _send(c, server).sent == 0  # nothing twice
    assert len(server.inbox.messages()) == 6


def test_user_text_is_escaped_in_html_and_kept_as_typed_in_plain_text(c, server):
    w = c.world
    aid = w.answered(c.client, w.product(c.client))
    w.submit(c.client, aid)
    w.send_back(
        c.reviewer,
        aid,
        w.weak_key({k: a.value for k, a in w.demo_answers().items()}),
        '<script>alert(1)</script> & <a href="http://evil.example">here</a>',
    )
    _send(c, server)
    mail = next(r.message for r in server.inbox.messages() if "Changes" in r.message["Subject"])
    html = mail.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="http://evil.example"' not in html
    assert "<script>alert(1)</script> & <a href" in mail.get_body(("plain",)).get_content()


def test_a_product_name_with_a_line_break_changes_no_header(c, server):
    w = c.world
    pid = w.product(c.client)
    evil = "x\r\nBcc: evil@example.net\r\nSubject: free money"
    with db.transaction(w.url) as s:  # written as an older version might have stored it
        s.execute(update(Product).where(Product.id == pid).values(name=evil))
    aid = w.answered(c.client, pid)
    w.submit(c.client, aid)
    w.decide(c.reviewer, aid, "approved")
    _send(c, server)
    received = server.inbox.messages()
    assert len(received) == 6
    for r in received:
        assert r.message.get_all("Bcc") is None and len(r.message.get_all("Subject")) == 1
        assert "\n" not in r.message["Subject"] and "evil@example.net" not in r.rcpt_tos
        assert r.rcpt_tos == [getaddresses([r.message["To"]])[0][1]]
    subjects = {r.message["Subject"].strip() for r in received}
    assert "[SecureSphere] x Bcc: evil@example.net Subject: free money was approved" in subjects


def test_a_refused_try_waits_and_doubles_and_keeps_its_message_id(c, server):
    _settings(c.world.url, notify_retry_seconds=30)
    w = c.world
    aid = w.answered(c.client, w.product(c.client))
    server.inbox.data_replies = ["451 4.3.0 Try again later", "452 4.3.1 Still busy"]
    w.submit(c.client, aid)
    started = utcnow()
    assert _send(c, server).retried == 2
    first = {r.id: r for r in rows(w.url)}
    assert all(r.status == "queued" and r.attempts == 1 for r in first.values())
    waits = sorted((r.next_attempt_at - started).total_seconds() for r in first.values())
    assert waits[0] >= 29 and waits[-1] <= 31 + 5
    assert "451 4.3.0 Try again later" in "".join(r.last_error for r in first.values())
    with db.transaction(w.url) as s:  # time passes
        s.execute(update(Outbox).values(next_attempt_at=utcnow()))
    assert _send(c, server).sent == 2
    refused_ids = set()
    for raw in server.inbox.refused:
        refused_ids |= {line for line in raw.decode().splitlines() if line.startswith("Message-ID")}
    delivered = {f"Message-ID: {m}" for m in server.inbox.message_ids()}
    assert refused_ids == delivered  # the same message, tried again


def test_a_permanent_refusal_or_the_last_try_makes_a_dead_letter(c, server):
    _settings(c.world.url, notify_max_attempts=2, notify_retry_seconds=1)
    w = c.world
    aid = w.answered(c.client, w.product(c.client))
    server.inbox.refuse = {
        "rita@example.org": "550 5.1.1 No such user",
        "ravi@example.org": "451 4.2.0 Mailbox busy",
    }
    w.submit(c.client, aid)
    _send(c, server)
    with db.transaction(w.url) as s:
        s.execute(update(Outbox).values(next_attempt_at=utcnow()))
    report = _send(c, server)
    by_address = {r.address: r for r in rows(w.url)}
    assert by_address["rita@example.org"].status == "failed"
    assert by_address["rita@example.org"].attempts == 1
    assert "550 5.1.1 No such user" in by_address["rita@example.org"].last_error
    assert by_address["ravi@example.org"].status == "failed"
    assert by_address["ravi@example.org"].attempts == 2 and report.failed == 1
    assert server.inbox.messages() == []


def test_a_mail_server_down_for_seconds_loses_nothing_and_costs_no_try(c, server):
    """The issue's minute of downtime, shortened to a few seconds."""
    w = c.world
    for n in range(3):
        aid = w.answered(c.client, w.product(c.client, f"Product {n}"))
        w.submit(c.client, aid)  # two rows each
    server.stop()
    stop = threading.Event()
    worker = Worker(w.url, mail_config(server.url), interval=0.05, stop=stop)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not any("Cannot reach the mail server" in r.last_error for r in rows(w.url)):
        assert time.monotonic() < deadline, "the worker never said the server is unreachable"
        time.sleep(0.05)
    down_until = time.monotonic() + 3
    while time.monotonic() < down_until:  # the worker keeps trying while the server is down
        assert thread.is_alive()
        time.sleep(0.1)
    for n in range(2):  # events keep coming while the server is down
        aid = w.answered(c.client, w.product(c.client, f"Later {n}"))
        w.submit(c.client, aid)
    server.start()
    server.inbox.wait_for(10, timeout=90)
    stop.set()
    thread.join(timeout=30)
    assert sorted(server.inbox.message_ids()) == sorted(
        f"<{r.uid}@securesphere.example.com>" for r in rows(w.url)
    )
    assert {(r.status, r.attempts) for r in rows(w.url)} == {("sent", 1)}


def test_two_workers_cannot_both_claim_a_row(c):
    w = c.world
    aid = w.answered(c.client, w.product(c.client))
    w.submit(c.client, aid)
    row = rows(w.url)[0]
    engine = db.get_engine(w.url)
    with engine.begin() as conn:
        assert claim(conn, row.id, utcnow())
    with engine.begin() as conn:
        assert not claim(conn, row.id, utcnow())


def test_demo_accounts_and_people_without_an_address_get_no_mail(c, server):
    w = c.world
    with db.transaction(w.url) as s:
        s.execute(update(User).where(User.id == c.reviewer.user_id).values(is_demo=True))
    with_email(w.url, c.second_reviewer, "")
    with db.transaction(w.url) as s:
        s.execute(update(User).where(User.id == c.second_reviewer.user_id).values(email=""))
    aid = w.answered(c.client, w.product(c.client))
    w.submit(c.client, aid)
    assert {r.last_error for r in rows(w.url)} == {
        "Demo accounts get no e-mail.",
        "No e-mail address.",
    }
    assert _send(c, server).sent == 0 and server.inbox.messages() == []


def test_a_daily_digest_is_one_message_and_none_is_sent_when_nothing_waits(c, server):
    w = c.world
    with db.transaction(w.url) as s:
        set_preferences(s, c.client, {"claimed": "digest", "approved": "digest"})
    _send(c, server)
    assert server.inbox.messages() == []  # nothing waits: no digest
    _approved(c)
    with db.transaction(w.url) as s:  # the rows were written before today's digest time
        s.execute(
            update(Outbox)
            .where(Outbox.status == "digest")
            .values(created_at=utcnow() - timedelta(days=1))
        )
    _send(c, server)
    mine = [r for r in server.inbox.messages() if r.rcpt_tos == ["cleo@example.org"]]
    assert [r.message["Subject"] for r in mine] == ["[SecureSphere] Your daily digest: 2 updates"]
    text = mine[0].message.get_body(("plain",)).get_content()
    assert "Review of Web Shop has started" in text and "Web Shop was approved" in text
    _send(c, server)
    assert len([r for r in server.inbox.messages() if r.rcpt_tos == ["cleo@example.org"]]) == 1


def test_an_expiring_file_is_mailed_once_to_its_organisations_clients_and_no_one_else(c, server):
    w = c.world
    today = utcnow().date()
    ours = w.start(c.client, w.product(c.client))
    theirs = w.start(c.stranger, w.product(c.stranger, "Secret Project"))
    key = w.bank.questions[0].key
    with db.transaction(w.url) as s:
        for who, aid, days in ((c.client, ours, 2), (c.stranger, theirs, 200)):
            add_evidence(
                s,
                who,
                aid,
                question_key=key,
                filename=f"certificate {aid}.pdf",
                data=sample_pdf(f"Certificate {aid}"),
                data_dir=w.data_dir,
                valid_until=today + timedelta(days=days),
            )
    report = _send(c, server)  # the worker writes what the clock owes, then sends it
    assert report.reminders == 2 and report.sent == 2
    received = server.inbox.messages()
    assert sorted(r.rcpt_tos[0] for r in received) == ["cleo@example.org", "colin@example.org"]
    day = format_date(today + timedelta(days=2))
    for r in received:
        assert r.message["Subject"] == f"[SecureSphere] Evidence for Web Shop expires on {day}"
        text = r.message.get_body(("plain",)).get_content()
        assert f"certificate {ours}.pdf" in text and f"questionnaire?assessment={ours}" in text
        assert "Secret Project" not in text
    assert _send(c, server).reminders == 0 and len(server.inbox.messages()) == 2  # once


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://mail.example.com", "must start with smtp:// or smtps://"),
        ("smtp://", "names no mail server host"),
        ("smtp://mail.example.com:99999", "not a valid URL"),
        ("smtp://mail.example.com?tls=1", "unknown options tls"),
        ("smtp://mail.example.com?starttls=yes", "starttls must be 0 or 1"),
        ("smtps://mail.example.com?starttls=1", "smtps:// is TLS already"),
        ("smtp://mail.example.com?timeout=0", "timeout must be 1 to 600 seconds"),
        ("smtp://mail.example.com/inbox", "must not have a path"),
    ],
)
def test_a_bad_smtp_url_is_refused_with_a_clear_line(url, says):
    with pytest.raises(ConfigError, match=says.replace("?", r"\?")):
        load_mail_config({**mail_env("smtp://x"), "SECURESPHERE_SMTP_URL": url})


def test_good_smtp_urls_are_read_whole():
    config = load_mail_config(
        {
            **mail_env("smtp://x"),
            "SECURESPHERE_SMTP_URL": "smtp://me%40corp:p%3Ass@mx:587?starttls=1",
        }
    )
    assert (config.host, config.port, config.starttls, config.username, config.password) == (
        "mx",
        587,
        True,
        "me@corp",
        "p:ss",
    )
    tls = load_mail_config({**mail_env("smtp://x"), "SECURESPHERE_SMTP_URL": "smtps://mx"})
    assert (tls.port, tls.implicit_tls, tls.starttls) == (465, True, False)


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SECURESPHERE_MAIL_FROM", "", "SECURESPHERE_MAIL_FROM is not set"),
        ("SECURESPHERE_MAIL_FROM", "nobody", "is not an e-mail address"),
        ("SECURESPHERE_BASE_URL", "", "SECURESPHERE_BASE_URL is not set"),
        ("SECURESPHERE_BASE_URL", "securesphere.example.com", "must be an http"),
    ],
)
def test_sender_and_base_url_are_checked_at_start(variable, value, says):
    with pytest.raises(ConfigError, match=says):
        load_mail_config({**mail_env("smtp://mx"), variable: value})


def test_notify_run_refuses_a_bad_url_at_start_and_sends_nothing(c, server, capsys, monkeypatch):
    _approved(c)
    for key, value in mail_env("smtp//127.0.0.1").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", c.world.url)
    code, _, err = run(capsys, "notify", "run", "--once")
    assert code == 1 and err.strip().startswith("error: SECURESPHERE_SMTP_URL must start")
    monkeypatch.delenv("SECURESPHERE_SMTP_URL")
    code, out, err = run(capsys, "notify", "run", "--once")  # webhooks only: the mail waits
    assert code == 0 and "Mail is not configured" in out and "sent 0," in out, err
    code, out, err = run(capsys, "notify", "status")
    assert code == 0, err
    assert "mail: not configured" in out and "Queued: 6" in out
    monkeypatch.setenv("SECURESPHERE_SMTP_URL", server.url)
    code, out, err = run(capsys, "notify", "run", "--once")
    assert code == 0, err
    assert out.startswith("sent 6,") and len(server.inbox.messages()) == 6


def test_notify_run_once_says_when_the_server_cannot_be_reached(c, capsys, monkeypatch):
    _approved(c)
    down = SmtpServer()  # never started: nothing listens on its port
    for key, value in mail_env(down.url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", c.world.url)
    code, _, err = run(capsys, "notify", "run", "--once")
    assert code == 1 and "Cannot reach the mail server 127.0.0.1" in err
    assert {r.attempts for r in rows(c.world.url)} == {0}
