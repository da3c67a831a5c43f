"""Invitations and password reset links in core, on SQLite and PostgreSQL: single use, hashed,
expiring, revoked when re-sent; refusals write nothing; clients invite only their own."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import auth, db, invitations, links, password_reset
from core.access import SYSTEM
from core.errors import AccessDenied, NotFound, ValidationError
from core.models import AuditLog, AuthSession, LinkToken, Outbox, User, utcnow
from core.passwords import verify_password
from core.settings import update_setting
from tests.factories import World
from tests.notify_world import cast

PASSWORD = "a long enough passphrase"


@pytest.fixture
def c(env, db_url, tmp_path):
    env(db_url)  # the link key comes from the process settings, as in the app and the worker
    return cast(World(db_url, tmp_path / "data"))


def _invite(c, actor=None, email="new.person@example.org", role="client", org=None, **kw):
    with db.transaction(c.world.url) as s:
        return invitations.invite(
            s, actor or c.admin, email=email, role=role, organization_id=org or c.org, **kw
        ).id


def _token(url, kind="invitation"):
    """The token of the newest link of this kind, as the worker derives it for the e-mail."""
    with db.reading(url) as s:
        row = s.scalars(
            select(Outbox).where(Outbox.kind == kind).order_by(Outbox.id.desc())
        ).first()
        return links.derive_token(row.data["nonce"])


def _accept(c, token, username="newbie", password=PASSWORD, **kw):
    with db.transaction(c.world.url) as s:
        return invitations.accept(
            s, token, username=username, name="New Person", password=password, rounds=4, **kw
        ).id


def _counts(url):
    """Rows of every table an invitation or a reset writes to."""
    with db.reading(url) as s:
        return {
            model.__name__: s.scalar(select(func.count()).select_from(model))
            for model in (User, LinkToken, Outbox, AuditLog, AuthSession)
        } | {"used": s.scalar(select(func.count()).where(LinkToken.used_at.is_not(None)))}


def test_an_invitation_is_stored_hashed_mailed_and_creates_the_account_once(c):
    link_id = _invite(c, email="  New.Person@Example.org ")
    token = _token(c.world.url)
    with db.reading(c.world.url) as s:
        row = s.get(LinkToken, link_id)
        mail = s.scalar(select(Outbox).where(Outbox.kind == "invitation"))
        assert row.token_hash == links.token_hash(token) and row.email == "new.person@example.org"
        assert row.expires_at - row.created_at == timedelta(days=7)
        assert mail.address == "new.person@example.org" and mail.status == "queued"
        assert token not in json.dumps(mail.data) and token not in row.token_hash
    user_id = _accept(c, token)
    with db.reading(c.world.url) as s:
        user = s.get(User, user_id)
        assert (user.role, user.organization_id, user.email) == ("client", c.org, row.email)
        assert verify_password(PASSWORD, user.password_hash) and not user.must_change_password
        assert s.get(LinkToken, link_id).user_id == user_id
        actions = list(s.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert {"invitation_created", "user_created", "invitation_used"} <= set(actions)
    before = _counts(c.world.url)
    with pytest.raises(links.LinkRefused, match="already used") as refused:
        _accept(c, token, username="second")
    assert refused.value.state == "used"
    assert _counts(c.world.url) == before


def test_an_invitation_for_an_address_that_has_an_account_is_refused(c):
    before = _counts(c.world.url)
    with pytest.raises(ValidationError, match="already exists"):
        _invite(c, email="CLEO@example.org")
    assert _counts(c.world.url) == before


def test_an_expired_link_says_so_and_writes_nothing(c):
    _invite(c)
    token, before = _token(c.world.url), _counts(c.world.url)
    later = utcnow() + timedelta(days=7, seconds=1)
    with pytest.raises(links.LinkRefused, match="expired"):
        _accept(c, token, now=later)
    assert _counts(c.world.url) == before


def test_resending_revokes_the_old_link_and_the_new_one_works(c):
    first = _invite(c)
    old = _token(c.world.url)
    with db.transaction(c.world.url) as s:
        invitations.resend(s, c.admin, first)
    new, before = _token(c.world.url), _counts(c.world.url)
    with pytest.raises(links.LinkRefused, match="replaced by a newer one"):
        _accept(c, old)
    assert _counts(c.world.url) == before
    assert _accept(c, new)
    with db.reading(c.world.url) as s:
        assert invitations.list_invitations(s, c.admin) == []


def test_a_withdrawn_invitation_is_revoked(c):
    link_id = _invite(c)
    with db.transaction(c.world.url) as s:
        invitations.revoke(s, c.admin, link_id)
    with pytest.raises(links.LinkRefused, match="withdrawn"):
        _accept(c, _token(c.world.url))


@pytest.mark.parametrize(
    "password, message",
    [("too short", "at least 12"), ("password1234", "too common"), ("newbie", "at least")],
)
def test_a_password_that_breaks_the_policy_writes_nothing(c, password, message):
    _invite(c)
    token, before = _token(c.world.url), _counts(c.world.url)
    with pytest.raises(ValidationError, match=message):
        _accept(c, token, password=password)
    assert _counts(c.world.url) == before  # the link is still unused, no account, no audit row
    assert _accept(c, token)


def test_a_taken_username_writes_nothing(c):
    _invite(c)
    token, before = _token(c.world.url), _counts(c.world.url)
    with pytest.raises(ValidationError, match="taken"):
        _accept(c, token, username="cleo")
    assert _counts(c.world.url) == before


def test_a_client_invites_colleagues_only_when_allowed_and_only_into_their_organisation(c):
    with pytest.raises(AccessDenied, match="ask an administrator"):
        _invite(c, c.client, org=c.org)
    with db.transaction(c.world.url) as s:
        update_setting(s, SYSTEM, "client_invitations", "on")
    with pytest.raises(AccessDenied, match="own organisation"):
        _invite(c, c.client, org=c.other_org)
    with pytest.raises(AccessDenied, match="own organisation"):
        _invite(c, c.client, role="admin")
    with pytest.raises(AccessDenied):
        _invite(c, c.reviewer)
    link_id = _invite(c, c.client, email="friend@example.org")
    _invite(c, c.stranger, email="other@example.org", org=c.other_org)
    with db.reading(c.world.url) as s:
        assert s.get(LinkToken, link_id).organization_id == c.org
        assert [i.email for i in invitations.list_invitations(s, c.client)] == [
            "friend@example.org"
        ]
    with db.transaction(c.world.url) as s, pytest.raises(NotFound):
        invitations.revoke(s, c.stranger, link_id)
    with db.transaction(c.world.url) as s:
        invitations.resend(s, c.colleague, link_id)


def _sessions(c, actor, n=2):
    with db.transaction(c.world.url) as s:
        return [auth.open_session(s, actor.username).session_id for _ in range(n)]


def _request(c, email, address="203.0.113.9"):
    with db.transaction(c.world.url) as s:
        return password_reset.request_reset(s, email, client_address=address)


def _reset(c, token, password="a brand new passphrase", **kw):
    with db.transaction(c.world.url) as s:
        return password_reset.reset_with_link(s, token, password=password, rounds=4, **kw).id


def test_a_reset_link_sets_the_password_once_and_ends_every_session(c):
    sids = _sessions(c, c.client)
    assert _request(c, " CLEO@Example.org") == password_reset.ANSWER
    token = _token(c.world.url, "password_reset")
    with db.reading(c.world.url) as s:
        mail = s.scalar(select(Outbox).where(Outbox.kind == "password_reset"))
        assert mail.recipient_id == c.client.user_id and mail.address == "cleo@example.org"
        assert token not in json.dumps(mail.data)
    _reset(c, token)
    with db.reading(c.world.url) as s:
        user = s.get(User, c.client.user_id)
        assert verify_password("a brand new passphrase", user.password_hash)
        assert all(s.get(AuthSession, sid).revoked_at is not None for sid in sids)
        assert all(auth.check_session(s, sid) is None for sid in sids)
    with pytest.raises(links.LinkRefused, match="already used"):
        _reset(c, token, password="yet another passphrase")


def test_a_reset_with_a_weak_password_or_an_expired_link_writes_nothing(c):
    sids = _sessions(c, c.client, 1)
    _request(c, "cleo@example.org")
    token, before = _token(c.world.url, "password_reset"), _counts(c.world.url)
    with pytest.raises(ValidationError, match="at least 12"):
        _reset(c, token, password="short")
    with pytest.raises(links.LinkRefused, match="expired"):
        _reset(c, token, now=utcnow() + timedelta(hours=1, seconds=1))
    assert _counts(c.world.url) == before
    with db.reading(c.world.url) as s:
        assert s.get(AuthSession, sids[0]).revoked_at is None


def test_a_newer_reset_link_replaces_the_older_one(c):
    _request(c, "cleo@example.org")
    old = _token(c.world.url, "password_reset")
    _request(c, "cleo@example.org")
    with pytest.raises(links.LinkRefused, match="replaced by a newer one"):
        _reset(c, old)
    _reset(c, _token(c.world.url, "password_reset"))


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent(c):
    assert _request(c, "nobody@example.org") == _request(c, "cleo@example.org")
    assert _request(c, "not an address") == password_reset.ANSWER
    with db.reading(c.world.url) as s:
        assert [r.address for r in s.scalars(select(Outbox))] == ["cleo@example.org"]
        assert s.scalar(select(func.count()).select_from(LinkToken)) == 1


def test_reset_requests_are_throttled_like_sign_ins(c):
    for _ in range(6):  # the fifth starts the account's cooldown, as a fifth wrong password does
        _request(c, "cleo@example.org")
    with db.reading(c.world.url) as s:
        assert s.scalar(select(func.count()).select_from(Outbox)) == 5
        assert s.get(User, c.client.user_id).locked_until is not None
    with db.transaction(c.world.url) as s:
        update_setting(s, SYSTEM, "throttle_address_failures", 10)
    for _ in range(10):
        _request(c, "nobody@example.org", address="198.51.100.7")
    _request(c, "colin@example.org", address="198.51.100.7")  # a real account, a blocked address
    _request(c, "ravi@example.org", address="192.0.2.1")
    with db.reading(c.world.url) as s:
        sent = list(s.scalars(select(Outbox.address).order_by(Outbox.id)))
    assert sent[5:] == ["ravi@example.org"]


def test_a_reset_link_lifts_the_cooldown_its_requests_started(c):
    for _ in range(5):
        _request(c, "cleo@example.org")
    _reset(c, _token(c.world.url, "password_reset"))
    with db.transaction(c.world.url) as s:
        assert auth.open_session(s, "cleo").username == "cleo"
