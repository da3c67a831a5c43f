"""Invite by e-mail, and the pending invitations with re-send and withdraw: the admin's Users
page (any role and organisation) and a client's Colleagues page (their own organisation)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import invitations
from core.access import ROLES, Actor
from core.labels import role_label
from ui.state import feedback, load, run_action
from ui.tables import show_table, when_column
from ui.widgets import confirm_action

STATE_LABELS = {"pending": "Waiting", "expired": "Expired"}


def invite_form(actor: Actor, orgs: dict[str, int] | None = None) -> None:
    """E-mail, and for an admin the role and organisation; the invitation e-mail is queued."""
    with st.form("invite", clear_on_submit=True):
        email = st.text_input("E-mail address to invite", key="invite_email")
        role, org = "client", None
        if orgs is not None:
            c1, c2 = st.columns(2)
            role = c1.selectbox(
                "Role",
                ROLES,
                index=ROLES.index("client"),
                key="invite_role",
                format_func=role_label,
            )
            org = c2.selectbox("Organisation (clients)", ["—", *orgs], key="invite_org")
        if st.form_submit_button("Send invitation", icon=":material/send:"):
            org_id = actor.organization_id if orgs is None else orgs.get(org or "")
            run_action(
                lambda s, a: invitations.invite(
                    s, a, email=email, role=role, organization_id=org_id
                ),
                success="Invitation sent: the link works once.",
                slot="invite",
            )
    feedback("invite")


def pending_invitations() -> None:
    """Invitations not accepted yet, with re-send (a new link; the old one stops) and withdraw."""
    rows = load(lambda s, a: invitations.list_invitations(s, a))
    if not rows:
        st.caption("No invitation is waiting to be accepted.")
        return
    frame = pd.DataFrame(rows).drop(columns=["id"])
    frame["role"] = frame["role"].map(role_label)
    frame["state"] = frame["state"].map(STATE_LABELS)
    show_table(
        frame,
        {
            "email": "E-mail",
            "organization": "Organisation",
            "invited_by": "Invited by",
            "created_at": when_column("Sent"),
            "expires_at": when_column("Link works until"),
            "state": "State",
        },
    )
    chosen = st.selectbox("Manage invitation", [r.email for r in rows], key="invitation_pick")
    row = next(r for r in rows if r.email == chosen)
    c1, c2 = st.columns(2)
    with c1:
        if st.button("Re-send", icon=":material/forward_to_inbox:", key="invitation_resend"):
            run_action(
                lambda s, a: invitations.resend(s, a, row.id),
                success="Sent again with a new link; the old link no longer works.",
                slot="invitation_resend",
            )
        feedback("invitation_resend")
    with c2:
        confirm_action(
            "Withdraw",
            "The invitation link stops working.",
            lambda s, a: invitations.revoke(s, a, row.id),
            success="Invitation withdrawn.",
            key="invitation_revoke",
            icon=":material/cancel_schedule_send:",
        )
