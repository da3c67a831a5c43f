"""Admin pages and the forced password change, through AppTest on the demo database."""
import pytest
from sqlalchemy import select

from core import auth, db
from core.models import Organization, User
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
    assert user.must_change_password and auth.verify_password(otp, user.password_hash)


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

