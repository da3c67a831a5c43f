"""Opening an SMTP connection as SECURESPHERE_SMTP_URL says: TLS or STARTTLS, sign-in; a server
that cannot be reached or refuses us is ServerUnreachable (no message's fault)."""

from __future__ import annotations

import smtplib
import socket
import ssl

from core.errors import SecureSphereError
from core.mail_config import MailConfig


class ServerUnreachable(SecureSphereError):
    """The mail server cannot be reached or refuses us (not one message's fault)."""


def connect(config: MailConfig, local_hostname: str | None = None) -> smtplib.SMTP:
    """An open, greeted (and where configured, encrypted and signed-in) SMTP connection."""
    context = ssl.create_default_context()
    name = local_hostname or socket.gethostname()
    try:
        if config.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host,
                config.port,
                local_hostname=name,
                timeout=config.timeout,
                context=context,
            )
        else:
            smtp = smtplib.SMTP(
                config.host, config.port, local_hostname=name, timeout=config.timeout
            )
        # Small writes go out at once: the final "." right after the body would otherwise wait
        # for the server's delayed acknowledgement (Nagle's algorithm), 40 ms per message.
        if smtp.sock is not None:
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp.ehlo()
        if config.starttls:
            smtp.starttls(context=context)
            smtp.ehlo()
        if config.username:
            smtp.login(config.username, config.password)
    except smtplib.SMTPAuthenticationError:
        raise ServerUnreachable(
            f"The mail server {config.describe()} refused the user name or password."
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise ServerUnreachable(
            f"Cannot reach the mail server {config.describe()}: {exc or type(exc).__name__}."
        ) from None
    return smtp
