"""How the mail worker reaches its SMTP server, from SECURESPHERE_SMTP_URL, SECURESPHERE_MAIL_FROM
and SECURESPHERE_BASE_URL; a bad value is a ConfigError with one line that names the variable.

``smtp://user:pass@host:587?starttls=1`` (plain SMTP, upgraded with STARTTLS), ``smtps://host``
(TLS from the first byte, port 465 by default), ``smtp://host:25`` (no TLS: a relay on the same
machine only). Query options: ``starttls=0|1``, ``timeout=SECONDS`` (default 30). User and
password are percent-decoded. Certificates are checked against the system's trust store (or
the file SSL_CERT_FILE names).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import parse_qsl, unquote, urlsplit

from core.errors import ConfigError

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
OPTIONS = ("starttls", "timeout")


@dataclass(frozen=True)
class MailConfig:
    """Everything the worker needs to send: server, sender and the address links point to."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str
    password: str
    timeout: float
    sender: Address
    base_url: str

    @property
    def domain(self) -> str:
        """The right-hand side of every Message-ID."""
        return self.sender.domain

    def describe(self) -> str:
        """The server as an operator reads it, without the password."""
        tls = "TLS" if self.implicit_tls else "STARTTLS" if self.starttls else "no TLS"
        return f"{self.host}:{self.port} ({tls})"


def mail_configured(env: Mapping[str, str] | None = None) -> bool:
    """True when an SMTP server is set (whether its settings are valid or not)."""
    env = os.environ if env is None else env
    return bool((env.get("SECURESPHERE_SMTP_URL") or "").strip())


def load_mail_config(env: Mapping[str, str] | None = None) -> MailConfig:
    """The worker's settings, or ConfigError naming what is missing or wrong."""
    env = os.environ if env is None else env
    raw = (env.get("SECURESPHERE_SMTP_URL") or "").strip()
    if not raw:
        raise ConfigError(
            "Mail is not configured: set SECURESPHERE_SMTP_URL (for example "
            "smtp://user:pass@mail.example.com:587?starttls=1)."
        )
    return replace(
        _server(raw),
        sender=_sender(env.get("SECURESPHERE_MAIL_FROM") or ""),
        base_url=_base_url(env.get("SECURESPHERE_BASE_URL") or ""),
    )


def load_base_url(env: Mapping[str, str] | None = None) -> str:
    """SECURESPHERE_BASE_URL alone, for a worker that delivers webhooks without mail."""
    env = os.environ if env is None else env
    return _base_url(env.get("SECURESPHERE_BASE_URL") or "")


def _server(raw: str) -> MailConfig:
    where = "SECURESPHERE_SMTP_URL"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{where} is not a valid URL ({exc}).") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise ConfigError(f"{where} must start with smtp:// or smtps://, not {parts.scheme!r}.")
    if not parts.hostname:
        raise ConfigError(f"{where} names no mail server host.")
    if parts.path not in ("", "/"):
        raise ConfigError(f"{where} must not have a path ({parts.path!r}).")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ConfigError(f"{where} has unknown options {', '.join(unknown)}; known: starttls.")
    starttls = options.get("starttls", "0")
    if starttls not in ("0", "1"):
        raise ConfigError(f"{where}: starttls must be 0 or 1, not {starttls!r}.")
    if parts.scheme == "smtps" and starttls == "1":
        raise ConfigError(f"{where}: smtps:// is TLS already; starttls=1 is for smtp:// only.")
    return MailConfig(
        host=parts.hostname,
        port=port or DEFAULT_PORTS[parts.scheme],
        implicit_tls=parts.scheme == "smtps",
        starttls=starttls == "1",
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        timeout=_timeout(options.get("timeout", "30")),
        sender=Address("SecureSphere", "noreply", "example.com"),  # replaced by the caller
        base_url="",
    )


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 1 <= value <= 600:
        raise ConfigError(f"SECURESPHERE_SMTP_URL: timeout must be 1 to 600 seconds, not {text!r}.")
    return value


def _sender(raw: str) -> Address:
    where = "SECURESPHERE_MAIL_FROM"
    if not raw.strip():
        raise ConfigError(
            f"{where} is not set: the address messages come from, e.g. "
            "SecureSphere <noreply@example.com>."
        )
    if any(c in raw for c in "\r\n"):
        raise ConfigError(f"{where} must be one line.")
    name, addr = parseaddr(raw)
    try:
        address = Address(display_name=name, addr_spec=addr)
    except (HeaderParseError, ValueError, IndexError):
        address = None
    if address is None or not address.username or "." not in address.domain:
        raise ConfigError(f"{where} is not an e-mail address: {raw!r}.")
    return address


def _base_url(raw: str) -> str:
    where = "SECURESPHERE_BASE_URL"
    raw = raw.strip()
    if not raw:
        raise ConfigError(
            f"{where} is not set: the address people open SecureSphere at, for the links "
            "in messages (e.g. https://securesphere.example.com)."
        )
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConfigError(f"{where} must be an http:// or https:// address, not {raw!r}.")
    return raw.rstrip("/")
