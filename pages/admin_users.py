"""Admin: accounts. Invite, search, create, edit, deactivate, unlock, reset passwords and second
factors, end sessions."""

from functools import partial

import pandas as pd
import streamlit as st

from core import user_directory, users
from core.access import ROLES
from core.labels import role_label
from core.organizations import list_organizations
from core.text import md_escape
from ui.invitations import invite_form, pending_invitations
from ui.navigation import guard
from ui.second_factor import reset_action
from ui.sso import configured
from ui.state import reading, run_action, settings
from ui.tables import show_table, when_column
from ui.widgets import confirm_action, page_of

actor = guard(__file__)
PAGE_SIZE = 20
st.title("Users")
with reading() as s:
    orgs = {o.name: o.id for o in list_organizations(s, actor, include_inactive=True)}

with st.expander("Create a user", icon=":material/person_add:"):
    with st.form("create_user", clear_on_submit=True):
        c1, c2 = st.columns(2)
        username = c1.text_input("Username", key="new_username")
        name = c2.text_input("Full name", key="new_name")
        email = c1.text_input("E-mail", key="new_email")
        role = c2.selectbox(
            "Role", ROLES, index=ROLES.index("client"), key="new_role", format_func=role_label
        )
        org = st.selectbox("Organisation (clients)", ["—", *orgs], key="new_org")
        if st.form_submit_button("Create user", icon=":material/person_add:"):
            created = {}
            ok = run_action(
                lambda s, a: created.update(
                    otp=users.create_user(
                        s,
                        a,
                        username=username,
                        name=name,
                        role=role,
                        email=email,
                        organization_id=orgs.get(org),
                        rounds=settings().bcrypt_rounds,
                    ).one_time_password
                ),
                success="User created.",
            )
            if ok:
                st.success(
                    f"One-time password for **{md_escape(username)}** (shown once; the user must "
                    f"change it at first sign-in): `{created['otp']}`"
                )

with st.expander("Invite by e-mail", icon=":material/forward_to_inbox:"):
    invite_form(actor, orgs)
    pending_invitations()

f1, f2, f3, f4 = st.columns([2, 1, 1, 1])
search = f1.text_input("Search", placeholder="username, name or e-mail")
role_filter = f2.selectbox(
    "Role", ["All", *ROLES], format_func=lambda r: r if r == "All" else role_label(r)
)
org_filter = f3.selectbox("Organisation", ["All", *orgs])
status = f4.selectbox("Status", ["Active", "Inactive", "All"])
filters = dict(
    search=search,
    role="" if role_filter == "All" else role_filter,
    organization_id=orgs.get(org_filter),
    active={"Active": True, "Inactive": False}.get(status),
)
rows = page_of(partial(user_directory.list_users, **filters), page_size=PAGE_SIZE, key="users_page")
if not rows:
    st.info("No user matches these filters.", icon=":material/search_off:")
    st.stop()
labels = {p.key: p.label for p in configured()}
table = (
    pd.DataFrame(rows)
    .drop(columns=["id"])
    .assign(
        role=lambda f: f["role"].map(role_label),
        single_sign_on=lambda f: f["single_sign_on"].map(lambda k: labels.get(k, k)),
    )
)
show_table(
    table,
    {
        "email": "E-mail",
        "organization": "Organisation",
        "must_change_password": "Must change password",
        "second_factor": "Two-step sign-in",
        "single_sign_on": "Single sign-on",
        "locked_until": when_column("Locked until"),
        "last_login_at": when_column("Last sign-in"),
    },
)

chosen = st.selectbox("Manage user", [r.username for r in rows])
user = next(r for r in rows if r.username == chosen)
with st.form("edit_user"):
    st.subheader(f"Edit {md_escape(user.username)}")
    c1, c2 = st.columns(2)
    new_name, new_email = (
        c1.text_input("Full name", user.name),
        c2.text_input("E-mail", user.email),
    )
    new_role = c1.selectbox("Role", ROLES, index=ROLES.index(user.role), format_func=role_label)
    org_names = ["—", *orgs]
    new_org = c2.selectbox(
        "Organisation", org_names, index=org_names.index(user.organization or "—")
    )
    if st.form_submit_button("Save changes", icon=":material/save:"):
        run_action(
            lambda s, a: users.update_user(
                s,
                a,
                user.id,
                name=new_name,
                email=new_email,
                role=new_role,
                organization_id=orgs.get(new_org),
            ),
            success="User updated.",
        )

b1, b2, b3, b4 = st.columns(4)
with b1:
    if user.active:
        confirm_action(
            "Deactivate",
            f"{md_escape(user.username)} will be signed out and unable to sign in.",
            lambda s, a: users.set_user_active(s, a, user.id, False),
            success="User deactivated.",
            key="deactivate",
            icon=":material/block:",
        )
    elif st.button("Reactivate", icon=":material/check_circle:"):
        run_action(
            lambda s, a: users.set_user_active(s, a, user.id, True), success="User reactivated."
        )
with b2:
    if st.button("Unlock", icon=":material/lock_open:", disabled=not user.locked_until):
        run_action(lambda s, a: users.unlock_user(s, a, user.id), success="User unlocked.")
with b3:
    reset = {}
    if confirm_action(
        "Reset password",
        "The current password stops working and every session ends.",
        lambda s, a: reset.update(
            otp=users.reset_password(s, a, user.id, rounds=settings().bcrypt_rounds)
        ),
        success="Password reset.",
        key="reset",
        icon=":material/key:",
        rerun=False,
    ):
        st.success(f"One-time password (shown once): `{reset['otp']}`")
with b4:
    confirm_action(
        "Sign out everywhere",
        f"Every session of {md_escape(user.username)} ends now.",
        lambda s, a: users.sign_out_everywhere(s, a, user.id),
        success="Sessions ended.",
        key="signout_all",
        icon=":material/logout:",
    )
reset_action(user.id, user.username)  # its own row: five buttons in a row cut their labels
