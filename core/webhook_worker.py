"""The webhook worker: posts the outbox's webhook rows, signed (core/webhooks.py), from the mail
worker's loop (``python -m core.cli notify run``), with the same rules as e-mail.

Each row is claimed in its own committed transaction (the try counted, the row leased for the
lease, at least twice the request timeout), then posted, and marked sent only after a 2xx
answer, committed at once with the attempt's log row (status code, latency, error). A kill
before the claim leaves the row due; after it, the row comes back when the lease runs out.
Between the receiver's 2xx and our commit a kill means the same delivery (same
``X-SecureSphere-Delivery`` id, same body) is posted again: receivers drop repeats by that id.
Any other answer, a timeout or a refused connection is retried with the doubling wait of
``notify_retry_seconds`` and kept as failed after ``notify_max_attempts`` tries.

The host is resolved again at every try and each address checked (no loopback or private
address unless ``webhook_allow_private``); the request then goes to the checked address itself,
with the host name kept for the Host header and TLS (SNI and certificate), and redirects are
not followed, so a name that changes its answer between check and connect (DNS rebinding)
cannot move the request elsewhere.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import Row, insert, select
from sqlalchemy.engine import Connection, Engine

from core.errors import ValidationError
from core.models import Outbox, Webhook, WebhookAttempt, utcnow
from core.outbox import claim, mark_sent, retry_later
from core.webhook_targets import check_target
from core.webhooks import sign

log = logging.getLogger(__name__)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "SecureSphere-Webhooks/1"


def deliver_due(
    engine: Engine,
    settings: dict[str, Any],
    *,
    base_url: str = "",
    batch: int = 100,
    lease_seconds: float = 300,
    stop: threading.Event | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Post up to one batch of due webhook rows; counts of "sent", "queued" (to try again),
    "failed" and "lost" (another worker had it). ``now`` is for tests that step the clock."""
    counts = dict.fromkeys(("sent", "queued", "failed", "lost"), 0)
    rows = _due(engine, now or utcnow(), batch)
    if not rows:  # the usual case: no client (and its TLS context) to build
        return counts
    lease = max(lease_seconds, 2 * float(TIMEOUT.read or 10))
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
        for row in rows:
            if stop is not None and stop.is_set():
                break
            counts[_deliver(engine, client, row, settings, base_url, lease, now)] += 1
    return counts


def _due(engine: Engine, now: datetime, batch: int) -> list[Row[Any]]:
    with engine.connect() as c:
        return list(
            c.execute(
                select(Outbox.id, Outbox.uid, Outbox.kind, Outbox.data)
                .where(
                    Outbox.channel == "webhook",
                    Outbox.status == "queued",
                    Outbox.next_attempt_at <= now,
                )
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(batch)
            )
        )


def _deliver(
    engine: Engine,
    client: httpx.Client,
    row: Row[Any],
    settings: dict[str, Any],
    base_url: str,
    lease: float,
    now: datetime | None,
) -> str:
    tries, wait = int(settings["notify_max_attempts"]), int(settings["notify_retry_seconds"])
    with engine.begin() as c:
        hook = c.execute(
            select(Webhook.id, Webhook.url, Webhook.secret, Webhook.enabled).where(
                Webhook.id == row.data["webhook_id"]
            )
        ).first()
        if hook is None or not hook.enabled:
            why = "The webhook was deleted." if hook is None else "The webhook is turned off."
            return retry_later(
                c,
                row.id,
                why,
                now or utcnow(),
                max_attempts=1,
                retry_seconds=wait,
                claimed=False,
                permanent=True,
            )
        if not claim(c, row.id, now or utcnow(), lease_seconds=lease):
            return "lost"
    started = time.perf_counter()
    code, error = _post(client, hook, row, settings, base_url)
    latency = (time.perf_counter() - started) * 1000
    with engine.begin() as c:  # at once: from the 2xx to this commit, a kill posts it again
        _log_attempt(c, hook.id, row.id, code, latency, error, now or utcnow())
        if code is not None and 200 <= code < 300:
            mark_sent(c, row.id, f"HTTP {code}", now or utcnow())
            return "sent"
        status = retry_later(
            c, row.id, error, now or utcnow(), max_attempts=tries, retry_seconds=wait, claimed=True
        )
    log.warning("webhook not delivered", extra={"row": row.id, "error": error})
    return status


def _post(
    client: httpx.Client, hook: Any, row: Row[Any], settings: dict[str, Any], base_url: str
) -> tuple[int | None, str]:
    """Post the row's body to the checked address; (status code or None, error words)."""
    private_ok = settings["webhook_allow_private"] == "on"
    try:
        targets, host = pinned(hook.url, private_ok=private_ok)
    except ValidationError as exc:
        return None, f"Not sent: {exc}"
    body = json.dumps(payload(row, base_url), sort_keys=True, separators=(",", ":")).encode()
    headers = {
        "Host": host,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-SecureSphere-Event": row.kind,
        "X-SecureSphere-Delivery": row.uid,
        "X-SecureSphere-Signature": sign(hook.secret, body, int(time.time())),
    }
    sni = urlsplit(hook.url).hostname or ""
    for n, target in enumerate(targets):  # the next checked address only if this one refused
        try:
            response = client.post(
                target, content=body, headers=headers, extensions={"sni_hostname": sni}
            )
            break
        except httpx.ConnectError as exc:
            if n == len(targets) - 1:
                return None, f"No answer from the receiver: {exc or type(exc).__name__}."
        except httpx.HTTPError as exc:
            return None, f"No answer from the receiver: {exc or type(exc).__name__}."
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"The receiver answered {response.status_code}."


def payload(row: Row[Any], base_url: str) -> dict[str, Any]:
    """The JSON body: the event's facts, the delivery id and the absolute link."""
    body = dict(row.data["body"])
    body["delivery"] = row.uid
    body["link"] = f"{base_url.rstrip('/')}/{body['link']}" if base_url else body["link"]
    return body


def pinned(url: str, *, private_ok: bool) -> tuple[list[str], str]:
    """The URL checked again now, rewritten to each address that was checked, and the Host
    header (the original host and port); ValidationError when an address is not allowed."""
    url, addresses = check_target(url, private_ok=private_ok)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    netlocs = [f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}" for ip in addresses]
    path = parts.path or "/"
    return [urlunsplit((parts.scheme, n, path, parts.query, "")) for n in netlocs], host_header


def _log_attempt(
    c: Connection,
    webhook_id: int,
    row_id: int,
    code: int | None,
    latency: float,
    error: str,
    now: datetime,
) -> None:
    c.execute(
        insert(WebhookAttempt).values(
            webhook_id=webhook_id,
            outbox_id=row_id,
            attempted_at=now,
            status_code=code,
            latency_ms=round(latency, 1),
            error=error[:500],
        )
    )
