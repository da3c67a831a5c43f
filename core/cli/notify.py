"""Notifications: notify run (the mail worker), notify status, notify retry."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from core import db
from core.access import SYSTEM
from core.config import Settings
from core.errors import SecureSphereError
from core.mail_config import load_base_url, load_mail_config, mail_configured
from core.mail_worker import Worker
from core.notify_admin import STATUS_LABELS, outbox_counts, retry, retry_failed


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Deliver the outbox until stopped (SIGTERM, Ctrl-C), or once with --once: e-mail over
    SMTP when a server is set, webhooks either way."""
    if args.interval <= 0 or args.batch < 1:
        raise SecureSphereError("--interval must be above 0 and --batch at least 1.")
    config = None
    if mail_configured():
        config = load_mail_config()  # a bad SMTP URL stops here, before anything is sent
    base_url = config.base_url if config else load_base_url()
    if config is None:
        print(
            "Mail is not configured (set SECURESPHERE_SMTP_URL): e-mails wait in the outbox; "
            "webhooks, reminders and digests go on."
        )
    stop = threading.Event()

    def finish(_signum: int, _frame: FrameType | None) -> None:
        stop.set()  # the message in hand is finished first

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    worker = Worker(
        settings.database_url,
        config,
        base_url=base_url,
        batch=args.batch,
        interval=args.interval,
        stop=stop,
    )
    report = worker.run(once=args.once)
    print(
        f"sent {report.sent}, to try again {report.retried}, failed {report.failed}; "
        f"reminders written {report.reminders}, digests written {report.digests}"
    )
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    """Outbox rows per status, and whether mail is configured."""
    if mail_configured():
        config = load_mail_config()
        print(f"mail: {config.describe()}, from {config.sender}")
    else:
        print("mail: not configured (set SECURESPHERE_SMTP_URL); the outbox only fills")
    with db.reading(settings.database_url) as s:
        counts = outbox_counts(s, SYSTEM)
    for status, count in counts.items():
        print(f"{STATUS_LABELS[status]}: {count}")
    return 0


def cmd_retry(settings: Settings, args: argparse.Namespace) -> int:
    """Queue one failed notification again, or every failed one."""
    with db.transaction(settings.database_url) as s:
        if args.id is not None:
            retry(s, SYSTEM, args.id)
            count = 1
        else:
            count = retry_failed(s, SYSTEM)
    print(f"queued again: {count}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add notify run, notify status and notify retry."""
    notify = sub.add_parser("notify", help="deliver notifications by e-mail, and inspect them")
    actions = notify.add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", help="send the outbox over SMTP")
    run.add_argument("--once", action="store_true", help="send what is due, then stop")
    run.add_argument("--interval", type=float, default=5.0, help="seconds between looks (5)")
    run.add_argument("--batch", type=int, default=100, help="rows read at a time (100)")
    run.set_defaults(handler=cmd_run)
    actions.add_parser("status", help="rows per status").set_defaults(handler=cmd_status)
    again = actions.add_parser("retry", help="queue failed notifications again")
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int, help="one notification's number")
    which.add_argument("--failed", action="store_true", help="every failed notification")
    again.set_defaults(handler=cmd_retry)
