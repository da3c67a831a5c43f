"""Admin: the outbox (whether mail is configured, rows queued, sent and failed with their errors,
trying failed ones again) and, in a second tab, the webhooks."""

import pandas as pd
import streamlit as st

from core.errors import ConfigError
from core.mail_config import load_mail_config, mail_configured
from core.notify_admin import STATUS_LABELS, outbox_counts, outbox_rows, retry, retry_failed
from core.outbox import KINDS
from core.text import md_escape
from ui.navigation import guard
from ui.state import feedback, reading, run_action
from ui.tables import show_table, when_column
from ui.webhooks import webhooks_section

actor = guard(__file__)
st.title("Notifications")
outbox_tab, webhooks_tab = st.tabs(["Outbox", "Webhooks"])
with webhooks_tab:
    webhooks_section(actor)

with outbox_tab:
    if not mail_configured():
        st.warning(
            "Mail is not configured, so nothing is e-mailed: notifications wait in the outbox and "
            "show in each person's bell. Set SECURESPHERE\\_SMTP\\_URL, SECURESPHERE\\_MAIL\\_FROM "
            "and SECURESPHERE\\_BASE\\_URL and run the mail worker (see the README).",
            icon=":material/mail_lock:",
        )
    else:
        try:
            config = load_mail_config()
            st.info(
                f"Mail goes out through {md_escape(config.describe())} from "
                f"{md_escape(str(config.sender))}.",
                icon=":material/outgoing_mail:",
            )
        except ConfigError as exc:
            st.error(f"Mail is configured wrongly: {md_escape(exc)}", icon=":material/error:")

    with reading() as s:
        counts = outbox_counts(s, actor)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Queued", counts["queued"])
    c2.metric("Sent", counts["sent"] + counts["digested"])
    c3.metric("Failed", counts["failed"])
    c4.metric("Waiting for a digest", counts["digest"])

    choices = {"": "Every status", **STATUS_LABELS}
    status = st.selectbox("Show", list(choices), format_func=choices.get, key="outbox_status")
    with reading() as s:
        items = outbox_rows(s, actor, status=status or None)
    failed = [i for i in items if i.status == "failed"]

    if failed:
        st.subheader("Failed")
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        labels = {i.id: f"{i.subject} (to {i.address})" for i in failed}
        chosen = left.selectbox(
            "Notification", list(labels), format_func=labels.get, key="retry_id"
        )
        if right.button("Try again", icon=":material/replay:", width="stretch"):
            run_action(lambda s, a: retry(s, a, chosen), "Queued again.", slot="retry")
            st.rerun()
        if st.button(f"Try all {len(failed)} failed again", icon=":material/replay:"):
            run_action(lambda s, a: retry_failed(s, a), "Queued again.", slot="retry")
            st.rerun()
    feedback("retry")

    st.subheader("Outbox")
    if not items:
        st.info("No notifications yet.", icon=":material/notifications_off:")
    else:
        frame = pd.DataFrame(
            {
                "created_at": [i.created_at for i in items],
                "event": [KINDS[i.kind].label if i.kind in KINDS else i.kind for i in items],
                "subject": [i.subject for i in items],
                "recipient": [i.recipient or i.address for i in items],
                "status": [STATUS_LABELS[i.status] for i in items],
                "attempts": [i.attempts for i in items],
                "next_attempt_at": [i.next_attempt_at for i in items],
                "sent_at": [i.sent_at for i in items],
                "error": [i.error for i in items],
            }
        )
        show_table(
            frame,
            {
                "created_at": when_column("Written"),
                "attempts": "Tries",
                "next_attempt_at": when_column("Next try"),
                "sent_at": when_column("Sent"),
            },
        )
