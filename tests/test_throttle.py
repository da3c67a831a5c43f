"""Per-address throttling: the client address behind trusted proxies, failing closed without one,
and failed sign-ins during a cooldown attributed to the account that was tried."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core import auth, db, throttle
from core.config import trusted_proxies
from core.models import SignInAttempt, User, utcnow
from tests.apptest import APP, DEMO_PASSWORD
from tests.factories import make_actor

NGINX_HERE = trusted_proxies("127.0.0.1, ::1")
TWO_HOPS = trusted_proxies("127.0.0.1, 10.0.0.0/8")


@pytest.mark.parametrize(
    "peer, forwarded_for, trusted, expected",
    [
        # A peer that is no trusted proxy is the client, whatever X-Forwarded-For it sends.
        ("203.0.113.9", [], (), "203.0.113.9"),
        ("203.0.113.9", ["198.51.100.1"], (), "203.0.113.9"),
        ("203.0.113.9", ["198.51.100.1"], NGINX_HERE, "203.0.113.9"),
        ("127.0.0.1", ["198.51.100.1"], (), "127.0.0.1"),
        # Behind a trusted proxy: the right-most entry, what nginx appended.
        ("127.0.0.1", ["203.0.113.9"], NGINX_HERE, "203.0.113.9"),
        # A client-sent (spoofed) entry left of it is ignored.
        ("127.0.0.1", ["198.51.100.1, 203.0.113.9"], NGINX_HERE, "203.0.113.9"),
        (
            "127.0.0.1",
            ["198.51.100.1", "203.0.113.9"],
            NGINX_HERE,
            "203.0.113.9",
        ),  # repeated header
        # Trusted hops are skipped from the right, CIDR networks included.
        ("127.0.0.1", ["203.0.113.9, 10.1.2.3"], TWO_HOPS, "203.0.113.9"),
        ("10.9.9.9", ["198.51.100.1, 203.0.113.9, 10.1.2.3"], TWO_HOPS, "203.0.113.9"),
        # ...but an untrusted hop is where belief stops, even if trusted-looking entries are left of it.
        ("127.0.0.1", ["10.1.2.3, 203.0.113.9"], TWO_HOPS, "203.0.113.9"),
        ("::1", ["2001:db8::7"], NGINX_HERE, "2001:db8::7"),
        ("127.0.0.1", ["[2001:db8::7]:4711"], NGINX_HERE, "2001:db8::7"),
        ("127.0.0.1", ["203.0.113.9:4711"], NGINX_HERE, "203.0.113.9"),
        ("::ffff:203.0.113.9", [], (), "203.0.113.9"),
        # Nothing usable: one shared key, never an empty (exempt) address.
        ("127.0.0.1", [], NGINX_HERE, "unknown"),
        ("127.0.0.1", [" , "], NGINX_HERE, "unknown"),
        ("127.0.0.1", ["::1, 127.0.0.1"], NGINX_HERE, "unknown"),
        ("127.0.0.1", ["not-an-address"], NGINX_HERE, "unknown"),
        ("127.0.0.1", ["203.0.113.9, junk"], NGINX_HERE, "unknown"),
        (None, [], (), "unknown"),
        ("", ["203.0.113.9"], NGINX_HERE, "unknown"),
    ],
)
def test_client_address_believes_forwarded_for_only_from_trusted_proxies(
    peer, forwarded_for, trusted, expected
):
    assert throttle.client_address(peer, forwarded_for, trusted) == expected


def _fail(url, username, times, address, now):
    for i in range(times):
        with db.transaction(url) as s:
            auth.record_failed_sign_in(
                s, username, client_address=address, now=now + timedelta(seconds=i)
            )


def _blocked(url, address, now):
    with db.reading(url) as s:
        return throttle.address_blocked(s, address, now)


def test_sign_ins_without_an_address_are_throttled_together(db_url):
    now = utcnow()
    _fail(db_url, "", 49, "", now)
    assert not _blocked(db_url, "", now + timedelta(minutes=1))
    _fail(db_url, "", 1, "", now + timedelta(seconds=50))
    assert _blocked(db_url, "", now + timedelta(minutes=1))
    assert _blocked(db_url, throttle.UNKNOWN_ADDRESS, now + timedelta(minutes=1))
    assert not _blocked(db_url, "203.0.113.9", now + timedelta(minutes=1))
    with db.reading(db_url) as s:
        assert set(s.scalars(select(SignInAttempt.client_address))) == {"unknown"}


def test_failures_during_a_cooldown_do_not_extend_it(db_url):
    make_actor(db_url, "analyst", username="ann")
    now = utcnow()
    _fail(db_url, "ann", 5, "203.0.113.9", now)
    with db.reading(db_url) as s:
        first = s.scalar(select(User.locked_until).where(User.username == "ann"))
    _fail(db_url, "ann", 10, "203.0.113.9", now + timedelta(minutes=1))
    with db.reading(db_url) as s:
        user = s.scalar(select(User).where(User.username == "ann"))
        assert (user.locked_until, user.lockouts, user.failed_logins) == (first, 1, 0)
        assert (
            s.scalar(select(SignInAttempt.username).order_by(SignInAttempt.id.desc()).limit(1))
            == "ann"
        )


def _submit(username: str, password: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception
    return at


def _last_attempt(url) -> SignInAttempt:
    with db.reading(url) as s:
        return s.scalar(select(SignInAttempt).order_by(SignInAttempt.id.desc()).limit(1))


def test_a_sign_in_during_a_cooldown_is_recorded_under_the_typed_username(app_env):
    _fail(app_env, "analyst", 5, "203.0.113.9", utcnow())
    at = _submit("analyst", DEMO_PASSWORD)  # even the right password is refused now
    assert [e.value for e in at.error] == [auth.FAILED_SIGN_IN] and "sid" not in at.session_state
    attempt = _last_attempt(app_env)
    assert (attempt.username, attempt.succeeded) == ("analyst", False)
    assert attempt.user_id is not None


def test_a_form_sign_in_with_no_peer_address_is_recorded_under_a_shared_key(app_env, monkeypatch):
    # AppTest has no peer; the app treats that as loopback, which is the client unless trusted.
    _submit("demo_client", "not the password at all")
    assert _last_attempt(app_env).client_address == "127.0.0.1"
    monkeypatch.setenv("SECURESPHERE_TRUSTED_PROXIES", "127.0.0.1")
    _submit("demo_client", "not the password at all")
    assert _last_attempt(app_env).client_address == "unknown"
