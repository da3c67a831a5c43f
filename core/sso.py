"""Single sign-on: an OpenID Connect identity, already checked by Authlib under st.login (the ID
token's signature against the provider's keys, issuer, audience, expiry and nonce), mapped to a
SecureSphere account by the group rules (core/sign_in_settings.py).

The account is found by the provider and the token's `sub`; on a first sign-in, by a verified
e-mail address, or created from the rule when the setting allows it. Each sign-in sets the role
and organisation its rule gives, so a user whose group no longer maps is refused at the next one.
An identity opens one session only (its fingerprint is kept): Streamlit's identity cookie lives
30 days, our sessions end on their own timeouts, and a replayed cookie opens nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.errors import ValidationError
from core.models import Organization, SsoIdentity, User, utcnow
from core.passwords import hash_password
from core.settings import get_settings
from core.users import USERNAME_RE

NO_GROUP = (
    "Your {provider} account is in no group that SecureSphere knows, so it cannot sign you in. "
    "Ask your administrator to add your group to the sign-in rules."
)
NO_ORGANIZATION = (
    "Your group gives access to the organisation “{organization}”, which SecureSphere does not "
    "have. Ask your administrator to correct the sign-in rules."
)
NO_ACCOUNT = (
    "There is no SecureSphere account for your {provider} identity. Ask your administrator "
    "to create one with your e-mail address."
)
INACTIVE = "Your SecureSphere account is deactivated. Ask your administrator."
SPENT = "This sign-in with {provider} was used already. Sign in again."
BAD_IDENTITY = "{provider} did not say who you are (the ID token has no subject)."
PROVIDER_DOWN = (
    "Sign-in with {provider} is not available right now: it did not answer. "
    "Try again later, or sign in with your password."
)


class SsoRefused(ValidationError):
    """A checked identity that may not sign in; the message says why, in words."""


@dataclass(frozen=True)
class Provider:
    """One [auth.KEY] table of .streamlit/secrets.toml: st.login(key) signs in through it."""

    key: str
    label: str
    metadata_url: str


@dataclass(frozen=True)
class SsoSignIn:
    """The account an identity signs in as, and whether the provider vouched for a 2nd factor."""

    username: str
    second_factor: bool


def providers(auth_section: Mapping[str, Any]) -> list[Provider]:
    """The providers configured in the [auth] section of secrets.toml, in file order; `label`
    (ours, ignored by Authlib) names the button, else the key does."""
    found = []
    for key, table in auth_section.items():
        if isinstance(table, Mapping) and table.get("client_id"):
            url = str(table.get("server_metadata_url") or "")
            label = str(table.get("label") or key.replace("_", " ").replace("-", " ").title())
            if url:
                found.append(Provider(str(key), label, url))
    return found


def reachable(provider: Provider, *, timeout: float = 3.0) -> bool:
    """Whether the provider's discovery document answers now (so st.login will not end on an
    error page of Streamlit's)."""
    try:
        reply = httpx.get(provider.metadata_url, timeout=timeout, follow_redirects=True)
        document = reply.json() if reply.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return False
    return isinstance(document, dict) and bool(document.get("authorization_endpoint"))


def fingerprint(provider: Provider, claims: Mapping[str, Any]) -> str:
    """One identity cookie's fingerprint: the same token's claims give the same one."""
    keys = ("iss", "sub", "aud", "iat", "exp", "nonce", "sid")
    picked = {"provider": provider.key, **{k: claims.get(k) for k in keys}}
    return hashlib.sha256(json.dumps(picked, sort_keys=True, default=str).encode()).hexdigest()


def spent(session: Session, provider: Provider, claims: Mapping[str, Any]) -> bool:
    """Whether this identity has signed in (or been refused) already."""
    return session.get(SsoIdentity, fingerprint(provider, claims)) is not None


def _groups(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list | tuple):
        return {str(v) for v in value}
    return set()


def trusted_second_factor(claims: Mapping[str, Any], trusted: list[str]) -> bool:
    """Whether the token says a second factor was used in a way the setting trusts: one of the
    trusted values among its `amr` (RFC 8176) or as its `acr`."""
    amr = claims.get("amr")
    used = set(amr) if isinstance(amr, list) else set()
    acr = claims.get("acr")
    if isinstance(acr, str):
        used.add(acr)
    return bool(used & set(trusted))


def sign_in(
    session: Session,
    provider: Provider,
    claims: Mapping[str, Any],
    *,
    rounds: int = 12,
    now: datetime | None = None,
) -> SsoSignIn:
    """The account a checked identity signs in as (created, linked or re-mapped here, audited);
    raises SsoRefused with nothing written when it may not."""
    now = now or utcnow()
    if spent(session, provider, claims):
        raise SsoRefused(SPENT.format(provider=provider.label))
    settings = get_settings(session)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SsoRefused(BAD_IDENTITY.format(provider=provider.label))
    groups = _groups(claims.get(settings["sso_group_claim"]))
    rule = next((r for r in settings["sso_role_rules"] if r["group"] in groups), None)
    if rule is None:
        raise SsoRefused(NO_GROUP.format(provider=provider.label))
    organization_id = None
    if rule["organization"]:
        organization_id = session.scalar(
            select(Organization.id).where(Organization.name == rule["organization"])
        )
        if organization_id is None:
            raise SsoRefused(NO_ORGANIZATION.format(organization=rule["organization"]))
    user = _account(session, provider, subject, claims)
    if user is None:
        if settings["sso_new_users"] != "create":
            raise SsoRefused(NO_ACCOUNT.format(provider=provider.label))
        user = _create(session, provider, subject, claims, rule, organization_id, rounds, now)
    if not user.is_active:
        raise SsoRefused(INACTIVE)
    _apply_rule(session, user, rule["role"], organization_id, provider, now)
    session.add(SsoIdentity(fingerprint=fingerprint(provider, claims), user_id=user.id))
    trusted = trusted_second_factor(claims, settings["sso_second_factor_values"])
    return SsoSignIn(user.username, trusted)


def record_refusal(
    session: Session,
    provider: Provider,
    claims: Mapping[str, Any],
    reason: str,
    *,
    now: datetime | None = None,
) -> None:
    """Audit a refused single sign-on once, and spend the identity so reruns do not repeat it."""
    if spent(session, provider, claims):
        return
    subject = str(claims.get("sub") or "")[:64]
    session.add(SsoIdentity(fingerprint=fingerprint(provider, claims), user_id=None))
    detail = {"provider": provider.label, "subject": subject, "reason": reason}
    audit.record(
        session, None, "sso_refused", object_type="user", object_id="", detail=detail, now=now
    )


def _account(
    session: Session, provider: Provider, subject: str, claims: Mapping[str, Any]
) -> User | None:
    user = session.scalar(
        select(User).where(User.sso_provider == provider.key, User.sso_subject == subject)
    )
    email = claims.get("email")
    if user is not None or claims.get("email_verified") is not True:
        return user
    if not isinstance(email, str) or "@" not in email:  # never link by an empty address
        return None
    # First sign-in of an account an admin created: linked by its verified e-mail address.
    user = session.scalar(
        select(User).where(
            func.lower(User.email) == email.strip().lower(), User.sso_subject.is_(None)
        )
    )
    if user is not None:
        user.sso_provider, user.sso_subject = provider.key, subject
    return user


def _username(session: Session, claims: Mapping[str, Any], subject: str) -> str:
    hints = [claims.get("preferred_username"), str(claims.get("email") or "").split("@")[0]]
    base = next(
        (
            h.strip().lower()
            for h in hints
            if isinstance(h, str) and USERNAME_RE.match(h.strip().lower())
        ),
        "sso-" + hashlib.sha256(subject.encode()).hexdigest()[:10],
    )[:58]
    taken = set(session.scalars(select(User.username).where(User.username.like(f"{base}%"))))
    return next(c for c in [base, *(f"{base}-{n}" for n in range(2, 10_000))] if c not in taken)


def _create(
    session: Session,
    provider: Provider,
    subject: str,
    claims: Mapping[str, Any],
    rule: dict[str, str],
    organization_id: int | None,
    rounds: int,
    now: datetime,
) -> User:
    username = _username(session, claims, subject)
    name = str(claims.get("name") or username).strip()[:120] or username
    email = claims.get("email") if claims.get("email_verified") is True else ""
    user = User(
        username=username,
        name=re.sub(r"[\x00-\x1f\x7f]", " ", name),
        email=str(email or "")[:254],
        role=rule["role"],
        organization_id=organization_id,
        # no local password: a random one nobody knows (an admin may set one)
        password_hash=hash_password(secrets.token_urlsafe(32), rounds),
        sso_provider=provider.key,
        sso_subject=subject,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        None,
        "user_created",
        object_type="user",
        object_id=user.id,
        detail={"username": username, "role": user.role, "via": provider.label},
        now=now,
    )
    return user


def _apply_rule(
    session: Session,
    user: User,
    role: str,
    organization_id: int | None,
    provider: Provider,
    now: datetime,
) -> None:
    if (user.role, user.organization_id) == (role, organization_id):
        return
    changed = {
        "role": [user.role, role],
        "organization_id": [user.organization_id, organization_id],
    }
    user.role, user.organization_id = role, organization_id
    audit.record(
        session,
        None,
        "sso_role_applied",
        object_type="user",
        object_id=user.id,
        detail={"changed": changed, "via": provider.label},
        now=now,
    )
