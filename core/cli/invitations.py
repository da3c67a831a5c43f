"""Invitations: invite (queues the invitation e-mail, as the Users page does)."""

from __future__ import annotations

import argparse

from core import db
from core.access import ROLES, SYSTEM
from core.config import Settings
from core.invitations import invite
from core.labels import iso_utc
from core.organizations import organization_id_named


def cmd_invite(settings: Settings, args: argparse.Namespace) -> int:
    """Invite an address with a role (and an organisation for clients); the mail worker sends
    the link. The link is never printed: only the invitee's mailbox gets it."""
    with db.transaction(settings.database_url) as session:
        org_id = organization_id_named(session, args.organization)
        row = invite(session, SYSTEM, email=args.email, role=args.role, organization_id=org_id)
        print(
            f"invitation {row.id} for {row.email} as {row.role} queued; "
            f"its link works once, until {iso_utc(row.expires_at)}"
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add invite."""
    command = sub.add_parser("invite", help="invite an e-mail address to make an account")
    command.add_argument("--email", required=True)
    command.add_argument("--role", required=True, choices=ROLES)
    command.add_argument("--organization", default="", help="organisation name (clients)")
    command.set_defaults(handler=cmd_invite)
