"""The Notifications admin page, the bell and the profile's choices, through AppTest on the demo
database (which the demo filled with notifications through the same core functions)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from core import db
from core.models import AuditLog, NotificationPreference, Outbox, User
from core.text import md_escape
from tests.apptest import rerun, signed_in


def _user_id(url, username):
    with db.reading(url) as s:
        return s.scalar(select(User.id).where(User.username == username))


def _unread(url, username):
    with db.reading(url) as s:
        return s.scalar(
            select(func.count())
            .select_from(Outbox)
            .where(
                Outbox.recipient_id == _user_id(url, username),
                Outbox.read_at.is_(None),
                Outbox.kind.not_in(("digest", "invitation", "password_reset")),
            )
        )


def test_the_admin_page_says_mail_is_not_configured_and_counts_the_outbox(app_env, monkeypatch):
    monkeypatch.delenv("SECURESPHERE_SMTP_URL", raising=False)
    at = signed_in(app_env, "admin").run()
    at = at.switch_page("pages/admin_notifications.py").run()
    assert not at.exception
    assert any("Mail is not configured" in w.value for w in at.warning)
    assert [m.label for m in at.metric] == ["Queued", "Sent", "Failed", "Waiting for a digest"]


def test_the_admin_page_names_a_wrong_mail_setting(app_env, monkeypatch):
    monkeypatch.setenv("SECURESPHERE_SMTP_URL", "imap://mail.example.com")
    at = signed_in(app_env, "admin").run()
    at = at.switch_page("pages/admin_notifications.py").run()
    assert not at.exception
    assert any(md_escape("must start with smtp:// or smtps://") in e.value for e in at.error)


def test_an_admin_tries_a_failed_notification_again(app_env):
    with db.transaction(app_env) as s:
        row = s.scalar(select(Outbox).order_by(Outbox.id.desc()).limit(1))
        row.status, row.attempts, row.last_error = "failed", 8, "550 5.1.1 No such user"
        row_id = row.id
    at = signed_in(app_env, "admin").run()
    at = at.switch_page("pages/admin_notifications.py").run()
    assert not at.exception
    assert any(b.label == "Try again" for b in at.button)
    at.selectbox(key="retry_id").select(row_id)
    next(b for b in at.button if b.label == "Try again").click()
    rerun(at)
    assert not at.exception
    with db.reading(app_env) as s:
        again = s.get(Outbox, row_id)
        assert (again.status, again.attempts) == ("queued", 0)
        assert s.scalar(
            select(func.count()).where(
                AuditLog.action == "notification_retried", AuditLog.object_id == str(row_id)
            )
        )
    assert [m.value for m in at.success] == ["Queued again\\."]


def test_other_roles_cannot_open_the_notifications_page(app_env):
    at = signed_in(app_env, "security_manager", page="pages/admin_notifications.py").run()
    assert not at.metric
    assert [e.value for e in at.error] == ["You do not have access to this page."]


def test_the_bell_shows_the_unread_count_and_reading_one_marks_it_read(app_env):
    uid = _user_id(app_env, "demo_client")
    with db.transaction(app_env) as s:  # a known state: all read but the two newest
        s.execute(update(Outbox).where(Outbox.recipient_id == uid).values(read_at=func.now()))
        newest = list(
            s.scalars(
                select(Outbox.id)
                .where(Outbox.recipient_id == uid, Outbox.kind.not_in(("digest",)))
                .order_by(Outbox.id.desc())
                .limit(2)
            )
        )
        s.execute(update(Outbox).where(Outbox.id.in_(newest)).values(read_at=None))
    at = signed_in(app_env, "demo_client").run()
    assert not at.exception
    labels = [p.proto.popover.label for p in at.sidebar.get("popover")]
    assert "2 unread" in labels
    item = next(b for b in at.button if b.key == f"bell_{newest[0]}")
    item.click()
    rerun(at)
    assert not at.exception
    assert _unread(app_env, "demo_client") == 1


def test_my_profile_saves_notification_choices(app_env):
    at = signed_in(app_env, "demo_client").run()
    at = at.switch_page("pages/profile.py").run()
    assert not at.exception
    keys = [r.key for r in at.radio]
    assert "pref_approved" in keys and "pref_submitted" not in keys  # a client's kinds only
    at.radio(key="pref_approved").set_value("digest")
    at.radio(key="pref_overdue").set_value("off")
    next(b for b in at.button if b.label == "Save notification choices").click()
    rerun(at)
    assert not at.exception
    with db.reading(app_env) as s:
        stored = dict(
            s.execute(
                select(NotificationPreference.kind, NotificationPreference.mode).where(
                    NotificationPreference.user_id == _user_id(app_env, "demo_client")
                )
            ).all()
        )
    assert stored == {"approved": "digest", "overdue": "off"}


def test_the_bell_shows_a_product_name_as_typed_never_as_markdown(app_env):
    uid = _user_id(app_env, "demo_client")
    typed = "**Big** [win](http://evil.example) ![x](http://evil.example/i.png)"
    with db.transaction(app_env) as s:
        row = s.scalar(select(Outbox).where(Outbox.recipient_id == uid).order_by(Outbox.id.desc()))
        row.data = {**row.data, "product": typed}
        row_id = row.id
    at = signed_in(app_env, "demo_client").run()
    assert not at.exception
    label = next(b.label for b in at.button if b.key == f"bell_{row_id}")
    assert md_escape(typed) in label and "**Big**" not in label
