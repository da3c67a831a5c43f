"""The outbox: one row per recipient and event, written in the transaction of the change itself.

Nothing is sent from inside a request. A core function that should tell someone calls
``enqueue`` (or ``enqueue_for``) before it returns; when its transaction rolls back the rows go
with it. Workers deliver the rows later: ``core/mail_worker.py`` e-mails the ``email`` channel
with retries and a stable Message-ID per row; the same rows feed the in-app bell
(``core/notify_inbox.py``). A new way out (a webhook) is another channel, and a new message
(an invitation, a password reset) is another kind: both go through ``enqueue``.

Row states: ``queued`` (due to be sent at ``next_attempt_at``), ``digest`` (waiting for the
recipient's daily digest), ``digested`` (went out inside the digest row ``digest_id``),
``sent``, ``failed`` (a dead letter: refused for good or out of attempts, ``last_error`` says
why; an admin may retry it) and ``skipped`` (in the bell only: e-mail turned off for that kind,
no address, or a demo account; ``last_error`` says which).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.models import DELIVERY_MODES, NotificationPreference, Outbox, User, utcnow

CHANNELS = ("email", "webhook")
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class Kind:
    """One kind of event: its name on the profile page, whether people may choose how it is
    delivered, and whether it shows in the bell."""

    label: str
    audience: str = "staff"  # who may choose how it reaches them: "client" or "staff"
    configurable: bool = True
    bell: bool = True


KINDS: dict[str, Kind] = {
    "submitted": Kind("An assessment is submitted for review"),
    "assigned": Kind("An assessment is assigned to me"),
    "claimed": Kind("A reviewer starts reviewing our assessment", "client"),
    "changes_requested": Kind("Changes are requested", "client"),
    "approved": Kind("An assessment is approved", "client"),
    "rejected": Kind("An assessment is rejected", "client"),
    "comment_to_client": Kind("A reviewer comments", "client"),
    "reply_to_reviewer": Kind("A client comments"),
    "due_soon": Kind("An assessment is due soon", "client"),
    "overdue": Kind("An assessment is overdue", "client"),
    "evidence_expiring": Kind("Evidence is about to expire", "client"),
    "evidence_expired": Kind("Evidence has expired", "client"),
    # Not chosen per person: always e-mailed at once, and not in the bell.
    "digest": Kind("Daily digest", configurable=False, bell=False),
    "invitation": Kind("Invitation", configurable=False, bell=False),
    "password_reset": Kind("Password reset", configurable=False, bell=False),
}
BELL_KINDS = tuple(k for k, spec in KINDS.items() if spec.bell)
MODE_LABELS = {"immediate": "Immediately", "digest": "Daily digest", "off": "Off"}


def enqueue(
    session: Session,
    *,
    kind: str,
    data: Mapping[str, Any],
    recipient: User | None = None,
    address: str = "",
    channel: str = "email",
    organization_id: int | None = None,
    assessment_id: int | None = None,
    dedupe_key: str | None = None,
    mode: str | None = None,
    now: datetime | None = None,
) -> Outbox:
    """Write one outbox row in the caller's transaction (never commits) and return it.

    ``kind`` is a key of KINDS; ``data`` is what the message says (JSON: names, the note, shared
    comments, ``link``, the page path its link opens, e.g. ``"review?assessment=12"``), checked
    by the caller against core/access for this recipient: a client's row never holds an internal
    note. Give a ``recipient`` (a user: address, preference and bell come from it) or only an
    ``address`` (an invitation to someone without an account, a webhook target on the
    ``webhook`` channel). ``dedupe_key`` makes the row once-only (reminders). ``mode`` overrides
    the recipient's preference. Rows are delivered by a worker for their channel; an
    invitation or a password reset is enqueued here with its kind, and its worker creates any
    token when it renders the message, so no secret waits in the outbox.
    """
    row = Outbox(
        **_row_values(
            session,
            kind=kind,
            data=data,
            recipient=recipient,
            address=address,
            channel=channel,
            organization_id=organization_id,
            assessment_id=assessment_id,
            dedupe_key=dedupe_key,
            mode=mode,
            now=now,
        )
    )
    session.add(row)
    return row


def _row_values(
    session: Session,
    *,
    kind: str,
    data: Mapping[str, Any],
    recipient: User | None,
    address: str,
    channel: str,
    organization_id: int | None,
    assessment_id: int | None,
    dedupe_key: str | None,
    mode: str | None,
    now: datetime | None,
) -> dict[str, Any]:
    """The columns of one new row, checked (enqueue's rules)."""
    if kind not in KINDS:
        raise ValidationError(f"Unknown notification kind {kind!r}.")
    if channel not in CHANNELS:
        raise ValidationError(f"Unknown delivery channel {channel!r}.")
    now = now or utcnow()
    if mode is None and recipient is not None and KINDS[kind].configurable:
        mode = preferences(session, [recipient.id]).get((recipient.id, kind))
    address = address or (recipient.email.strip() if recipient else "")
    status, error = _first_state(channel, address, recipient, mode or "immediate")
    return {
        "uid": secrets.token_hex(16),
        "kind": kind,
        "channel": channel,
        "recipient_id": recipient.id if recipient else None,
        "address": address,
        "organization_id": organization_id,
        "assessment_id": assessment_id,
        "data": dict(data),
        "status": status,
        "last_error": error,
        "next_attempt_at": now,
        "dedupe_key": dedupe_key,
        "created_at": now,
        "updated_at": now,
    }


def enqueue_for(
    session: Session,
    recipients: Iterable[User],
    *,
    kind: str,
    data: Mapping[str, Any],
    links: Mapping[str, str] | None = None,
    organization_id: int | None = None,
    assessment_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """One row per recipient, all in one INSERT (preferences read in one query); ``links`` maps
    a role to the page its people open (``"client"``, else ``"staff"``). Returns how many."""
    people = list(recipients)
    modes = preferences(session, [u.id for u in people])
    values = []
    for user in people:
        row_data = dict(data)
        if links:
            row_data["link"] = links["client" if user.role == "client" else "staff"]
        mode = modes.get((user.id, kind)) if KINDS[kind].configurable else None
        values.append(
            _row_values(
                session,
                kind=kind,
                data=row_data,
                recipient=user,
                address="",
                channel="email",
                organization_id=organization_id,
                assessment_id=assessment_id,
                dedupe_key=None,
                mode=mode or "immediate",
                now=now,
            )
        )
    if values:
        session.execute(insert(Outbox), values)
    return len(values)


def _first_state(channel: str, address: str, recipient: User | None, mode: str) -> tuple[str, str]:
    if channel != "email":
        return "queued", ""
    if recipient is not None and recipient.is_demo:
        return "skipped", "Demo accounts get no e-mail."
    if not address:
        return "skipped", "No e-mail address."
    if mode == "off":
        return "skipped", "E-mail is turned off for this kind of event."
    return ("digest", "") if mode == "digest" else ("queued", "")


def preferences(session: Session, user_ids: list[int]) -> dict[tuple[int, str], str]:
    """Stored choices (user id, kind) -> mode; a missing one means immediately."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(
            NotificationPreference.user_id, NotificationPreference.kind, NotificationPreference.mode
        ).where(NotificationPreference.user_id.in_(user_ids))
    )
    return {(uid, kind): mode for uid, kind, mode in rows}


def check_mode(mode: str) -> str:
    """A delivery mode, or ValidationError naming the allowed ones."""
    if mode not in DELIVERY_MODES:
        raise ValidationError("Choose immediately, daily digest or off.")
    return mode


# ------------------------------------------------------------------ delivery state, for workers


def claim(
    connection: Connection, row_id: int, now: datetime, *, lease_seconds: float = 300
) -> bool:
    """Take a due queued row for one try (a conditional update, so only one worker wins); the
    caller commits at once, then sends. The try is counted and the row leased: it stays queued
    but is not due again for ``lease_seconds``, so the row of a worker that died holding it comes
    back by itself. True when this worker has it."""
    result = connection.execute(
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.status == "queued", Outbox.next_attempt_at <= now)
        .values(
            attempts=Outbox.attempts + 1,
            next_attempt_at=now + timedelta(seconds=lease_seconds),
            updated_at=now,
        )
    )
    return result.rowcount == 1


def mark_sent(connection: Connection, row_id: int, reply: str, now: datetime) -> None:
    """The receiver accepted a claimed row: sent, with its reply; the caller commits at once."""
    connection.execute(
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.status == "queued")
        .values(status="sent", sent_at=now, last_error="", reply=reply[:500], updated_at=now)
    )


def retry_later(
    connection: Connection,
    row_id: int,
    error: str,
    now: datetime,
    *,
    max_attempts: int,
    retry_seconds: int,
    claimed: bool,
    permanent: bool = False,
    wait: bool = True,
) -> str:
    """Put a row whose try failed back in the queue with a doubled wait (none with wait=False: the
    connection broke, and the worker pauses before it connects again), or keep it as failed when
    it was refused for good or used its last try. Returns the new status."""
    row = connection.execute(select(Outbox.attempts).where(Outbox.id == row_id)).one()
    attempts = row.attempts if claimed else row.attempts + 1
    pause = min(timedelta(seconds=retry_seconds * 2 ** (attempts - 1)), MAX_BACKOFF)
    status = "failed" if permanent or attempts >= max_attempts else "queued"
    connection.execute(
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.status == "queued")  # never undo another's "sent"
        .values(
            status=status,
            attempts=attempts,
            sent_at=None,
            last_error=error[:2000],
            next_attempt_at=now + pause if wait else now,
            updated_at=now,
        )
    )
    return status


def note_error(connection: Connection, row_id: int, error: str, now: datetime) -> None:
    """Show why the worker could not reach the mail server on the row it was about to send,
    without spending one of its tries (the server is down, not the message wrong)."""
    connection.execute(
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.status == "queued")
        .values(last_error=error[:2000], updated_at=now)
    )
