"""Passwords, sessions and sign-in records through core.auth and core.passwords."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core import auth, db, passwords
from core.errors import ValidationError
from core.models import AuditLog, AuthSession, SystemSetting, User, utcnow
from core.users import sign_out_everywhere
from tests.apptest import APP
from tests.factories import PASSWORD, make_actor


@pytest.mark.parametrize(
    "password, ok",
    [
        ("kestrelmang", False),
        ("kestrelmango", True),
        ("é" * 36, True),
        ("é" * 37, False),
        ("x" * 72, True),
        ("x" * 73, False),
        ("lowercaseonly", True),
        ("ALL CAPS WORDS", True),
        ("password1234", False),
        ("Password1234", False),
        ("qwertyuiop12", False),
        ("123456789012", False),
    ],
)
def test_password_policy_is_length_and_common_list_only(password, ok):
    if ok:
        passwords.check_password_policy(password)
    else:
        with pytest.raises(ValidationError, match=r"characters|bytes|too common"):
            passwords.check_password_policy(password)


def test_password_equal_to_the_username_is_refused():
    with pytest.raises(ValidationError, match="too common"):
        passwords.check_password_policy("averylongusername", "AveryLongUsername")


def test_verify_password_never_raises_on_overlong_input():
    hashed = passwords.hash_password("a" * 20, rounds=4)
    assert passwords.verify_password("a" * 20, hashed)
    assert not passwords.verify_password("a" * 100, hashed)


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
        assert (
            auth.check_session(s, first.session_id, now=start + timedelta(minutes=29)) is not None
        )
    with db.transaction(db_url) as s:
        assert auth.check_session(s, first.session_id, now=start + timedelta(minutes=60)) is None
    with db.reading(db_url) as s:
        assert s.get(AuthSession, first.session_id).revoked_reason == "expired"


def test_sign_out_revokes_the_session_and_its_cookie(db_url):
    make_actor(db_url, "analyst", username="ann")
    start = utcnow()
    with db.transaction(db_url) as s:
        actor = auth.open_session(s, "ann", now=start)
        auth.bind_cookie(s, actor.session_id, "cookie-one")
    with db.transaction(db_url) as s:
        assert auth.resume_session(s, "cookie-one", now=start) is not None
        auth.close_session(s, actor, now=start + timedelta(minutes=1))
    with db.transaction(db_url) as s:
        assert auth.check_session(s, actor.session_id) is None
        assert auth.resume_session(s, "cookie-one") is None
    with db.reading(db_url) as s:
        assert s.get(AuthSession, actor.session_id).revoked_reason == "sign_out"


def _remembered(url: str, username: str, now, token: str):
    """A sign-in by form and the remember-me cookie issued with it."""
    with db.transaction(url) as s:
        actor = auth.open_session(s, username, now=now)
        auth.bind_cookie(s, actor.session_id, token)
    return actor


def test_a_cookie_resumes_only_its_own_live_session(db_url):
    make_actor(db_url, "analyst", username="ann")
    start = utcnow()
    actor = _remembered(db_url, "ann", start, "cookie-one")
    with db.transaction(db_url) as s:
        assert (
            auth.resume_session(s, "cookie-one", now=start + timedelta(minutes=20)).session_id
            == actor.session_id
        )
        assert auth.resume_session(s, "cookie-two", now=start) is None
    with db.reading(db_url) as s:  # the database holds only the cookie's fingerprint
        assert s.get(AuthSession, actor.session_id).cookie_hash == auth.cookie_fingerprint(
            "cookie-one"
        )
    with db.transaction(db_url) as s:  # idle since the resume 20 minutes in
        assert auth.resume_session(s, "cookie-one", now=start + timedelta(minutes=51)) is None
    with db.transaction(db_url) as s:  # and it stays ended
        assert auth.resume_session(s, "cookie-one", now=start + timedelta(minutes=52)) is None
        assert s.get(AuthSession, actor.session_id).revoked_reason == "expired"


def test_a_cookie_kept_alive_still_ends_at_the_absolute_timeout(db_url):
    make_actor(db_url, "analyst", username="ann")
    start = utcnow()
    _remembered(db_url, "ann", start, "cookie-one")
    for minutes in range(25, 12 * 60, 25):
        with db.transaction(db_url) as s:
            assert auth.resume_session(s, "cookie-one", now=start + timedelta(minutes=minutes))
    with db.transaction(db_url) as s:
        assert (
            auth.resume_session(s, "cookie-one", now=start + timedelta(hours=12, minutes=1)) is None
        )


def test_sign_out_in_one_browser_ends_a_copied_cookie_in_another(db_url):
    make_actor(db_url, "analyst", username="ann")
    start = utcnow()
    _remembered(db_url, "ann", start, "cookie-one")
    with db.transaction(db_url) as s:
        first = auth.resume_session(s, "cookie-one", now=start)
        copy = auth.resume_session(s, "cookie-one", now=start)
    assert first.session_id == copy.session_id  # one session, not a second independent one
    with db.transaction(db_url) as s:
        auth.close_session(s, copy, now=start + timedelta(minutes=1))
    with db.transaction(db_url) as s:
        assert auth.check_session(s, first.session_id) is None
        assert auth.resume_session(s, "cookie-one") is None


def test_sign_out_everywhere_ends_every_cookie(db_url):
    admin = make_actor(db_url, "admin", username="boss")
    target = make_actor(db_url, "analyst", username="ann")
    start = utcnow()
    _remembered(db_url, "ann", start, "cookie-one")
    _remembered(db_url, "ann", start, "cookie-two")
    with db.transaction(db_url) as s:
        assert sign_out_everywhere(s, admin, target.user_id, now=start + timedelta(seconds=1)) == 2
    with db.transaction(db_url) as s:
        assert auth.resume_session(s, "cookie-one") is None
        assert auth.resume_session(s, "cookie-two") is None


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
    with pytest.raises(ValidationError, match="current password"), db.transaction(db_url) as s:
        passwords.change_password(
            s, actor, old="wrong password!", new="another long passphrase", rounds=4
        )
    with pytest.raises(ValidationError, match="at least 12"), db.transaction(db_url) as s:
        passwords.change_password(s, actor, old=PASSWORD, new="short", rounds=4)
    with db.transaction(db_url) as s:
        passwords.change_password(s, actor, old=PASSWORD, new="another long passphrase", rounds=4)
    with db.reading(db_url) as s:
        user = s.get(User, actor.user_id)
        assert passwords.verify_password("another long passphrase", user.password_hash)
        assert user.sessions_valid_after is not None


def _failed_form_sign_in_seconds(username: str, password: str) -> float:
    """Wall time of one failed sign-in through the real form in app.py."""
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    start = time.perf_counter()
    at.button[0].click().run()
    elapsed = time.perf_counter() - start
    assert [e.value for e in at.error] == [auth.FAILED_SIGN_IN]
    return elapsed


def test_unknown_user_costs_as_much_as_a_wrong_password(sqlite_url, env):
    env(sqlite_url)
    make_actor(sqlite_url, "analyst", username="ann")
    with db.transaction(sqlite_url) as s:
        # A real cost for this account: at cost 4 the bcrypt check would hide in the noise.
        s.scalar(
            select(User).where(User.username == "ann")
        ).password_hash = passwords.hash_password(PASSWORD, rounds=11)
        s.merge(SystemSetting(key="throttle_address_failures", value=1000))
    _failed_form_sign_in_seconds("warm-up", "first run imports everything")
    wrong, unknown = [], []
    for _ in range(20):
        wrong.append(_failed_form_sign_in_seconds("ann", "not the password at all"))
        with db.transaction(sqlite_url) as s:
            ann = s.scalar(select(User).where(User.username == "ann"))
            assert ann.failed_logins == 1  # the wrong password was checked against the account
            ann.failed_logins = 0  # and no cooldown turns later tries into another path
        unknown.append(_failed_form_sign_in_seconds("nobody", "not the password at all"))
    # The fastest of twenty is each path's own cost: load on the machine only ever adds to a run,
    # so a median swings with whatever else is running while the minimum does not.
    ratio = min(wrong) / min(unknown)
    assert 1 / 1.5 < ratio < 1.5, (min(wrong), min(unknown))


@pytest.mark.parametrize(
    "url, forwarded_proto, secure",
    [
        ("https://assess.example.com/", None, True),
        ("http://127.0.0.1:8501/", "https", True),  # nginx terminated TLS and said so
        ("http://127.0.0.1:8501/", "HTTPS, http", True),
        ("http://127.0.0.1:8501/", None, False),
        ("http://127.0.0.1:8501/", "http", False),
        (None, None, False),  # AppTest: no browser URL at all
    ],
)
def test_the_cookie_is_secure_whenever_the_browser_talks_https(url, forwarded_proto, secure):
    from ui.login import served_over_https

    assert served_over_https(url, forwarded_proto) is secure
