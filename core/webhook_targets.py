"""Where a webhook may post: https to public addresses only, unless the setting
``webhook_allow_private`` allows loopback and private ones (and then plain http to them, for a
test server or a receiver inside the network; never plain http to a public address). Checked at
registration and again at every delivery (core/webhook_worker.py)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from core.errors import ValidationError


def check_url(url: str, *, private_ok: bool) -> str:
    """The URL, stripped, or ValidationError (see check_target)."""
    return check_target(url, private_ok=private_ok)[0]


def check_target(url: str, *, private_ok: bool) -> tuple[str, list[str]]:
    """The URL, stripped, and the addresses its host resolves to now, or ValidationError: https
    (http only with private_ok, to a non-public address), a host that resolves, no user name or
    password in it, no non-public address unless private_ok."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 2000:
        raise ValidationError("Give the webhook's full address, starting with https://.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("Put no user name or password in the address; use the secret.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError("The address has an invalid port.") from None
    addresses = resolve(parts.hostname, port)
    public = [is_public(ip) for ip in addresses]
    if not all(public) and not private_ok:
        raise ValidationError(
            "That address is on a loopback or private network; webhooks go only to public "
            "addresses unless the setting for private addresses is on."
        )
    if parts.scheme == "http" and any(public):  # plain http only to a test or in-network receiver
        raise ValidationError("Webhooks to public addresses must use https.")
    return url, addresses


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to, or ValidationError when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ValidationError(f"The host {host} cannot be found.") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """True for a global unicast address (not loopback, private, link-local, shared, reserved)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
