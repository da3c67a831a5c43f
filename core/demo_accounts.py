"""Demo accounts: the sign-in accounts and other clients of the demo, and where their passwords are."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import SYSTEM, Actor
from core.config import ROOT, Settings
from core.demo_plan import ACCOUNTS, MEMBERS
from core.models import User
from core.users import create_user

PASSWORD_FILE = "demo_passwords.txt"


def create_accounts(
    session: Session, orgs: dict[str, int], passwords: dict[str, str], rounds: int
) -> dict[str, Actor]:
    """The demo sign-in accounts (with passwords) and the other organisations' clients (with a
    one-time password nobody is given)."""
    people: list[tuple[str, str, str, str | None, str | None]] = [
        (*account, passwords[account.username]) for account in ACCOUNTS
    ]
    people += [(m.username, m.name, "client", m.organization, None) for m in MEMBERS]
    actors = {}
    for username, name, role, org, password in people:
        user = create_user(
            session,
            SYSTEM,
            username=username,
            name=name,
            role=role,
            email=f"{username}@example.com",
            organization_id=orgs.get(org) if org else None,
            password=password,
            rounds=rounds,
            is_demo=password is not None,
        ).user
        actors[username] = Actor(user.id, username, role, user.organization_id)
    return actors


def demo_usernames(session: Session) -> list[str]:
    """The demo sign-in accounts still active, in the README's order (empty outside demo mode)."""
    active = set(session.scalars(select(User.username).where(User.is_demo, User.is_active)))
    return [a.username for a in ACCOUNTS if a.username in active]


def password_source(settings: Settings) -> str:
    """A sentence saying where the operator finds the demo passwords, never the passwords."""
    if settings.demo_password:
        return "Their password is the SECURESPHERE_DEMO_PASSWORD you set."
    path = settings.data_dir / PASSWORD_FILE
    if path.exists():
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        return f"Their passwords are in {shown} on the server, written by init --demo."
    return "Their password is the SECURESPHERE_DEMO_PASSWORD set when the demo was created."


def write_passwords(data_dir: Path, passwords: dict[str, str]) -> None:
    """Write the demo passwords to the data dir, readable by the owner only."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / PASSWORD_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{user}: {pw}\n" for user, pw in passwords.items())
    os.chmod(path, 0o600)
