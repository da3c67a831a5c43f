"""Single sign-on in core (core/sso.py) on SQLite and PostgreSQL: group rules to roles and
organisations, accounts created just in time or required to exist, linking by verified e-mail,
a mapping that disappears, identities spent once, the second factor a provider vouches for, and
the settings' checks. The browser journey through a real provider is test_sso_browser.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core import db
from core.access import SYSTEM
from core.auth import open_session
from core.errors import ValidationError
from core.models import AuditLog, AuthSession, SsoIdentity, User
from core.second_factor import must_enrol
from core.settings import get_settings, parse_setting, update_setting, validate_setting
from core.sso import (
    NO_ACCOUNT,
    NO_GROUP,
    Provider,
    SsoRefused,
    providers,
    reachable,
    record_refusal,
    sign_in,
    spent,
    trusted_second_factor,
)
from tests.factories import make_actor, make_org

NOW = datetime(2026, 12, 2, 9, 0, 0, tzinfo=UTC)
CORP = Provider("corp", "Corp ID", "http://127.0.0.1:9/.well-known/openid-configuration")
RULES = [
    {"group": "acme-security", "role": "client", "organization": "Acme Ltd"},
    {"group": "reviewers", "role": "lead_reviewer", "organization": ""},
]


def _claims(sub: str = "u-1", groups=("acme-security",), **extra) -> dict:
    claims = {
        "iss": "http://idp.test",
        "sub": sub,
        "aud": "securesphere",
        "iat": 1_790_000_000,
        "exp": 1_790_000_600,
        "nonce": f"n-{sub}",
        "name": "Carol Client",
        "email": "carol@acme.example",
        "email_verified": True,
        "preferred_username": "carol",
    }
    if groups is not None:
        claims["groups"] = list(groups)
    return claims | extra


@pytest.fixture
def world(db_url):
    org = make_org(db_url)
    with db.transaction(db_url) as s:
        update_setting(s, SYSTEM, "sso_role_rules", RULES)
    return db_url, org


def _sign_in(url: str, claims: dict, provider: Provider = CORP):
    with db.transaction(url) as s:
        return sign_in(s, provider, claims, rounds=4, now=NOW)


def _user(url: str, username: str) -> User | None:
    with db.reading(url) as s:
        return s.scalar(select(User).where(User.username == username))


def test_a_first_sign_in_creates_the_account_its_rule_gives(world):
    url, org = world
    result = _sign_in(url, _claims())
    assert result.username == "carol" and result.second_factor is False
    user = _user(url, "carol")
    assert (user.role, user.organization_id, user.email) == ("client", org, "carol@acme.example")
    assert (user.sso_provider, user.sso_subject, user.name) == ("corp", "u-1", "Carol Client")
    assert not user.must_change_password
    with db.reading(url) as s:
        created = s.scalar(select(AuditLog).where(AuditLog.action == "user_created"))
        assert created.detail["via"] == "Corp ID"
    # the same person, a new token: the same account, found by provider and subject
    again = _sign_in(url, _claims(nonce="second", email="changed@acme.example"))
    assert again.username == "carol"
    with db.reading(url) as s:
        assert (
            s.scalar(select(func.count()).select_from(User).where(User.sso_subject == "u-1")) == 1
        )


def test_an_identity_opens_one_session_only(world):
    url, _ = world
    claims = _claims()
    _sign_in(url, claims)
    with db.reading(url) as s:
        assert spent(s, CORP, claims)
        assert not spent(s, CORP, _claims(nonce="other"))
        assert not spent(s, Provider("other", "Other", CORP.metadata_url), claims)
    with pytest.raises(SsoRefused, match="was used already"):
        _sign_in(url, claims)


def test_no_mapped_group_is_refused_with_nothing_written(world):
    url, _ = world
    with db.reading(url) as s:
        users_before = s.scalar(select(func.count()).select_from(User))
    for groups in ((), ("contractors",), ("ACME-SECURITY",)):  # group names match exactly
        with pytest.raises(SsoRefused, match="is in no group that SecureSphere knows"):
            _sign_in(url, _claims(sub="x", groups=groups))
    with pytest.raises(SsoRefused, match="is in no group"):
        _sign_in(url, _claims(sub="y", groups=None))  # the claim missing altogether
    with db.reading(url) as s:
        assert s.scalar(select(func.count()).select_from(User)) == users_before
        assert s.scalar(select(func.count()).select_from(SsoIdentity)) == 0
    # the page then records the refusal once (audit row, identity spent)
    refused = _claims(sub="x", groups=["contractors"])
    for _ in range(2):
        with db.transaction(url) as s:
            record_refusal(s, CORP, refused, NO_GROUP.format(provider="Corp ID"), now=NOW)
    with db.reading(url) as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "sso_refused")).all()
        assert len(rows) == 1 and rows[0].detail["subject"] == "x"
        assert spent(s, CORP, refused)


def test_a_mapping_that_disappears_refuses_the_next_sign_in(world):
    url, _ = world
    _sign_in(url, _claims())
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "sso_role_rules", RULES[1:])
    with pytest.raises(SsoRefused, match="no group"):
        _sign_in(url, _claims(nonce="later"))


def test_each_sign_in_applies_the_rule_of_the_day(world):
    url, _ = world
    _sign_in(url, _claims())
    moved = _sign_in(url, _claims(nonce="promoted", groups=["reviewers"]))
    user = _user(url, moved.username)
    assert (user.role, user.organization_id) == ("lead_reviewer", None)
    with db.reading(url) as s:
        applied = s.scalar(select(AuditLog).where(AuditLog.action == "sso_role_applied"))
        assert applied.detail["changed"]["role"] == ["client", "lead_reviewer"]


def test_the_first_rule_that_matches_wins(world):
    url, _ = world
    both = _sign_in(url, _claims(groups=["reviewers", "acme-security"]))
    assert _user(url, both.username).role == "client"  # acme-security is the first rule


def test_existing_accounts_only_links_by_verified_email(world):
    url, org = world
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "sso_new_users", "existing")
    with pytest.raises(SsoRefused, match="There is no SecureSphere account"):
        _sign_in(url, _claims())
    made = make_actor(url, "client", org, "c.client")
    with db.transaction(url) as s:
        s.get(User, made.user_id).email = "Carol@Acme.example"
    with pytest.raises(SsoRefused, match="no SecureSphere account"):  # unverified: no link
        _sign_in(url, _claims(email_verified=False))
    assert _sign_in(url, _claims(nonce="verified")).username == "c.client"
    assert _user(url, "c.client").sso_subject == "u-1"
    assert NO_ACCOUNT.format(provider="Corp ID").startswith("There is no")


def test_a_deactivated_account_and_an_unknown_organisation_are_refused(world):
    url, _ = world
    _sign_in(url, _claims())
    with db.transaction(url) as s:
        s.scalar(select(User).where(User.username == "carol")).is_active = False
    with pytest.raises(SsoRefused, match="deactivated"):
        _sign_in(url, _claims(nonce="again"))
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "sso_role_rules", [{**RULES[0], "organization": "Gone Corp"}])
    with pytest.raises(SsoRefused, match="Gone Corp"):
        _sign_in(url, _claims(sub="new", nonce="n"))


@pytest.mark.parametrize(
    ("preferred", "email", "expected"),
    [
        ("carol", "c@x.example", "carol"),
        ("Not A Name!", "dana.d@x.example", "dana.d"),
        (None, "", None),  # nothing usable: a name from the subject
    ],
)
def test_usernames_come_from_the_token_and_never_clash(world, preferred, email, expected):
    url, _ = world
    make_actor(url, "analyst", None, "carol")  # an existing local account of that name
    claims = _claims(sub=f"s-{preferred}", preferred_username=preferred, email=email)
    name = _sign_in(url, claims).username
    if expected == "carol":
        assert name == "carol-2"
    elif expected:
        assert name == expected
    else:
        assert name.startswith("sso-")


def test_the_second_factor_counts_only_where_the_provider_says_so(world):
    url, _ = world
    assert trusted_second_factor({"amr": ["pwd", "mfa"]}, ["mfa"])
    assert trusted_second_factor({"acr": "urn:corp:loa:2"}, ["urn:corp:loa:2"])
    assert not trusted_second_factor({"amr": ["pwd"]}, ["mfa"])
    assert not trusted_second_factor({"amr": "mfa"}, ["mfa"])  # amr is a list (RFC 8176)
    assert not trusted_second_factor({"amr": ["mfa"]}, [])
    reviewer = _claims(sub="r", groups=["reviewers"], amr=["pwd", "otp", "mfa"])
    assert _sign_in(url, reviewer).second_factor is True


def test_the_enrolment_gate_follows_the_setting_and_the_session(world):
    url, org = world
    admin = make_actor(url, "admin", None, "ada")
    client = make_actor(url, "client", org, "cli")
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "second_factor_roles", ["admin", "lead_reviewer"])
        plain = open_session(s, "ada")
        vouched = open_session(s, "ada", second_factor="provider", via="Corp ID")
        theirs = open_session(s, "cli")
    with db.reading(url) as s:
        assert must_enrol(s, plain) and not must_enrol(s, vouched)
        assert not must_enrol(s, theirs)  # clients are not in the list
        assert s.get(AuthSession, vouched.session_id).via == "Corp ID"
        sign_ins = s.scalars(select(AuditLog).where(AuditLog.action == "sign_in")).all()
        assert [row.detail for row in sign_ins[-3:]] == [{}, {"via": "Corp ID"}, {}]
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "second_factor_roles", [])
    with db.reading(url) as s:
        assert not must_enrol(s, plain)
    assert admin.role == "admin" and client.role == "client"


def test_defaults_are_the_issues(db_url):
    with db.transaction(db_url) as s:
        s.info.pop("settings_read", None)
    from core.settings import DEFAULTS

    assert DEFAULTS["second_factor_roles"] == ["admin", "lead_reviewer"]
    assert DEFAULTS["sign_in_password"] == "on" and DEFAULTS["sso_second_factor_values"] == ["mfa"]
    with db.reading(db_url) as s:
        assert get_settings(s)["sso_role_rules"] == []


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("second_factor_roles", ["admin", "root"], "unknown role 'root'"),
        ("second_factor_roles", "admin", "must be a list of roles"),
        ("sso_group_claim", "groups claim", "claim name"),
        ("sso_group_claim", "", "claim name"),
        ("sso_second_factor_values", ["two words"], "without spaces"),
        ("sso_second_factor_values", "mfa", "must be a list"),
        ("sso_role_rules", [{"group": "g", "role": "client"}], "a client's organisation"),
        ("sso_role_rules", [{"group": "g", "role": "admin", "organization": "X"}], "staff"),
        ("sso_role_rules", [{"group": " ", "role": "admin"}], "the group must not be empty"),
        ("sso_role_rules", [{"group": "g", "role": "owner"}], "the role must be one of"),
        ("sso_role_rules", [{"group": "g\n", "role": "admin", "x": 1}], "must give a group"),
        ("sso_role_rules", [{"group": "a\x07b", "role": "admin"}], "without line breaks"),
        ("sso_role_rules", {"group": "g"}, "must be a list"),
        ("sign_in_password", "maybe", "must be one of: on, off"),
        ("sso_new_users", "all", "must be one of"),
    ],
)
def test_bad_sign_in_settings_are_refused_and_change_nothing(db_url, key, value, message):
    with pytest.raises(ValidationError, match=message):
        validate_setting(key, value)
    admin = make_actor(db_url, "admin", None, "ada")
    with db.reading(db_url) as s:
        before = (get_settings(s)[key], s.scalar(select(func.count()).select_from(AuditLog)))
    with pytest.raises(ValidationError), db.transaction(db_url) as s:
        update_setting(s, admin, key, value)
    with db.reading(db_url) as s:
        assert (
            get_settings(s)[key],
            s.scalar(select(func.count()).select_from(AuditLog)),
        ) == before


def test_the_command_line_takes_words_and_json():
    assert parse_setting("sso_group_claim", "roles") == "roles"
    assert parse_setting("second_factor_roles", '["lead_reviewer", "admin"]') == [
        "admin",
        "lead_reviewer",
    ]
    assert parse_setting("sso_role_rules", '[{"group": "g", "role": "analyst"}]') == [
        {"group": "g", "role": "analyst", "organization": ""}
    ]


def test_providers_come_from_the_secrets_auth_section():
    section = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "s",
        "corp": {
            "client_id": "a",
            "server_metadata_url": "https://idp/.well-known",
            "label": "Corp",
        },
        "azure_ad": {"client_id": "b", "server_metadata_url": "https://az/.well-known"},
        "half": {"client_id": "c"},  # no metadata: st.login could not use it
    }
    assert providers(section) == [
        Provider("corp", "Corp", "https://idp/.well-known"),
        Provider("azure_ad", "Azure Ad", "https://az/.well-known"),
    ]
    assert providers({}) == []


def test_a_provider_that_does_not_answer_is_not_reachable():
    assert reachable(CORP, timeout=1.0) is False  # port 9 (discard) on loopback: refused
