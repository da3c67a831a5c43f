"""Passwords, sessions and sign-in records through core.auth."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import auth, db
from core.errors import ValidationError
from core.models import AuditLog, AuthSession, User, utcnow
from tests.factories import PASSWORD, make_actor


@pytest.mark.parametrize("password, ok", [
    ("kestrelmang", False), ("kestrelmango", True), ("é" * 36, True), ("é" * 37, False),
    ("x" * 72, True), ("x" * 73, False), ("lowercaseonly", True), ("ALL CAPS WORDS", True),
    ("password1234", False), ("Password1234", False), ("qwertyuiop12", False),
    ("123456789012", False),
])
def test_password_policy_is_length_and_common_list_only(password, ok):
    if ok:
        auth.check_password_policy(password)
    else:
        with pytest.raises(ValidationError, match="characters|bytes|too common"):
            auth.check_password_policy(password)


def test_password_equal_to_the_username_is_refused():
    with pytest.raises(ValidationError, match="too common"):
        auth.check_password_policy("averylongusername", "AveryLongUsername")


def test_verify_password_never_raises_on_overlong_input():
    hashed = auth.hash_password("a" * 20, rounds=4)
    assert auth.verify_password("a" * 20, hashed)
    assert not auth.verify_password("a" * 100, hashed)


def test_credentials_list_only_active_users_with_hashes(db_url):
    make_actor(db_url, "analyst", username="active")
    make_actor(db_url, "analyst", username="gone")
    with db.transaction(db_url) as s:
        s.scalar(select(User).where(User.username == "gone")).is_active = False
    with db.reading(db_url) as s:
        creds = auth.credentials(s)["usernames"]
    assert set(creds) == {"active"}
    assert creds["active"]["password"].startswith("$2") and creds["active"]["roles"] == ["analyst"]


def test_each_sign_in_opens_a_new_session_that_expires_when_idle(db_url):
    make_actor(db_url, "analyst", username="ann")
    start = utcnow()
    with db.transaction(db_url) as s:
        first = auth.open_session(s, "ann", now=start)
        second = auth.open_session(s, "ann", now=start)
    assert first.session_id != second.session_id
    with db.transaction(db_url) as s:
        assert auth.check_session(s, first.session_id, now=start + timedelta(minutes=29)) is not None
    with db.transaction(db_url) as s:
        assert auth.check_session(s, first.session_id, now=start + timedelta(minutes=60)) is None
    with db.reading(db_url) as s:
        assert s.get(AuthSession, first.session_id).revoked_reason == "expired"


def test_sign_out_revokes_the_session_and_older_cookies(db_url):
    make_actor(db_url, "analyst", username="ann")
    start = utcnow()
    with db.transaction(db_url) as s:
        actor = auth.open_session(s, "ann", now=start)
    with db.transaction(db_url) as s:
        assert auth.cookie_still_valid(s, "ann", start)
        auth.close_session(s, actor, now=start + timedelta(minutes=1))
    with db.transaction(db_url) as s:
        assert auth.check_session(s, actor.session_id) is None
        assert not auth.cookie_still_valid(s, "ann", start)
        assert auth.cookie_still_valid(s, "ann", start + timedelta(minutes=2))


def test_failed_sign_in_is_counted_and_audited_without_the_password(db_url):
    make_actor(db_url, "analyst", username="ann")
    with db.transaction(db_url) as s:
        auth.record_failed_sign_in(s, "ann")
        auth.record_failed_sign_in(s, "nobody")
    with db.reading(db_url) as s:
        assert s.scalar(select(User.failed_logins).where(User.username == "ann")) == 1
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "sign_in_failed")).all()
    assert len(rows) == 2 and all("password" not in r.detail for r in rows)


def test_change_password_needs_the_old_one_and_a_valid_new_one(db_url):
    actor = make_actor(db_url, "analyst", username="ann")
    with pytest.raises(ValidationError, match="current password"):
        with db.transaction(db_url) as s:
            auth.change_password(s, actor, old="wrong password!", new="another long passphrase", rounds=4)
    with pytest.raises(ValidationError, match="at least 12"):
        with db.transaction(db_url) as s:
            auth.change_password(s, actor, old=PASSWORD, new="short", rounds=4)
    with db.transaction(db_url) as s:
        auth.change_password(s, actor, old=PASSWORD, new="another long passphrase", rounds=4)
    with db.reading(db_url) as s:
        user = s.get(User, actor.user_id)
        assert auth.verify_password("another long passphrase", user.password_hash)
        assert user.sessions_valid_after is not None
