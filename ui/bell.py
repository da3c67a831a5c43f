"""The bell in the sidebar: unread notifications (the actor's own outbox rows) and the latest ones,
each opening its page; reading one marks it read."""

from __future__ import annotations

import streamlit as st

from core.access import Actor
from core.labels import format_datetime
from core.notify_inbox import inbox, mark_read, unread_count
from core.text import md_escape
from ui.state import reading, run_action


def show_bell(actor: Actor) -> None:
    """A popover headed by the unread count, listing the latest 20 notifications."""
    with reading() as s:
        unread = unread_count(s, actor)
        items = inbox(s, actor, limit=20)
    label = f"{unread} unread" if unread else "Notifications"
    with st.popover(label, icon=":material/notifications:", width="stretch"):
        if not items:
            st.caption("Nothing yet: you are told here when something needs you.")
            return
        if unread and st.button("Mark all read", icon=":material/done_all:", key="bell_all"):
            run_action(lambda s, a: mark_read(s, a))
            st.rerun()
        for item in items:
            mark = ":blue[:material/circle:] " if item.unread else ""
            st.caption(format_datetime(item.time))
            if st.button(
                mark + md_escape(item.title),
                key=f"bell_{item.id}",
                type="tertiary",
                width="stretch",
            ):
                run_action(lambda s, a, i=item.id: mark_read(s, a, [i]))
                query = {"assessment": str(item.assessment_id)} if item.assessment_id else None
                st.switch_page(f"pages/{item.page or 'profile'}.py", query_params=query)
