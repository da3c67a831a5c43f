"""Notification benchmarks: python -m benchmarks.notify [--json] [--down-seconds S].

1. What the outbox adds to a submit: the notification hook's own time inside submits (finding
   the recipients and one subscribed webhook, writing their rows, median; target <= 2 ms), beside the medians of whole
   submits with and without it, alternating (noisy on a loaded machine).
2. The worker's rate to a local SMTP server (aiosmtpd in another process) against the floor:
   the same messages sent with smtplib alone, no database (target >= 50 messages/s).
3. 10 SIGKILLs of a worker process at random moments during a batch of 500, restarted each
   time (a lease of 5 s, so the row a killed worker held comes back soon): delivered and
   duplicate Message-IDs at the receiver (target 500 and 0; a duplicate is possible only for a
   kill between the server's 250 and the worker's commit, a loss never).
4. The SMTP server down for S seconds (the issue's minute, 5 s by default) while the worker
   runs: messages lost (target 0).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from core import db, migrate, notify_events, submission
from core.access import SYSTEM
from core.banks.frameworks import shipped_banks
from core.banks.store import import_bank
from core.mail_messages import build_message, describe
from core.mail_worker import Worker
from core.models import Outbox
from core.settings import ensure_defaults, update_setting
from core.webhooks import create_webhook
from tests.factories import World
from tests.notify_world import cast, mail_config, mail_env
from tests.support.smtp import free_port
from tests.test_notify_kill import LEASE_SECONDS, SMTP_TIMEOUT, fill_outbox, start_worker

ROOT = Path(__file__).resolve().parent.parent
SUBMITS = 30
BATCH = 500
KILLS = 10


def _database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'bench.db'}"
    migrate.upgrade(url)
    with db.transaction(url) as s:
        ensure_defaults(s)
    return url


def submit_cost(folder: Path) -> dict[str, float]:
    """Median submit time with and without the notification hook, in ms."""
    url = _database(folder)
    with db.transaction(url) as s:
        for bank in shipped_banks():
            import_bank(s, SYSTEM, bank)
    world = World(url, folder / "data")
    people = cast(world)
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "webhook_allow_private", "on")
        create_webhook(s, people.admin, url="http://127.0.0.1:9/hook", events=["submitted"])
    ids = [
        world.answered(people.client, world.product(people.client, f"P{n}"))
        for n in range(2 * SUBMITS)
    ]
    hook = notify_events.on_submitted
    times: dict[bool, list[float]] = {True: [], False: []}
    own: list[float] = []
    own_cpu: list[float] = []  # the process's CPU time: what a loaded machine does not inflate

    def timed(session, actor, assessment, now=None):  # type: ignore[no-untyped-def]
        started, cpu = time.perf_counter(), time.process_time()
        hook(session, actor, assessment, now)
        session.flush()  # its rows' INSERT, which would otherwise run at the commit
        own.append((time.perf_counter() - started) * 1000)
        own_cpu.append((time.process_time() - cpu) * 1000)

    for n, aid in enumerate(ids):
        on = n % 2 == 0
        notify_events.on_submitted = timed if on else (lambda *args, **kwargs: None)
        started = time.perf_counter()
        with db.transaction(url) as s:
            submission.submit(s, people.client, aid)
        times[on].append((time.perf_counter() - started) * 1000)
    notify_events.on_submitted = hook
    return {
        "submit_ms": statistics.median(times[True]),
        "submit_without_outbox_ms": statistics.median(times[False]),
        "outbox_ms": statistics.median(own),
        "outbox_cpu_ms": statistics.median(own_cpu),
    }


class Receiver:
    """aiosmtpd in its own process, writing each Message-ID to a file as it takes the message."""

    def __init__(self, folder: Path) -> None:
        self.port, self.file = free_port(), folder / "received.txt"
        self.file.touch()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [
            sys.executable,
            "-m",
            "benchmarks.notify",
            "--receive",
            str(self.port),
            str(self.file),
        ]
        self.proc = subprocess.Popen(args, cwd=ROOT)
        deadline = time.monotonic() + 30
        while not (self.file.with_suffix(".ready")).exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
            time.sleep(0.05)
        self.file.with_suffix(".ready").unlink()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()

    def ids(self) -> list[str]:
        return [line for line in self.file.read_text().splitlines() if line]


def receive(port: int, out: Path) -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            for line in bytes(envelope.content).split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    with out.open("a") as f:
                        f.write(line.split(b":", 1)[1].strip().decode() + "\n")
                    break
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    out.with_suffix(".ready").touch()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


def rate(folder: Path) -> dict[str, float]:
    """Messages per second: the worker (database and all) and smtplib alone on the same messages."""
    url = _database(folder / "rate")
    receiver = Receiver(folder / "rate")
    receiver.start()
    try:
        fill_outbox(url, BATCH)
        config = mail_config(receiver.url)
        started = time.perf_counter()
        Worker(url, config, batch=100).run(once=True)
        worker_rate = BATCH / (time.perf_counter() - started)
        with db.reading(url) as s:
            rows = list(s.query(Outbox))
        import smtplib

        messages = [
            build_message(
                describe(r.kind, r.data),
                sender=config.sender,
                to_address=r.address,
                to_name="",
                message_id=f"<floor{r.id}@x.example>",
                base_url=config.base_url,
                when=r.created_at,
            )
            for r in rows
        ]
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", receiver.port) as smtp:
            for m in messages:
                smtp.send_message(m)
        floor_rate = BATCH / (time.perf_counter() - started)
    finally:
        receiver.stop()
    return {"worker_per_s": worker_rate, "smtplib_alone_per_s": floor_rate}


def kills(folder: Path, rng: random.Random) -> dict[str, int]:
    """Delivered and duplicated Message-IDs after KILLS random SIGKILLs during a batch."""
    url = _database(folder / "kill")
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "notify_lease_seconds", LEASE_SECONDS)
    receiver = Receiver(folder / "kill")
    receiver.start()
    fill_outbox(url, BATCH)
    killed = 0
    try:
        while True:
            proc = start_worker(url, receiver.url + SMTP_TIMEOUT, folder / "kill" / "data")
            if killed < KILLS:
                before = len(receiver.ids())
                while len(receiver.ids()) == before and proc.poll() is None:
                    time.sleep(0.01)  # started and sending
                time.sleep(rng.uniform(0.0, 0.5))
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                killed += 1
                continue
            while _queued(url):
                time.sleep(0.1)
            proc.terminate()
            proc.wait()
            break
    finally:
        receiver.stop()
    ids = receiver.ids()
    return {"kills": killed, "delivered": len(set(ids)), "duplicates": len(ids) - len(set(ids))}


def kill_runs(folder: Path, runs: int) -> list[dict[str, int]]:
    """The kill benchmark several times, each on a fresh database and receiver."""
    results = []
    for n in range(runs):
        (folder / f"run{n}" / "kill").mkdir(parents=True)
        results.append(kills(folder / f"run{n}", random.Random(15 + n)))
    return results


def _queued(url: str) -> int:
    with db.reading(url) as s:
        return s.query(Outbox).filter(Outbox.status != "sent").count()


def outage(folder: Path, seconds: float) -> dict[str, float]:
    """Messages lost when the SMTP server is down for a while as the worker runs."""
    url = _database(folder / "down")
    receiver = Receiver(folder / "down")
    receiver.start()
    fill_outbox(url, 100)
    proc = start_worker(url, receiver.url, folder / "down" / "data")
    while len(receiver.ids()) < 20:
        time.sleep(0.01)
    receiver.stop()
    time.sleep(seconds)  # the outage itself
    fill_outbox(url, 100)  # events go on meanwhile
    receiver.start()
    started = time.monotonic()
    while _queued(url):
        time.sleep(0.1)
    back = time.monotonic() - started
    proc.terminate()
    proc.wait()
    receiver.stop()
    ids = receiver.ids()
    return {
        "down_s": seconds,
        "lost": 200 - len(set(ids)),
        "duplicates": len(ids) - len(set(ids)),
        "all_sent_s_after_return": back,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the four benchmarks; a table, or one JSON object with --json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notify", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--down-seconds", type=float, default=5.0)
    parser.add_argument("--kill-runs", type=int, default=1, help="times to run the kill benchmark")
    parser.add_argument("--receive", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.receive:
        receive(int(args.receive[0]), Path(args.receive[1]))
        return 0
    for key, value in mail_env("smtp://unused").items():
        os.environ.setdefault(key, value)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for sub in ("rate", "down"):
            (folder / sub).mkdir()
        report = {
            "submit": submit_cost(folder),
            "rate": rate(folder),
            "kill": kill_runs(folder, args.kill_runs),
            "outage": outage(folder, args.down_seconds),
        }
    if args.json:
        print(json.dumps(report, sort_keys=True))
        return 0
    s, r, k, o = report["submit"], report["rate"], report["kill"], report["outage"]
    print(
        f"outbox rows per submit   {s['outbox_ms']:8.2f} ms  ({s['outbox_cpu_ms']:.2f} ms CPU; "
        f"submit {s['submit_ms']:.1f} ms, "
        f"without {s['submit_without_outbox_ms']:.1f} ms; target <= 2 ms)"
    )
    print(
        f"worker rate              {r['worker_per_s']:8.0f} /s  (smtplib alone "
        f"{r['smtplib_alone_per_s']:.0f}/s, ratio {r['worker_per_s'] / r['smtplib_alone_per_s']:.2f}; "
        "target >= 50/s)"
    )
    for run in k:
        print(
            f"{run['kills']} kills in {BATCH}        {run['delivered']:8d} delivered, "
            f"{run['duplicates']} duplicates (target {BATCH}, 0)"
        )
    print(
        f"SMTP down {o['down_s']:.0f} s            {o['lost']:8.0f} lost, {o['duplicates']:.0f} duplicates, all "
        f"sent {o['all_sent_s_after_return']:.1f} s after it returned (target 0 lost)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
