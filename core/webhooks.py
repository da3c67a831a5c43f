"""Webhooks: an admin registers an HTTPS endpoint, a secret and the events it wants; each event
is one outbox row per subscribed webhook (channel "webhook"), written in the transaction of the
change, and core/webhook_worker.py posts it, signed.

Each delivery is a JSON body with three headers: ``X-SecureSphere-Event`` (the event's name),
``X-SecureSphere-Delivery`` (the outbox row's uid: the same on every try, so a receiver can
drop repeats) and ``X-SecureSphere-Signature: t=<unix time>,v1=<hex>``, where the hex is
HMAC-SHA256 with the webhook's secret over ``"<t>." + body``. A receiver recomputes it, compares
in constant time and refuses a ``t`` older than its replay window (``verify_signature``).

Where a webhook may post (https, public addresses unless allowed) is core/webhook_targets.py.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_role
from core.errors import NotFound, ValidationError
from core.models import Assessment, Outbox, Webhook, WebhookAttempt, utcnow
from core.outbox import enqueue
from core.settings import get_settings
from core.webhook_targets import check_url

# The events a webhook may ask for (outbox kinds) and their names on the admin page.
EVENTS = {
    "submitted": "An assessment is submitted",
    "assigned": "An assessment is assigned to a reviewer",
    "claimed": "A reviewer starts a review",
    "changes_requested": "Changes are requested",
    "approved": "An assessment is approved",
    "rejected": "An assessment is rejected",
    "comment_to_client": "A reviewer writes a shared comment",
    "reply_to_reviewer": "A client writes a comment",
}
SECRET_MIN, SECRET_MAX = 24, 200
_SECRET = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces
REPLAY_WINDOW = 300  # seconds a receiver should accept a signature's time, either way


@dataclass(frozen=True)
class WebhookItem:
    """A webhook as the admin page lists it (never its secret)."""

    id: int
    url: str
    events: list[str]
    enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class AttemptItem:
    """One delivery attempt: when, to which webhook, what came back."""

    attempted_at: datetime
    url: str
    event: str
    status_code: int | None
    latency_ms: float
    error: str


def allow_private(session: Session) -> bool:
    """Whether webhooks may reach loopback and private addresses (the setting)."""
    return bool(get_settings(session)["webhook_allow_private"] == "on")


def check_events(events: list[str]) -> list[str]:
    """The events, deduplicated in the list's order, or ValidationError naming unknown ones."""
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise ValidationError(f"Unknown events: {', '.join(map(str, unknown))}.")
    if not events:
        raise ValidationError("Choose at least one event.")
    return list(dict.fromkeys(events))


def check_secret(secret: str) -> str:
    """A secret of 24 to 200 printable characters without spaces, or ValidationError."""
    if not SECRET_MIN <= len(secret) <= SECRET_MAX or not _SECRET.fullmatch(secret):
        raise ValidationError(
            f"The secret must be {SECRET_MIN} to {SECRET_MAX} characters, without spaces."
        )
    return secret


def create_webhook(
    session: Session,
    actor: Actor,
    *,
    url: str,
    events: list[str],
    secret: str | None = None,
    now: datetime | None = None,
) -> tuple[Webhook, str]:
    """Register a webhook (admins only, audited without its secret); returns it and its secret,
    generated when none is given, which is never shown again."""
    require_role(actor, "admin")
    url = check_url(url, private_ok=allow_private(session))
    events = check_events(events)
    secret = check_secret(secret) if secret else "whsec_" + secrets.token_urlsafe(32)
    now = now or utcnow()
    hook = Webhook(
        url=url,
        secret=secret,
        events=events,
        enabled=True,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(hook)
    session.flush()
    _audit(session, actor, "webhook_created", hook, now, events=events)
    return hook, secret


def set_enabled(
    session: Session, actor: Actor, webhook_id: int, enabled: bool, *, now: datetime | None = None
) -> None:
    """Turn a webhook on or off (admins only, audited); while off, its deliveries fail."""
    require_role(actor, "admin")
    hook = _get(session, webhook_id)
    now = now or utcnow()
    hook.enabled, hook.updated_at = enabled, now
    _audit(session, actor, "webhook_enabled" if enabled else "webhook_disabled", hook, now)


def delete_webhook(
    session: Session, actor: Actor, webhook_id: int, *, now: datetime | None = None
) -> None:
    """Remove a webhook and its attempt log (admins only, audited); its queued deliveries fail."""
    require_role(actor, "admin")
    hook = _get(session, webhook_id)
    now = now or utcnow()
    _audit(session, actor, "webhook_deleted", hook, now)
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.webhook_id == hook.id))
    session.delete(hook)


def _get(session: Session, webhook_id: int) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound("That webhook does not exist.")
    return hook


def _audit(
    session: Session, actor: Actor, action: str, hook: Webhook, now: datetime, **detail: Any
) -> None:
    audit.record(
        session,
        actor,
        action,
        object_type="webhook",
        object_id=hook.id,
        detail={"host": urlsplit(hook.url).hostname or "", **detail},  # a path may hold a token
        now=now,
    )


def list_webhooks(session: Session, actor: Actor) -> list[WebhookItem]:
    """Every webhook, oldest first, without secrets (admins only)."""
    require_role(actor, "admin")
    return [
        WebhookItem(h.id, h.url, list(h.events), h.enabled, h.created_at)
        for h in session.scalars(select(Webhook).order_by(Webhook.id))
    ]


def latest_attempts(session: Session, actor: Actor, *, limit: int = 100) -> list[AttemptItem]:
    """The newest delivery attempts of every webhook (admins only)."""
    require_role(actor, "admin")
    rows = session.execute(
        select(WebhookAttempt, Webhook.url, Outbox.kind)
        .join(Webhook, Webhook.id == WebhookAttempt.webhook_id)
        .join(Outbox, Outbox.id == WebhookAttempt.outbox_id)
        .order_by(WebhookAttempt.attempted_at.desc(), WebhookAttempt.id.desc())
        .limit(limit)
    )
    return [
        AttemptItem(a.attempted_at, url, kind, a.status_code, a.latency_ms, a.error)
        for a, url, kind in rows
    ]


def enqueue_event(
    session: Session, kind: str, assessment: Assessment, facts: dict[str, Any], now: datetime
) -> int:
    """One outbox row per enabled webhook that asked for this event, in the caller's
    transaction; the body holds facts only (no note, no comment). Returns how many."""
    if kind not in EVENTS:
        return 0
    hooks = [h for h in session.scalars(select(Webhook).where(Webhook.enabled)) if kind in h.events]
    body = {
        "event": kind,
        "time": now.isoformat().replace("+00:00", "Z"),
        "assessment": {
            "id": assessment.id,
            "product": facts["product"],
            "organization": facts["organization"],
            "round": assessment.round,
            "status": assessment.status,
        },
        "link": f"review?assessment={assessment.id}",
    }
    for hook in hooks:
        enqueue(
            session,
            kind=kind,
            channel="webhook",
            data={"webhook_id": hook.id, "body": body},
            address=urlsplit(hook.url).hostname or "",
            organization_id=assessment.organization_id,
            assessment_id=assessment.id,
            now=now,
        )
    return len(hooks)


def subject(kind: str, data: dict[str, Any]) -> str:
    """A webhook row in words for the outbox list: "Webhook: An assessment is submitted (Web
    Shop)"."""
    product = data.get("body", {}).get("assessment", {}).get("product", "")
    return f"Webhook: {EVENTS.get(kind, kind)}" + (f" ({product})" if product else "")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The X-SecureSphere-Signature header's value for this body at this time."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(
    secret: str, header: str, body: bytes, *, now: float | None = None, window: int = REPLAY_WINDOW
) -> bool:
    """What a receiver does: the header's time within the window of now, and its v1 equal (in
    constant time) to the HMAC of "<t>." + body."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > window:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
