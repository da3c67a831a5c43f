"""The Notifications page's Webhooks tab through AppTest on the demo database: register (the secret
shown once), turn off, see the attempts, delete only after the confirmation."""

from __future__ import annotations

from sqlalchemy import select

from core import db
from core.access import SYSTEM
from core.models import Webhook
from core.settings import get_settings, update_setting
from core.webhook_worker import deliver_due
from tests.apptest import rerun, signed_in
from tests.support.hooks import Receiver


def _page(url):
    at = signed_in(url, "admin").run()
    return at.switch_page("pages/admin_notifications.py").run()


def _cells(at):
    """Every cell of every table on the page, as text."""
    return {str(v) for t in at.dataframe for v in t.value.to_numpy().ravel()}


def _hooks(url):
    with db.reading(url) as s:
        return list(s.scalars(select(Webhook).order_by(Webhook.id)))


def test_an_admin_registers_a_webhook_and_sees_its_secret_once(app_env):
    at = _page(app_env)
    assert not at.exception
    at.text_input[0].input("https://93.184.215.14/hooks/securesphere")
    at.multiselect[0].select("submitted").select("approved")
    next(b for b in at.button if b.label == "Register webhook").click()
    rerun(at)
    assert not at.exception
    [hook] = _hooks(app_env)
    assert hook.events == ["submitted", "approved"] and hook.enabled
    assert [c.value for c in at.code] == [hook.secret]
    assert "An assessment is submitted, An assessment is approved" in _cells(at)
    rerun(at)
    assert not at.code  # never shown again
    assert hook.secret not in _cells(at)


def test_a_refused_address_is_said_in_words(app_env):
    at = _page(app_env)
    at.text_input[0].input("http://10.0.0.7/hook")
    at.multiselect[0].select("submitted")
    next(b for b in at.button if b.label == "Register webhook").click()
    rerun(at)
    assert not at.exception
    assert any("private network" in e.value for e in at.error)
    assert not at.code


def test_an_admin_turns_a_webhook_off_sees_attempts_and_deletes_it_after_confirming(app_env):
    with db.transaction(app_env) as s:
        update_setting(s, SYSTEM, "webhook_allow_private", "on")
        s.add(Webhook(url="", secret="x" * 30, events=["submitted"], enabled=True))
    receiver = Receiver().start()
    try:
        with db.transaction(app_env) as s:
            hook = s.scalars(select(Webhook).order_by(Webhook.id.desc())).first()
            hook.url = receiver.url()
            hook_id = hook.id
        _one_delivery(app_env, hook_id)
        at = _page(app_env)
        at.selectbox(key="webhook_id").select(hook_id)
        at.run()
        next(b for b in at.button if b.label == "Turn off").click()
        rerun(at)
        assert not at.exception
        assert not next(h for h in _hooks(app_env) if h.id == hook_id).enabled
        assert "200" in _cells(at) and receiver.url() in _cells(at)
        delete = next(b for b in at.button if b.label == "Delete webhook")
        assert delete.disabled
        at.checkbox(key="webhook_delete_sure").check().run()
        next(b for b in at.button if b.label == "Delete webhook").click()
        rerun(at)
        assert not at.exception
        assert hook_id not in [h.id for h in _hooks(app_env)]
    finally:
        receiver.stop()


def _one_delivery(url, hook_id):
    """An outbox row for the webhook, delivered to the receiver (so an attempt is logged)."""
    from core.models import Assessment
    from core.webhooks import enqueue_event

    with db.transaction(url) as s:
        assessment = s.scalars(select(Assessment).order_by(Assessment.id)).first()
        facts = {"product": "Web Shop", "organization": "Acme Ltd"}
        enqueue_event(s, "submitted", assessment, facts, assessment.updated_at)
        settings = get_settings(s)
    counts = deliver_due(db.get_engine(url), settings)
    assert counts["sent"] >= 1
