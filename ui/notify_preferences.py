"""My profile's notification section: per kind of event, e-mail immediately, in a daily digest,
or not at all (the bell shows every notification whatever is chosen)."""

from __future__ import annotations

import streamlit as st

from core.access import Actor
from core.models import DELIVERY_MODES
from core.notify_inbox import my_preferences, set_preferences
from core.outbox import KINDS, MODE_LABELS
from ui.state import feedback, reading, run_action


def preferences_form(actor: Actor) -> None:
    """The choices as one form, saved together."""
    with reading() as s:
        current = my_preferences(s, actor)
    with st.form("notification_preferences"):
        st.subheader("E-mail notifications")
        st.caption(
            "How each kind of event reaches you by e-mail. The bell at the top of the menu "
            "shows them all, whatever you choose; daily digests go out once a day."
        )
        chosen = {
            kind: st.radio(
                KINDS[kind].label,
                DELIVERY_MODES,
                index=DELIVERY_MODES.index(mode),
                format_func=MODE_LABELS.get,
                horizontal=True,
                key=f"pref_{kind}",
            )
            for kind, mode in current.items()
        }
        if st.form_submit_button("Save notification choices", icon=":material/save:"):
            picked = {kind: mode or current[kind] for kind, mode in chosen.items()}
            run_action(lambda s, a: set_preferences(s, a, picked), "Choices saved.", slot="prefs")
    feedback("prefs")
