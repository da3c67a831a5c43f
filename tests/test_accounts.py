"""Throttling, session revocation, admin account management and reviewer visibility."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import assessments, auth, db, passwords, workspace
from core.errors import AccessDenied, ValidationError
from core.models import AuditLog, SystemSetting, User, utcnow
from core.user_directory import list_users
from core.users import (
    reset_password,
    set_user_active,
    sign_out_everywhere,
    unlock_user,
    update_user,
)
from tests.factories import PASSWORD, baseline_id, make_actor, make_org, make_product

ADDRESS = "203.0.113.7"


def _fail(url, username, times, now, address=ADDRESS):
    for i in range(times):
        with db.transaction(url) as s:
            auth.record_failed_sign_in(
                s, username, client_address=address, now=now + timedelta(seconds=i)
            )


def _can_sign_in(url, username, now, address=ADDRESS):
    """Whether the form would accept the right password: accounts in a cooldown stay in the
    credentials (so a refusal costs the same bcrypt work) with a hash no password matches."""
    with db.reading(url) as s:
        entry = auth.credentials(s, client_address=address, now=now)["usernames"].get(username)
    return entry is not None and passwords.verify_password(PASSWORD, entry["password"])


def test_five_failures_start_a_cooldown_that_doubles_up_to_an_hour(db_url):
    make_actor(db_url, "analyst", username="ann")
    now = utcnow()
    _fail(db_url, "ann", 4, now)
    assert _can_sign_in(db_url, "ann", now)
    _fail(db_url, "ann", 1, now)
    assert not _can_sign_in(db_url, "ann", now + timedelta(minutes=14))
    assert _can_sign_in(db_url, "ann", now + timedelta(minutes=16))
    cooldowns = []
    for round_ in range(1, 5):
        later = now + timedelta(hours=2 * round_)
        _fail(db_url, "ann", 5, later)
        with db.reading(db_url) as s:
            user = s.scalar(select(User).where(User.username == "ann"))
            cooldowns.append(round((user.locked_until - later).total_seconds() / 60))
    assert cooldowns == [30, 60, 60, 60]


def test_open_session_is_refused_during_a_cooldown_with_the_generic_message(db_url):
    make_actor(db_url, "analyst", username="ann")
    now = utcnow()
    _fail(db_url, "ann", 5, now)
    with pytest.raises(ValidationError, match="Incorrect username or password"):
        with db.transaction(db_url) as s:
            auth.open_session(s, "ann", now=now + timedelta(minutes=1))


def test_success_clears_counters_and_admin_can_unlock(db_url):
    actor = make_actor(db_url, "admin", username="boss")
    make_actor(db_url, "analyst", username="ann")
    now = utcnow()
    _fail(db_url, "ann", 5, now)
    with db.transaction(db_url) as s:
        unlock_user(s, actor, s.scalar(select(User.id).where(User.username == "ann")), now=now)
    assert _can_sign_in(db_url, "ann", now)
    with db.transaction(db_url) as s:
        auth.open_session(s, "ann", now=now)
        user = s.scalar(select(User).where(User.username == "ann"))
        assert (user.failed_logins, user.lockouts, user.locked_until) == (0, 0, None)


def test_many_failures_from_one_address_block_it_but_not_other_addresses(db_url):
    make_actor(db_url, "analyst", username="ann")
    now = utcnow()
    for name in (f"guess{i}" for i in range(50)):
        _fail(db_url, name, 1, now)
    assert not _can_sign_in(db_url, "ann", now)
    assert _can_sign_in(db_url, "ann", now, address="198.51.100.1")
    assert _can_sign_in(db_url, "ann", now + timedelta(minutes=16))


def test_throttle_counters_survive_a_restart(db_url):
    make_actor(db_url, "analyst", username="ann")
    now = utcnow()
    _fail(db_url, "ann", 5, now)
    db.dispose_all()  # a new process sees only what the database holds
    assert not _can_sign_in(db_url, "ann", now + timedelta(minutes=1))


def test_absolute_timeout_ends_an_active_session(db_url):
    make_actor(db_url, "analyst", username="ann")
    start = utcnow()
    with db.transaction(db_url) as s:
        actor = auth.open_session(s, "ann", now=start)
    moment = start
    for _ in range(26):  # active every 29 minutes, for more than 12 hours
        moment += timedelta(minutes=29)
        with db.transaction(db_url) as s:
            alive = auth.check_session(s, actor.session_id, now=moment)
        if alive is None:
            break
    assert alive is None and moment - start > timedelta(hours=12)


def test_timeouts_come_from_settings(db_url):
    make_actor(db_url, "analyst", username="ann")
    start = utcnow()
    with db.transaction(db_url) as s:
        s.merge(SystemSetting(key="session_idle_minutes", value=5))
        actor = auth.open_session(s, "ann", now=start)
    with db.transaction(db_url) as s:
        assert auth.check_session(s, actor.session_id, now=start + timedelta(minutes=6)) is None


def test_deactivation_and_sign_out_everywhere_end_sessions_and_cookies(db_url):
    admin = make_actor(db_url, "admin", username="boss")
    target = make_actor(db_url, "analyst", username="ann")
    start = utcnow()
    with db.transaction(db_url) as s:
        first = auth.open_session(s, "ann", now=start)
        second = auth.open_session(s, "ann", now=start)
        auth.bind_cookie(s, second.session_id, "cookie-of-the-second-browser")
    with db.transaction(db_url) as s:
        assert sign_out_everywhere(s, admin, target.user_id, now=start + timedelta(seconds=1)) == 2
        assert auth.check_session(s, first.session_id) is None
        assert auth.resume_session(s, "cookie-of-the-second-browser") is None
    with db.transaction(db_url) as s:
        third = auth.open_session(s, "ann")
        set_user_active(s, admin, target.user_id, False)
    with db.transaction(db_url) as s:
        assert auth.check_session(s, third.session_id) is None
        assert "ann" not in auth.credentials(s)["usernames"]
    assert second.session_id != third.session_id


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(db_url):
    admin = make_actor(db_url, "admin", username="boss")
    with pytest.raises(ValidationError, match="last active admin"), db.transaction(db_url) as s:
        update_user(
            s, admin, admin.user_id, name="Boss", email="", role="analyst", organization_id=None
        )
    with pytest.raises(ValidationError, match="last active admin"), db.transaction(db_url) as s:
        set_user_active(s, admin, admin.user_id, False)
    second = make_actor(db_url, "admin", username="deputy")
    with db.transaction(db_url) as s:
        set_user_active(s, second, admin.user_id, False)
    with db.reading(db_url) as s:
        assert not s.get(User, admin.user_id).is_active


def test_password_reset_gives_a_one_time_password_that_must_be_changed(db_url):
    admin = make_actor(db_url, "admin", username="boss")
    target = make_actor(db_url, "analyst", username="ann")
    with db.transaction(db_url) as s:
        session_before = auth.open_session(s, "ann")
        otp = reset_password(s, admin, target.user_id, rounds=4)
    with db.transaction(db_url) as s:
        user = s.get(User, target.user_id)
        assert user.must_change_password and passwords.verify_password(otp, user.password_hash)
        assert auth.check_session(s, session_before.session_id) is None
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "password_reset")).all()
        assert rows and otp not in str([r.detail for r in rows])


def test_only_admins_manage_accounts(db_url):
    manager = make_actor(db_url, "security_manager", username="sam")
    target = make_actor(db_url, "analyst", username="ann")
    for call in (
        lambda s: list_users(s, manager),
        lambda s: unlock_user(s, manager, target.user_id),
        lambda s: reset_password(s, manager, target.user_id),
        lambda s: set_user_active(s, manager, target.user_id, False),
    ):
        with pytest.raises(AccessDenied), db.transaction(db_url) as s:
            call(s)


def test_user_list_searches_filters_and_pages(db_url):
    admin = make_actor(db_url, "admin", username="boss")
    org = make_org(db_url)
    for i in range(7):
        make_actor(db_url, "client", org, username=f"client{i}")
    with db.reading(db_url) as s:
        rows, total = list_users(s, admin, role="client", page=2, page_size=5)
        assert total == 7 and [r.username for r in rows] == ["client5", "client6"]
        rows, total = list_users(s, admin, search="BOSS")
        assert total == 1 and rows[0].role == "admin"


def test_role_change_ends_the_users_sessions(db_url):
    admin = make_actor(db_url, "admin", username="boss")
    target = make_actor(db_url, "analyst", username="ann")
    with db.transaction(db_url) as s:
        live = auth.open_session(s, "ann")
        update_user(
            s,
            admin,
            target.user_id,
            name="Ann",
            email="ann@example.com",
            role="security_manager",
            organization_id=None,
        )
    with db.transaction(db_url) as s:
        assert auth.check_session(s, live.session_id) is None


def test_reviewers_see_only_their_assessments_when_visibility_is_assigned(db_url):
    org = make_org(db_url)
    client = make_actor(db_url, "client", org)
    reviewer = make_actor(db_url, "lead_reviewer", username="rev")
    other = make_actor(db_url, "lead_reviewer", username="rev2")
    with db.transaction(db_url) as s:
        a = assessments.start_assessment(
            s, client, product_id=make_product(db_url, client), questionnaire_id=baseline_id(db_url)
        )
        s.merge(SystemSetting(key="reviewer_visibility", value="assigned"))
        s.get(type(a), a.id).reviewer_id = other.user_id
    with db.reading(db_url) as s, pytest.raises(AccessDenied):
        workspace.get_assessment(s, reviewer, a.id)
    with db.reading(db_url) as s:
        assert workspace.get_assessment(s, other, a.id).id == a.id
        assert assessments.client_overview(s, reviewer) == []
