"""API tokens: token create, token list, token revoke."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from core import db
from core.access import SYSTEM
from core.config import Settings
from core.errors import NotFound
from core.labels import iso_utc
from core.models import User, utcnow
from core.tokens import create_token, list_tokens, revoke_token


def _user_id(settings: Settings, username: str) -> int:
    with db.reading(settings.database_url) as session:
        found = session.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise NotFound(f"No user is named {username!r}.")
    return found


def cmd_create(settings: Settings, args: argparse.Namespace) -> int:
    """Issue a token for a user; the token is printed once, as the last word of the last line."""
    user_id = _user_id(settings, args.user)
    with db.transaction(settings.database_url) as session:
        made = create_token(
            session,
            SYSTEM,
            name=args.name or f"created with the CLI for {args.user}",
            scope=args.scope,
            expires_days=args.expires_days,
            user_id=user_id,
        )
    print(
        f"token {made.info.id} for {args.user}, scope {made.info.scope}, "
        f"expires {iso_utc(made.info.expires_at)}; it is shown only now, keep it safe"
    )
    print(f"token: {made.token}")
    return 0


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    """Every token of a user with its scope, state and last use."""
    user_id = _user_id(settings, args.user)
    now = utcnow()
    with db.reading(settings.database_url) as session:
        tokens = list_tokens(session, SYSTEM, user_id=user_id)
    for t in tokens:
        used = iso_utc(t.last_used_at) if t.last_used_at else "never used"
        print(
            f"{t.id}\t{t.shown}\t{t.scope}\t{t.state(now)}\texpires {iso_utc(t.expires_at)}\t"
            f"{used}\t{t.name}"
        )
    if not tokens:
        print(f"{args.user} has no tokens")
    return 0


def cmd_revoke(settings: Settings, args: argparse.Namespace) -> int:
    """Revoke a token by its id (from token list)."""
    with db.transaction(settings.database_url) as session:
        info = revoke_token(session, SYSTEM, args.id)
    print(f"token {info.id} ({info.shown}) revoked")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add token create, token list and token revoke."""
    token = sub.add_parser("token", help="personal access tokens for the REST API")
    actions = token.add_subparsers(dest="token_command", required=True)
    create = actions.add_parser("create", help="issue a token (printed once)")
    create.add_argument("--user", required=True, help="username the token acts as")
    create.add_argument("--scope", required=True, choices=("read", "write"))
    create.add_argument("--expires-days", type=int, required=True, help="lifetime in days")
    create.add_argument("--name", default="", help="what the token is for")
    create.set_defaults(handler=cmd_create)
    listing = actions.add_parser("list", help="a user's tokens")
    listing.add_argument("--user", required=True)
    listing.set_defaults(handler=cmd_list)
    revoke = actions.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=cmd_revoke)
