"""The second factor in core (core/second_factor.py) on SQLite and PostgreSQL: enrolment,
codes within one step of drift and never twice, recovery codes once each, bad input, throttling
like passwords, and an admin's reset (audited, sessions ended)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from core import db
from core.auth import check_session, open_session
from core.errors import AccessDenied, ValidationError
from core.models import AuditLog, AuthSession, RecoveryCode, User
from core.second_factor import (
    FAILED_CODE,
    STEP,
    begin_enrolment,
    check_code,
    confirm_enrolment,
    is_enrolled,
    recovery_codes_left,
    reset_second_factor,
)
from tests.factories import make_actor

NOW = datetime(2026, 12, 2, 9, 0, 0, tzinfo=UTC)


def _code(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret, interval=STEP).at(at)


@pytest.fixture
def enrolled(db_url):
    """An admin with a confirmed factor; returns (actor, secret, recovery codes)."""
    admin = make_actor(db_url, "admin", None, "ada")
    with db.transaction(db_url) as s:
        secret = begin_enrolment(s, admin).secret
    with db.transaction(db_url) as s:
        codes = confirm_enrolment(s, admin, _code(secret, NOW), now=NOW)
    return admin, secret, codes


def _check(url: str, code: str, at: datetime, username: str = "ada") -> None:
    """The sign-in's code step: commits what check_code recorded, then refuses a wrong code."""
    with db.transaction(url) as s:
        accepted = check_code(s, username, code, client_address="10.0.0.8", now=at)
    if not accepted:
        raise ValidationError(FAILED_CODE)


def _user(url: str, username: str = "ada") -> User:
    with db.reading(url) as s:
        return s.scalar(select(User).where(User.username == username))


def test_enrolment_is_pending_until_a_code_confirms_it(db_url):
    admin = make_actor(db_url, "admin", None, "ada")
    with db.transaction(db_url) as s:
        enrolment = begin_enrolment(s, admin)
    assert enrolment.uri.startswith("otpauth://totp/SecureSphere:ada?secret=")
    assert enrolment.qr_svg.startswith("<svg") and "path" in enrolment.qr_svg
    with db.reading(db_url) as s:
        assert not is_enrolled(s, "ada")  # pending: sign-in asks nothing yet
    for bad, message in (("12345", "6-digit"), ("abcdef", "6-digit"), ("", "6-digit")):
        with db.transaction(db_url) as s, pytest.raises(ValidationError, match=message):
            confirm_enrolment(s, admin, bad, now=NOW)
    wrong = _code(enrolment.secret, NOW + timedelta(minutes=5))
    with db.transaction(db_url) as s, pytest.raises(ValidationError, match="not valid"):
        confirm_enrolment(s, admin, wrong, now=NOW)
    assert _user(db_url).totp_secret is None
    with db.transaction(db_url) as s:
        codes = confirm_enrolment(s, admin, _code(enrolment.secret, NOW), now=NOW)
    assert len(codes) == len(set(codes)) == 10
    # 24 base32 characters each (120 bits: ASVS 5.0 6.5.2 lets a plain SHA-256 store them)
    assert all(len(c.replace("-", "")) == 24 and c.count("-") == 5 for c in codes)
    with db.reading(db_url) as s:
        assert is_enrolled(s, "ada") and recovery_codes_left(s, admin) == 10
        hashes = set(s.scalars(select(RecoveryCode.code_hash)))
    # stored as SHA-256 only, never as given
    assert hashes == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    with db.transaction(db_url) as s, pytest.raises(ValidationError, match="Start the set-up"):
        confirm_enrolment(s, admin, _code(enrolment.secret, NOW), now=NOW)


def test_codes_within_one_step_of_drift_and_never_twice(db_url, enrolled):
    _, secret, _ = enrolled
    later = NOW + timedelta(minutes=10)
    _check(db_url, _code(secret, later - timedelta(seconds=STEP)), later)  # a step behind
    with pytest.raises(ValidationError, match="not valid"):  # the same code again
        _check(db_url, _code(secret, later - timedelta(seconds=STEP)), later)
    _check(db_url, _code(secret, later), later)
    with pytest.raises(ValidationError):  # an older step after a newer one was used
        _check(db_url, _code(secret, later - timedelta(seconds=STEP)), later)
    _check(db_url, _code(secret, later + timedelta(seconds=STEP)), later)  # a step ahead
    far = later + timedelta(minutes=5)
    _check(db_url, " ".join(_code(secret, far)[i : i + 3] for i in (0, 3)), far)  # "123 456"
    for expired in (far - timedelta(seconds=2 * STEP), far + timedelta(seconds=2 * STEP)):
        with pytest.raises(ValidationError):  # two steps away: expired or not yet valid
            _check(db_url, _code(secret, expired), far)
    assert _user(db_url).failed_logins == 4 and _user(db_url).locked_until is None
    for malformed in ("", "12 34 5", "1234567", "DROP TABLE", "１２３４５６", "abcde-fghi"):
        with pytest.raises(ValidationError, match=FAILED_CODE):
            _check(db_url, malformed, far)


def test_recovery_codes_work_once_each(db_url, enrolled):
    admin, _, codes = enrolled
    at = NOW + timedelta(hours=1)
    _check(db_url, codes[0], at)
    with pytest.raises(ValidationError):
        _check(db_url, codes[0], at)
    _check(db_url, codes[1].replace("-", "").upper(), at)  # as typed, without the dash
    with db.reading(db_url) as s:
        assert recovery_codes_left(s, admin) == 8
        actions = list(s.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions.count("recovery_code_used") == 2
    assert actions.count("second_factor_failed") == 1


def test_failed_codes_count_like_passwords(db_url, enrolled):
    _, secret, _ = enrolled
    at = NOW + timedelta(hours=2)
    for _ in range(5):
        with pytest.raises(ValidationError):
            _check(db_url, "000000" if _code(secret, at) != "000000" else "111111", at)
    assert _user(db_url).locked_until is not None  # the account's cooldown began
    with pytest.raises(ValidationError):  # even the right code waits for the cooldown
        _check(db_url, _code(secret, at), at)
    with pytest.raises(ValidationError):  # an account without a factor, or none at all
        _check(db_url, "123456", at, username="nobody")


def test_an_admin_resets_a_factor_and_the_sessions_end(db_url, enrolled):
    _, secret, _ = enrolled
    other_admin = make_actor(db_url, "admin", None, "ben")
    reviewer = make_actor(db_url, "lead_reviewer", None, "lee")
    user_id = _user(db_url).id
    with db.transaction(db_url) as s:
        live = open_session(s, "ada", now=NOW).session_id
    with db.transaction(db_url) as s, pytest.raises(AccessDenied):
        reset_second_factor(s, reviewer, user_id)
    with db.transaction(db_url) as s:
        reset_second_factor(s, other_admin, user_id, now=NOW + timedelta(minutes=1))
    with db.reading(db_url) as s:
        assert not is_enrolled(s, "ada")
        assert check_session(s, live, now=NOW + timedelta(minutes=2)) is None
        assert s.scalar(select(AuthSession.revoked_reason).where(AuthSession.id == live)) == (
            "second_factor_reset"
        )
        assert (
            s.scalar(
                select(func.count()).select_from(RecoveryCode).where(RecoveryCode.used_at.is_(None))
            )
            == 0
        )
        row = s.scalar(select(AuditLog).where(AuditLog.action == "second_factor_reset"))
        assert row.actor_id == other_admin.user_id
    with pytest.raises(ValidationError):  # the old codes no longer sign in
        _check(db_url, _code(secret, NOW + timedelta(hours=3)), NOW + timedelta(hours=3))
    with db.transaction(db_url) as s, pytest.raises(ValidationError, match="no second factor"):
        reset_second_factor(s, other_admin, user_id)
