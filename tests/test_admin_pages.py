"""Admin pages and the forced password change, through AppTest on the demo database."""

import pytest
from sqlalchemy import select

from core import auth, db, passwords
from core.models import AuditLog, Organization, User
from core.settings import get_settings
from core.text import md_escape
from tests.apptest import rerun, signed_in


def _user(url, username):
    with db.reading(url) as s:
        return s.scalar(select(User).where(User.username == username))


def _on(at, path):
    return at.switch_page(path).run()


def test_admin_creates_a_user_and_sees_the_one_time_password_once(app_env):
    at = _on(signed_in(app_env, "admin").run(), "pages/admin_users.py")
    at.text_input(key="new_username").input("newbie")
    at.text_input(key="new_name").input("New Bie")
    at.selectbox(key="new_role").select("analyst")
    next(b for b in at.button if b.label == "Create user").click()
    rerun(at)
    assert not at.exception
    shown = [m.value for m in at.success if "One-time password" in m.value]
    assert len(shown) == 1
    otp = shown[0].split("`")[1]
    user = _user(app_env, "newbie")
    assert user.must_change_password and passwords.verify_password(otp, user.password_hash)


def test_admin_deactivates_a_user_after_confirming(app_env):
    with db.transaction(app_env) as s:
        victim = auth.open_session(s, "analyst")
    at = _on(signed_in(app_env, "admin").run(), "pages/admin_users.py")
    next(s for s in at.selectbox if s.label == "Manage user").select("analyst")
    rerun(at)
    assert _user(app_env, "analyst").is_active  # opening the popover alone changes nothing
    at.button(key="deactivate").click()
    rerun(at)
    assert not at.exception
    assert not _user(app_env, "analyst").is_active
    # The page reruns after the change; the confirmation must survive it (a toast would not).
    assert [m.value for m in at.success] == [md_escape("User deactivated.")]
    with db.transaction(app_env) as s:
        assert auth.check_session(s, victim.session_id) is None


def test_admin_creates_an_organisation(app_env):
    at = _on(signed_in(app_env, "admin").run(), "pages/admin_organizations.py")
    next(t for t in at.text_input if t.label == "Name").input("Newco Ltd")
    next(b for b in at.button if b.label == "Create organisation").click()
    rerun(at)
    assert not at.exception
    with db.reading(app_env) as s:
        assert s.scalar(select(Organization).where(Organization.name == "Newco Ltd")) is not None


def test_sign_in_activity_lists_sessions_and_attempts(app_env):
    at = _on(signed_in(app_env, "admin").run(), "pages/admin_activity.py")
    assert not at.exception
    assert at.metric[0].label == "Active sessions" and int(at.metric[0].value) >= 1


def test_one_time_password_must_be_changed_before_anything_else(app_env):
    with db.transaction(app_env) as s:
        user = s.scalar(select(User).where(User.username == "security_manager"))
        user.must_change_password = True
    at = signed_in(app_env, "security_manager").run()
    assert not at.exception
    assert at.title[0].value == "My profile"
    assert "one-time password" in at.warning[0].value
    with pytest.raises(ValueError, match=r"Known pages: .*profile.py'\]"):
        at.switch_page("pages/portfolio_home.py")  # nothing else is registered until the change
    fields = {t.label: t for t in at.text_input}
    fields["Current password"].input("demo password 2026")
    fields["New password"].input("a brand new passphrase")
    fields["Repeat new password"].input("a brand new passphrase")
    next(b for b in at.button if b.label == "Change password").click()
    rerun(at)
    assert not at.exception
    assert not _user(app_env, "security_manager").must_change_password
    assert not [w for w in at.warning if "one-time password" in w.value]
    assert _on(at, "pages/portfolio_home.py").title[0].value == "Portfolio"


def test_admin_changes_a_setting_and_it_is_audited(app_env):
    at = _on(signed_in(app_env, "admin").run(), "pages/admin_settings.py")
    next(n for n in at.number_input if n.label == "Idle sign-out (minutes)").set_value(20)
    next(b for b in at.button if b.label == "Save settings").click()
    rerun(at)
    assert not at.exception
    with db.reading(app_env) as s:
        assert get_settings(s)["session_idle_minutes"] == 20
        row = s.scalar(
            select(AuditLog)
            .where(AuditLog.action == "setting_changed")
            .order_by(AuditLog.id.desc())
            .limit(1)
        )
    assert row.detail == {"old": 30, "new": 20}


def test_bad_bands_are_refused_and_nothing_changes(app_env):
    at = _on(signed_in(app_env, "admin").run(), "pages/admin_settings.py")
    next(n for n in at.number_input if n.label == "Low risk from").set_value(30.0)
    next(b for b in at.button if b.label == "Save bands").click()
    rerun(at)
    assert any("highest first" in e.value for e in at.error)
    with db.reading(app_env) as s:
        assert get_settings(s)["score_bands"][0][0] == 80.0


def test_audit_trail_page_lists_rows_newest_first(app_env):
    at = _on(signed_in(app_env, "admin").run(), "pages/admin_audit.py")
    assert not at.exception
    times = list(at.dataframe[0].value["when"])
    assert times == sorted(times, reverse=True) and len(times) == 50


def test_audit_trail_shows_actions_and_details_as_words(app_env):
    with db.reading(app_env) as s:
        old = get_settings(s)["session_idle_minutes"]
    at = _on(signed_in(app_env, "admin").run(), "pages/admin_settings.py")
    next(n for n in at.number_input if n.label == "Idle sign-out (minutes)").set_value(old + 5)
    next(b for b in at.button if b.label == "Save settings").click()
    rerun(at)
    at = _on(at, "pages/admin_audit.py")
    next(s for s in at.selectbox if s.label == "Action").select("setting_changed")
    rerun(at)
    row = at.dataframe[0].value.iloc[0]
    assert (row["action"], row["object"], row["details"]) == (
        "Setting changed",
        "Setting: Idle sign-out (minutes)",
        f"{old} → {old + 5}",
    )
    assert "Setting changed" in next(s for s in at.selectbox if s.label == "Action").options


def test_admin_makes_and_verifies_a_backup(app_env):
    at = _on(signed_in(app_env, "admin").run(), "pages/admin_operations.py")
    next(b for b in at.button if b.label == "Make a backup now").click()
    rerun(at)
    assert not at.exception
    next(b for b in at.button if b.label == "Verify").click()
    rerun(at)
    assert any("integrity check" in m.value for m in at.success)
    next(b for b in at.button if b.label == "Verify the audit trail").click()
    rerun(at)
    assert any("intact" in m.value for m in at.success)
