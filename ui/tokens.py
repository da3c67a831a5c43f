"""My profile's API tokens: create one (shown once), list them with their last use, revoke."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access import Actor
from core.labels import format_datetime
from core.models import utcnow
from core.tokens import create_token, list_tokens, revoke_token
from ui.state import feedback, reading, run_action
from ui.tables import show_table

STATES = {"active": "Active", "expired": "Expired", "revoked": "Revoked"}
SCOPES = {"read": "Read only", "write": "Read and write"}
_NEW = "_new_api_token"


def tokens_section(actor: Actor) -> None:
    """The tokens section: the new token once, the form, the list and revocation."""
    st.subheader("API tokens")
    st.caption(
        "Personal access tokens let scripts and other tools use the REST API as you, with "
        "what you may see and do here. A token is shown once, when it is made: keep it like a "
        "password. Revoke any you no longer use."
    )
    _create_form()
    feedback("tok")
    _shown_once()
    with reading() as s:
        tokens = list_tokens(s, actor)
    if not tokens:
        st.caption("You have no API tokens.")
        return
    now = utcnow()
    show_table(
        pd.DataFrame(
            [
                {
                    "name": t.name,
                    "token": t.shown,
                    "scope": SCOPES[t.scope],
                    "state": STATES[t.state(now)],
                    "created": format_datetime(t.created_at),
                    "expires": format_datetime(t.expires_at),
                    "last used": format_datetime(t.last_used_at) if t.last_used_at else "Never",
                }
                for t in tokens
            ]
        )
    )
    live = {t.id: f"{t.name} ({t.shown})" for t in tokens if t.state(now) == "active"}
    if live:
        with st.form("revoke_token"):
            chosen = st.selectbox("Token to revoke", list(live), format_func=live.get)
            if st.form_submit_button("Revoke token", icon=":material/block:"):
                run_action(lambda s, a: revoke_token(s, a, chosen), "Token revoked.", slot="revoke")
    feedback("revoke")


def _create_form() -> None:
    with st.form("create_token", clear_on_submit=True):
        name = st.text_input("What the token is for", max_chars=100)
        scope = st.radio("Scope", list(SCOPES), format_func=SCOPES.get, horizontal=True)
        days = st.number_input("Expires after (days)", min_value=1, max_value=3650, value=90)
        if st.form_submit_button("Create token", icon=":material/key:"):
            made = {}
            if run_action(
                lambda s, a: made.update(
                    token=create_token(
                        s, a, name=name, scope=scope or "read", expires_days=int(days)
                    ).token
                ),
                slot="tok",
            ):
                st.session_state[_NEW] = made["token"]


def _shown_once() -> None:
    token = st.session_state.pop(_NEW, None)
    if token:
        st.success("Token created. Copy it now: it will not be shown again.", icon=":material/key:")
        st.code(token, language=None)
