"""The sign-in settings: which roles must use a second factor, whether the password form shows,
and how single sign-on maps a provider's groups to roles and organisations (core/sso.py)."""

from __future__ import annotations

import re
from typing import Any

from core.access import ROLES
from core.errors import ValidationError
from core.setting_spec import Setting

MAX_RULES = 200
_CLAIM = re.compile(r"[A-Za-z0-9_.:/-]{1,64}\Z")
_WORD = re.compile(r"[\x21-\x7e]{1,100}\Z")  # printable ASCII without spaces, as amr/acr values


def _text(value: Any, what: str, *, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{what} must not be empty.")
    if len(value) > limit or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError(f"{what} must be at most {limit} characters, without line breaks.")
    return value.strip()


def check_roles(value: Any) -> list[str]:
    """A list of role names, each known and once, in the usual order of roles."""
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise ValidationError("second_factor_roles must be a list of roles.")
    unknown = sorted(set(value) - set(ROLES))
    if unknown:
        raise ValidationError(
            f"second_factor_roles: unknown role {unknown[0]!r}; known: {', '.join(ROLES)}."
        )
    return [role for role in ROLES if role in value]


def check_claim(value: Any) -> str:
    """The name of an ID token claim."""
    if not isinstance(value, str) or not _CLAIM.match(value):
        raise ValidationError(
            "sso_group_claim must be a claim name of 1 to 64 letters, digits or _ . : / -."
        )
    return value


def check_words(value: Any) -> list[str]:
    """amr or acr values: up to 20 words of printable characters."""
    if (
        not isinstance(value, list)
        or len(value) > 20
        or not all(isinstance(w, str) and _WORD.match(w) for w in value)
    ):
        raise ValidationError(
            "sso_second_factor_values must be a list of up to 20 amr or acr values "
            '(such as "mfa", "otp", "hwk"), each without spaces.'
        )
    return list(dict.fromkeys(value))


def check_rules(value: Any) -> list[dict[str, str]]:
    """Group rules: which group gives which role and, for clients, which organisation."""
    if not isinstance(value, list) or len(value) > MAX_RULES:
        raise ValidationError(f"sso_role_rules must be a list of at most {MAX_RULES} rules.")
    rules = []
    for n, rule in enumerate(value, start=1):
        if not isinstance(rule, dict) or set(rule) - {"group", "role", "organization"}:
            raise ValidationError(
                f"Sign-in rule {n} must give a group, a role and, for clients, an organisation."
            )
        group = _text(rule.get("group"), f"Sign-in rule {n}: the group")
        role = rule.get("role")
        if role not in ROLES:
            raise ValidationError(f"Sign-in rule {n}: the role must be one of {', '.join(ROLES)}.")
        organization = str(rule.get("organization") or "").strip()
        if role == "client":
            organization = _text(organization, f"Sign-in rule {n}: a client's organisation")
        elif organization:
            raise ValidationError(
                f"Sign-in rule {n}: only a client rule names an organisation ({role} is staff)."
            )
        rules.append({"group": group, "role": str(role), "organization": organization})
    return rules


SIGN_IN_SETTINGS: dict[str, Setting] = {
    "second_factor_roles": Setting(
        ["admin", "lead_reviewer"],
        "Roles that must use two-step sign-in; until they set it up they reach only My profile.",
        check=check_roles,
    ),
    "sign_in_password": Setting(
        "on",
        "Whether the sign-in screen shows the username and password form. Off, only single "
        "sign-on shows (the form stays while no provider is configured).",
        choices=("on", "off"),
    ),
    "sso_new_users": Setting(
        "create",
        "Whether a first single sign-on creates the account from the group rules, or only "
        "accounts that already exist (matched by verified e-mail address) may sign in.",
        choices=("create", "existing"),
    ),
    "sso_group_claim": Setting(
        "groups",
        "The ID token claim holding the user's groups (a list or one value).",
        check=check_claim,
    ),
    "sso_role_rules": Setting(
        [],
        "Which provider group gives which role (and, for clients, which organisation); the first "
        "rule that matches wins. A user matching none is refused.",
        check=check_rules,
    ),
    "sso_second_factor_values": Setting(
        ["mfa"],
        "Values of the ID token's amr or acr claim that count as the second factor; a single "
        "sign-on without one asks for SecureSphere's own code where the role needs it.",
        check=check_words,
    ),
}
LABELS = {
    "second_factor_roles": "Roles that must use two-step sign-in",
    "sign_in_password": "Password sign-in form",
    "sso_new_users": "Accounts for a first single sign-on",
    "sso_group_claim": "Claim holding the groups",
    "sso_role_rules": "Single sign-on group rules",
    "sso_second_factor_values": "amr or acr values trusted as a second factor",
}
VALUE_LABELS = {
    "sign_in_password": {"on": "Shown", "off": "Hidden (single sign-on only)"},
    "sso_new_users": {
        "create": "Created from the group rules",
        "existing": "Only existing accounts",
    },
}
