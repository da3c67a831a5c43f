"""A real worker process killed with SIGKILL mid-batch, again and again, and started again each
time: the receiver gets every message (counted by Message-ID), and a message twice only when
the worker died between the server taking it and its answer (the window core/mail_worker.py
documents), then with the same Message-ID.

The kills come from inside the SMTP server at the two moments that matter: while it holds a
whole message it has not yet answered (the row is claimed and leased, not sent: it comes back
after the lease and goes again), and while it answers a recipient, before any message data (a
worker that marks rows sent before talking to the server loses that one)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from core import db
from core.access import SYSTEM
from core.models import Outbox, utcnow
from core.outbox import enqueue
from core.settings import update_setting
from tests.notify_world import mail_env, rows
from tests.support.smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = 200
KILL_HOLDING_A_MESSAGE = {37, 121}  # received counts at which the server kills the worker
KILL_AT_RECIPIENT = {76, 160}
LEASE_SECONDS = 5  # how soon a row held by a killed worker comes back
SMTP_TIMEOUT = "?timeout=2"  # the lease is at least twice the SMTP timeout


def short_lease(url: str) -> None:
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "notify_lease_seconds", LEASE_SECONDS)


def fill_outbox(url: str, count: int) -> None:
    """count queued rows, each to its own address (as invitations to people without accounts)."""
    now = utcnow()
    with db.transaction(url) as s:
        for n in range(count):
            enqueue(
                s,
                kind="approved",
                address=f"person{n}@example.org",
                data={"product": f"Product {n}", "organization": "Acme Ltd", "actor": "Rita"},
                now=now,
            )


def start_worker(url: str, smtp_url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **mail_env(smtp_url),
        "SECURESPHERE_DATABASE_URL": url,
        "SECURESPHERE_DATA_DIR": str(data_dir),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "core.cli", "notify", "run", "--interval", "0.05", "--batch", "40"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_a_worker_killed_mid_batch_delivers_every_message_and_repeats_only_the_unanswered(
    db_url, tmp_path
):
    fill_outbox(db_url, MESSAGES)
    short_lease(db_url)
    server = SmtpServer().start()
    worker: dict[str, subprocess.Popen[bytes]] = {}
    kills: list[tuple[str, int]] = []

    def kill(where: str, at: set[int], count: int) -> None:
        if count in at and (where, count) not in kills:
            kills.append((where, count))
            os.kill(worker["proc"].pid, signal.SIGKILL)

    server.inbox.on_data = lambda count: kill("data", KILL_HOLDING_A_MESSAGE, count)
    server.inbox.on_rcpt = lambda count: kill("rcpt", KILL_AT_RECIPIENT, count)
    deadline = time.monotonic() + 240
    starts = 0
    try:
        while True:
            worker["proc"] = start_worker(db_url, server.url + SMTP_TIMEOUT, tmp_path / "data")
            starts += 1
            while worker["proc"].poll() is None and not _all_sent(db_url):
                assert time.monotonic() < deadline, f"after {starts} starts: {_summary(db_url)}"
                time.sleep(0.2)
            if _all_sent(db_url):
                break
            code = worker["proc"].wait()
            assert code == -signal.SIGKILL, worker["proc"].stderr.read().decode()  # type: ignore[union-attr]
        worker["proc"].send_signal(signal.SIGTERM)
        assert worker["proc"].wait(timeout=30) == 0
    finally:
        if worker["proc"].poll() is None:
            worker["proc"].kill()
        server.stop()
    assert len(kills) == len(KILL_HOLDING_A_MESSAGE) + len(KILL_AT_RECIPIENT)
    assert starts == len(kills) + 1
    ids = server.inbox.message_ids()
    expected = {f"<{r.uid}@securesphere.example.com>" for r in rows(db_url)}
    assert set(ids) == expected  # none lost
    held = {ids[count - 1] for where, count in kills if where == "data"}
    twice = {i for i, n in Counter(ids).items() if n > 1}
    assert twice == held, f"{len(ids) - len(set(ids))} duplicates"  # and only these, once more
    assert len(ids) == MESSAGES + len(held)


def _all_sent(url: str) -> bool:
    with db.reading(url) as s:
        return not s.scalar(select(func.count()).where(Outbox.status != "sent"))


def _summary(url: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows(url):
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts
