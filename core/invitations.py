"""Invitations: an admin (or, with the setting ``client_invitations``, a client for their own
organisation) invites an e-mail address with a role; the invitee opens the single-use link,
chooses a username and a password under the policy, and has an account.

The link itself is core/links.py; the message goes through the outbox in the same transaction.
Re-sending revokes the older link. Issue, re-send, revocation and use are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from core import audit, links, outbox
from core.access import ROLES, SYSTEM, Actor, require_role
from core.errors import AccessDenied, NotFound, ValidationError
from core.labels import role_label
from core.models import LinkToken, Organization, User, utcnow
from core.settings import get_settings
from core.users import EMAIL_RE, create_user

PURPOSE = "invitation"
CLIENTS_MAY_NOT = "Clients may not invite colleagues here; ask an administrator to add them."


@dataclass(frozen=True)
class Invitation:
    """An invitation as the Users page lists it: never its token."""

    id: int
    email: str
    role: str
    organization: str
    invited_by: str
    created_at: datetime
    expires_at: datetime
    state: str  # pending, expired, used or revoked


@dataclass(frozen=True)
class Landing:
    """What the invitation page shows the invitee before they choose a password."""

    email: str
    role: str
    organization: str
    suggested_username: str


def clean_email(email: str) -> str:
    """An address, stripped and lower-cased, or ValidationError."""
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise ValidationError("Enter a valid e-mail address.")
    return email


def _account_exists(session: Session, email: str) -> bool:
    return session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None


def _allowed(
    session: Session, actor: Actor, role: str, organization_id: int | None
) -> tuple[str, int | None]:
    """The role and organisation the actor may invite into; clients only their own, as clients."""
    require_role(actor, "admin", "client")
    if actor.is_client:
        if get_settings(session)["client_invitations"] != "on":
            raise AccessDenied(CLIENTS_MAY_NOT)
        if role != "client" or organization_id not in (None, actor.organization_id):
            raise AccessDenied("You may invite colleagues of your own organisation only.")
        organization_id = actor.organization_id
    if role not in ROLES:
        raise ValidationError(f"Role must be one of {', '.join(ROLES)}.")
    if role != "client":
        return role, None
    org = session.get(Organization, organization_id) if organization_id is not None else None
    if org is None or not org.is_active:
        raise ValidationError("A client is invited into an active organisation: choose one.")
    return role, org.id


def invite(
    session: Session,
    actor: Actor,
    *,
    email: str,
    role: str,
    organization_id: int | None = None,
    now: datetime | None = None,
) -> LinkToken:
    """Invite an address (refused when an account has it); an older pending invitation of the
    same address is revoked. The e-mail is queued in this transaction."""
    now = now or utcnow()
    email = clean_email(email)
    role, organization_id = _allowed(session, actor, role, organization_id)
    if _account_exists(session, email):
        raise ValidationError("An account with this e-mail address already exists.")
    for old in links.revoke_pending(session, PURPOSE, email=email, now=now):
        _audit(session, actor, "invitation_revoked", old, now, replaced=True)
    row, nonce = links.issue(
        session,
        purpose=PURPOSE,
        email=email,
        role=role,
        organization_id=organization_id,
        created_by_id=actor.user_id,
        valid_for=timedelta(days=int(get_settings(session)["invitation_valid_days"])),
        now=now,
    )
    org = session.get(Organization, organization_id) if organization_id else None
    inviter = session.get(User, actor.user_id) if actor.user_id else None
    outbox.enqueue(
        session,
        kind="invitation",
        address=email,
        organization_id=organization_id,
        data={
            "purpose": PURPOSE,
            "nonce": nonce,
            "inviter": inviter.name if inviter else "An administrator",
            "role": role_label(role),
            "organization": org.name if org else "",
            "expires_at": row.expires_at.isoformat(),
        },
        now=now,
    )
    _audit(session, actor, "invitation_created", row, now)
    return row


def _audit(
    session: Session, actor: Actor, action: str, row: LinkToken, now: datetime, **extra: object
) -> None:
    detail = {"email": row.email, "role": row.role, "organization_id": row.organization_id}
    audit.record(
        session,
        actor,
        action,
        object_type="invitation",
        object_id=row.id,
        detail={**detail, **extra},
        now=now,
    )


def _own(session: Session, actor: Actor, invitation_id: int) -> LinkToken:
    """An invitation the actor may manage: admins any; clients (setting on) their organisation's."""
    require_role(actor, "admin", "client")
    if actor.is_client and get_settings(session)["client_invitations"] != "on":
        raise AccessDenied(CLIENTS_MAY_NOT)
    row = session.get(LinkToken, invitation_id)
    if (
        row is None
        or row.purpose != PURPOSE
        or (actor.is_client and row.organization_id != actor.organization_id)
    ):
        raise NotFound("That invitation does not exist.")
    return row


def resend(
    session: Session, actor: Actor, invitation_id: int, *, now: datetime | None = None
) -> LinkToken:
    """Send an invitation again with a new link; the old link stops working."""
    row = _own(session, actor, invitation_id)
    if row.used_at is not None:
        raise ValidationError("This invitation was already accepted.")
    return invite(
        session, actor, email=row.email, role=row.role, organization_id=row.organization_id, now=now
    )


def revoke(
    session: Session, actor: Actor, invitation_id: int, *, now: datetime | None = None
) -> None:
    """Withdraw a pending invitation: its link stops working."""
    now = now or utcnow()
    row = _own(session, actor, invitation_id)
    if row.used_at is not None or row.revoked_at is not None:
        raise ValidationError("This invitation is no longer pending.")
    row.revoked_at, row.updated_at = now, now
    _audit(session, actor, "invitation_revoked", row, now)


def list_invitations(
    session: Session, actor: Actor, *, now: datetime | None = None
) -> list[Invitation]:
    """Invitations not accepted nor withdrawn, newest first (a client: their organisation's)."""
    require_role(actor, "admin", "client")
    now = now or utcnow()
    inviter = aliased(User)
    query = (
        select(LinkToken, Organization.name, inviter.name)
        .outerjoin(Organization, Organization.id == LinkToken.organization_id)
        .outerjoin(inviter, inviter.id == LinkToken.created_by_id)
        .where(
            LinkToken.purpose == PURPOSE,
            LinkToken.used_at.is_(None),
            LinkToken.revoked_at.is_(None),
        )
        .order_by(LinkToken.created_at.desc(), LinkToken.id.desc())
    )
    if actor.is_client:
        query = query.where(LinkToken.organization_id == actor.organization_id)
    return [
        Invitation(
            row.id,
            row.email,
            row.role,
            org or "",
            by or "An administrator",
            row.created_at,
            row.expires_at,
            links.state_of(row, now),
        )
        for row, org, by in session.execute(query)
    ]


def landing(session: Session, token: str, *, now: datetime | None = None) -> Landing:
    """What a pending invitation link offers (read only), or LinkRefused saying why not."""
    row = links.check(session, token, PURPOSE, now=now)
    org = session.get(Organization, row.organization_id) if row.organization_id else None
    local = row.email.split("@")[0]
    suggested = "".join(ch for ch in local if ch.isascii() and (ch.isalnum() or ch in "._-"))
    return Landing(row.email, row.role, org.name if org else "", suggested[:64])


def accept(
    session: Session,
    token: str,
    *,
    username: str,
    name: str,
    password: str,
    rounds: int = 12,
    now: datetime | None = None,
) -> User:
    """Use an invitation: create the account it offers with the chosen username, name and
    password. Any refusal (link, username, password policy) writes nothing."""
    now = now or utcnow()
    row = links.use(session, token, PURPOSE, now=now)
    if _account_exists(session, row.email):
        raise ValidationError("An account with this e-mail address already exists. Sign in.")
    user = create_user(
        session,
        SYSTEM,
        username=username,
        name=name,
        role=row.role,
        email=row.email,
        organization_id=row.organization_id,
        password=password,
        rounds=rounds,
    ).user
    row.user_id = user.id
    invitee = Actor(user.id, user.username, user.role, user.organization_id)
    _audit(session, invitee, "invitation_used", row, now)
    return user
