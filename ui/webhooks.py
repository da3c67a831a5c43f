"""The Notifications page's webhooks tab: register one (its secret shown once), turn it on or
off, delete it after a confirmation, and the latest delivery attempts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access import Actor
from core.labels import format_datetime
from core.webhooks import (
    EVENTS,
    SECRET_MIN,
    create_webhook,
    delete_webhook,
    latest_attempts,
    list_webhooks,
    set_enabled,
)
from ui.state import feedback, reading, run_action
from ui.tables import show_table

_NEW = "_new_webhook_secret"


def webhooks_section(actor: Actor) -> None:
    """Registration, the list with its controls, and the attempts log."""
    st.caption(
        "A webhook tells another system about assessment events: SecureSphere posts a signed "
        "message to its https address for each event it asked for, and tries again with "
        "growing waits when the receiver does not accept it. The README explains how the "
        "receiver checks the signature."
    )
    _register_form()
    feedback("hook_new")
    _shown_once()
    with reading() as s:
        hooks = list_webhooks(s, actor)
        attempts = latest_attempts(s, actor)
    if not hooks:
        st.caption("No webhooks yet.")
        return
    show_table(
        pd.DataFrame(
            [
                {
                    "address": h.url,
                    "events": ", ".join(EVENTS.get(e, e) for e in h.events),
                    "state": "On" if h.enabled else "Off",
                    "registered": format_datetime(h.created_at),
                }
                for h in hooks
            ]
        )
    )
    _manage({h.id: (h.url, h.enabled) for h in hooks})
    st.subheader("Latest delivery attempts")
    if not attempts:
        st.caption("Nothing delivered yet.")
        return
    show_table(
        pd.DataFrame(
            [
                {
                    "when": format_datetime(a.attempted_at),
                    "address": a.url,
                    "event": EVENTS.get(a.event, a.event),
                    "answer": str(a.status_code) if a.status_code is not None else "No answer",
                    "time taken (ms)": f"{a.latency_ms:.0f}",
                    "error": a.error,
                }
                for a in attempts
            ]
        )
    )


def _register_form() -> None:
    with st.form("new_webhook", clear_on_submit=True):
        url = st.text_input("Address", placeholder="https://hooks.example.com/securesphere")
        events = st.multiselect("Events", list(EVENTS), format_func=EVENTS.get)
        secret = st.text_input(
            "Secret (leave empty to have one made)",
            type="password",
            help=f"At least {SECRET_MIN} characters, without spaces. It is shown only once.",
        )
        if st.form_submit_button("Register webhook", icon=":material/webhook:"):
            made: dict[str, str] = {}
            if run_action(
                lambda s, a: made.update(
                    secret=create_webhook(s, a, url=url, events=events, secret=secret or None)[1]
                ),
                "Webhook registered.",
                slot="hook_new",
            ):
                st.session_state[_NEW] = made["secret"]


def _shown_once() -> None:
    secret = st.session_state.pop(_NEW, None)
    if secret:
        st.success(
            "Give this secret to the receiver now: it will not be shown again.",
            icon=":material/key:",
        )
        st.code(secret, language=None)


def _manage(hooks: dict[int, tuple[str, bool]]) -> None:
    chosen = st.selectbox(
        "Webhook",
        list(hooks),
        format_func=lambda i: f"{hooks[i][0]} ({'on' if hooks[i][1] else 'off'})",
        key="webhook_id",
    )
    enabled = hooks[chosen][1]
    left, right = st.columns(2, vertical_alignment="bottom")
    if left.button("Turn off" if enabled else "Turn on", icon=":material/power_settings_new:"):
        done = "Webhook turned off." if enabled else "Webhook turned on."
        if run_action(lambda s, a: set_enabled(s, a, chosen, not enabled), done, slot="hook"):
            st.rerun()
    sure = right.checkbox("Yes, delete it and its delivery log", key="webhook_delete_sure")
    if right.button("Delete webhook", icon=":material/delete:", disabled=not sure):
        if run_action(lambda s, a: delete_webhook(s, a, chosen), "Webhook deleted.", slot="hook"):
            st.rerun()
    feedback("hook")
