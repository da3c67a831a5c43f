"""The mail worker: delivers the outbox's e-mail rows over SMTP, with retries, backoff and a
dead letter after ``notify_max_attempts`` tries, and hands the webhook rows to
core/webhook_worker.py in the same loop; ``python -m core.cli notify run`` starts it.

The guarantee: a worker killed at any moment and started again delivers every message. Each
row goes MAIL, RCPT, DATA (nothing the server could deliver yet), then is claimed in its own
committed transaction (a conditional update: one worker wins; the try is counted and the row
leased, due again only after ``notify_lease_seconds``), then the body and its final ".", and is
marked sent only after the server's 250, committed at once. A kill before the claim leaves the
row queued and due; a kill after it leaves the row leased, and once the lease runs out any
worker sends it again. What remains is a duplicate, never a loss: between the server's 250 (it
has taken the message) and our commit, a kill (or a connection that breaks before its reply
arrives) means the message is sent again after the lease, with the same Message-ID
(``<uid@sender-domain>`` on every try), which mail clients and receivers use to fold the two
together. The lease is at least twice the SMTP timeout, so a slow live worker keeps its row.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.engine import Engine

from core import db
from core.mail_config import MailConfig
from core.mail_messages import build_message, describe
from core.mail_smtp import ServerUnreachable, connect
from core.models import Outbox, User, utcnow
from core.notify_schedule import compile_digests, enqueue_reminders
from core.outbox import claim, mark_sent, note_error, retry_later
from core.settings import get_settings
from core.webhook_worker import deliver_due

log = logging.getLogger(__name__)
MAX_PAUSE = 60.0  # longest wait between tries to reach a mail server that is down
_LINE_START_DOT = re.compile(rb"(?m)^\.")


class _Refused(Exception):
    def __init__(self, step: str, code: int, reply: bytes) -> None:
        super().__init__(f"The mail server refused {step}: {code} {reply.decode(errors='replace')}")
        self.permanent = 500 <= code < 600


@dataclass
class Report:
    """What one worker run did (sent, retried and failed count e-mails and webhooks alike)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost_to_other_worker: int = 0
    reminders: int = 0
    digests: int = 0


class Worker:
    """Delivers due e-mail rows in batches; one instance per process. Without a mail config
    (no SMTP server set) it delivers webhooks and writes reminders and digests, and the e-mail
    rows wait in the outbox; links in webhook bodies then start at `base_url`."""

    def __init__(
        self,
        url: str,
        config: MailConfig | None,
        *,
        base_url: str = "",
        batch: int = 100,
        interval: float = 5.0,
        stop: threading.Event | None = None,
    ) -> None:
        self.url, self.config, self.batch, self.interval = url, config, batch, interval
        self.base_url = config.base_url if config else base_url
        self.stop = stop or threading.Event()
        self.engine: Engine = db.get_engine(url)
        self.report = Report()
        self.timeout = config.timeout if config else 0.0
        self.lease = 2 * self.timeout  # until run_batch reads notify_lease_seconds
        self._smtp: smtplib.SMTP | None = None
        self._hostname = socket.gethostname()

    def run(self, *, once: bool = False) -> Report:
        """Deliver until stopped (or, with once, until nothing is due; a server that cannot be
        reached then raises ServerUnreachable)."""
        pauses = 0
        while not self.stop.is_set():
            try:
                busy = self.run_batch()
                pauses = 0
            except ServerUnreachable as exc:
                self._hang_up(polite=False)
                if once:
                    raise
                pauses += 1
                log.warning("mail server unreachable", extra={"error": str(exc)})
                self.stop.wait(min(self.interval * 2**pauses, MAX_PAUSE))
                continue
            if not busy:
                self._hang_up()
                if once:
                    break
                self.stop.wait(self.interval)
        self._hang_up()
        return self.report

    def run_batch(self) -> bool:
        """Write what the clock owes (reminders, digests), then send up to one batch of due rows;
        True when a full batch was found (more may be waiting)."""
        now = utcnow()
        with db.transaction(self.url) as s:
            self.report.reminders += enqueue_reminders(s, now=now)
            self.report.digests += compile_digests(s, now=now)
            settings = get_settings(s)
        self.lease = max(float(settings["notify_lease_seconds"]), 2 * self.timeout)
        hooks = deliver_due(
            self.engine,
            settings,
            base_url=self.base_url,
            batch=self.batch,
            lease_seconds=self.lease,
            stop=self.stop,
        )  # first: a mail server that is down must not hold them up
        self.report.sent += hooks["sent"]
        self.report.retried += hooks["queued"]
        self.report.failed += hooks["failed"]
        self.report.lost_to_other_worker += hooks["lost"]
        rows = self._due(now) if self.config else []
        for row in rows:
            if self.stop.is_set():
                break
            self._deliver(
                row, int(settings["notify_max_attempts"]), int(settings["notify_retry_seconds"])
            )
        return len(rows) == self.batch or sum(hooks.values()) == self.batch

    def _due(self, now: datetime) -> list[Row[Any]]:
        with db.reading(self.url) as s:
            return list(
                s.execute(
                    select(
                        Outbox.id,
                        Outbox.uid,
                        Outbox.kind,
                        Outbox.address,
                        Outbox.data,
                        Outbox.created_at,
                        User.name,
                    )
                    .outerjoin(User, User.id == Outbox.recipient_id)
                    .where(
                        Outbox.channel == "email",
                        Outbox.status == "queued",
                        Outbox.next_attempt_at <= now,
                    )
                    .order_by(Outbox.next_attempt_at, Outbox.id)
                    .limit(self.batch)
                )
            )

    def _connection(self) -> smtplib.SMTP:
        assert self.config is not None  # e-mail rows are only read with a mail config
        if self._smtp is None:
            self._smtp = connect(self.config, self._hostname)
        return self._smtp

    def _hang_up(self, *, polite: bool = True) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            if polite:
                smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        smtp.close()

    def _deliver(self, row: Row[Any], max_attempts: int, retry_seconds: int) -> None:
        try:
            smtp = self._connection()
        except ServerUnreachable as exc:
            with self.engine.begin() as c:
                note_error(c, row.id, str(exc), utcnow())
            raise
        claimed = False
        try:
            payload = self._payload(row)
            self._open_data(smtp, row)
            with self.engine.begin() as c:
                claimed = claim(c, row.id, utcnow(), lease_seconds=self.lease)
            if not claimed:  # another worker has it: leave before the body, the server drops it
                self._hang_up(polite=False)
                self.report.lost_to_other_worker += 1
                return
            smtp.send(payload + b".\r\n")
            code, reply = smtp.getreply()
            if code != 250:
                raise _Refused("the message", code, reply)
        except _Refused as exc:
            self._failed(row.id, str(exc), max_attempts, retry_seconds, claimed, exc.permanent)
            self._reset(smtp)
            return
        except ValueError as exc:  # the message cannot be written (a malformed address)
            self._failed(
                row.id, f"The message cannot be sent: {exc}.", 1, retry_seconds, False, True
            )
            return
        except (OSError, smtplib.SMTPException) as exc:
            self._hang_up(polite=False)
            error = f"The connection to the mail server broke: {exc or type(exc).__name__}."
            self._failed(row.id, error, max_attempts, retry_seconds, claimed, False, wait=False)
            raise ServerUnreachable(error) from None  # pause, then connect again
        with self.engine.begin() as c:  # at once: from the 250 to this commit, a kill resends
            mark_sent(c, row.id, f"{code} {reply.decode(errors='replace')}", utcnow())
        self.report.sent += 1

    def _payload(self, row: Row[Any]) -> bytes:
        assert self.config is not None
        message = build_message(
            describe(row.kind, row.data),
            sender=self.config.sender,
            to_address=row.address,
            to_name=row.name or "",
            message_id=f"<{row.uid}@{self.config.domain}>",
            base_url=self.config.base_url,
            when=row.created_at,
        )
        data = _LINE_START_DOT.sub(b"..", message.as_bytes())
        return data if data.endswith(b"\r\n") else data + b"\r\n"

    def _open_data(self, smtp: smtplib.SMTP, row: Row[Any]) -> None:
        """MAIL, RCPT and DATA: nothing the server could deliver yet, so no try is spent."""
        assert self.config is not None
        code, reply = smtp.mail(self.config.sender.addr_spec)
        if code != 250:  # every message would be refused alike: the server's problem, or ours
            self._hang_up(polite=False)
            error = f"The mail server refused the sender {self.config.sender.addr_spec}: {code} "
            with self.engine.begin() as c:
                note_error(c, row.id, error + reply.decode(errors="replace"), utcnow())
            raise ServerUnreachable(error + reply.decode(errors="replace"))
        code, reply = smtp.rcpt(row.address)
        if code not in (250, 251):
            raise _Refused(f"the recipient {row.address}", code, reply)
        code, reply = smtp.docmd("DATA")
        if code != 354:
            raise _Refused("the message", code, reply)

    def _failed(
        self,
        row_id: int,
        error: str,
        max_attempts: int,
        retry_seconds: int,
        claimed: bool,
        permanent: bool,
        *,
        wait: bool = True,
    ) -> None:
        with self.engine.begin() as c:
            status = retry_later(
                c,
                row_id,
                error,
                utcnow(),
                max_attempts=max_attempts,
                retry_seconds=retry_seconds,
                claimed=claimed,
                permanent=permanent,
                wait=wait,
            )
        log.warning("notification not delivered", extra={"row": row_id, "error": error})
        if status == "failed":
            self.report.failed += 1
        else:
            self.report.retried += 1

    def _reset(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._hang_up(polite=False)
