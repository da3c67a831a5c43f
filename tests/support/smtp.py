"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for the mail tests.

    server = SmtpServer().start()
    ... run the worker against server.url ...
    server.inbox.wait_for(3)                      # polls with a deadline
    server.inbox.message_ids()                    # Message-ID of each message, in order
    server.stop(); server.start()                 # down and back on the same port

``inbox.refuse`` maps a recipient to a reply for its RCPT (``"451 4.3.0 try later"``),
``inbox.data_replies`` lists replies for the next messages' final line;
``inbox.on_data`` runs after a message is stored and before the server answers it (the moment
a worker that dies leaves the server holding a message it never heard accepted).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


class Inbox:
    """The aiosmtpd handler: stores each message, refuses recipients it is told to."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.refused: list[bytes] = []  # messages whose final line was refused
        self.refuse: dict[str, str] = {}
        self.data_replies: list[str] = []  # replies to the next messages' final line, then 250
        self.on_data: Callable[[int], None] | None = None
        self.on_rcpt: Callable[[int], None] | None = None  # before a recipient is answered

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options):
        if self.on_rcpt is not None:
            self.on_rcpt(self.count())
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            refusal = self.data_replies.pop(0) if self.data_replies else None
            if refusal is not None:
                self.refused.append(bytes(envelope.content))
                return refusal
        raw = bytes(envelope.content)
        message = message_from_bytes(raw, policy=default)
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message, raw)  # type: ignore[arg-type]
            )
            count = len(self.received)
        if self.on_data is not None:
            self.on_data(count)
        return "250 2.0.0 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def message_ids(self) -> list[str]:
        return [str(r.message["Message-ID"]) for r in self.messages()]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """At least count messages, polling until the deadline (then AssertionError)."""
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} messages, the server has {self.count()}")
            time.sleep(0.02)
        return self.messages()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    """aiosmtpd on 127.0.0.1; start and stop it as often as a test needs, on one port."""

    def __init__(self, inbox: Inbox | None = None, port: int | None = None) -> None:
        self.inbox = inbox or Inbox()
        self.port = port or free_port()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
