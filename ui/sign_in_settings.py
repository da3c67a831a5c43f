"""The Sign-in part of the System settings page: two-step sign-in per role, the password form,
and single sign-on's group rules (checked and stored by core.settings)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.access import ROLES, Actor
from core.labels import role_label
from core.organizations import list_organizations
from core.setting_labels import setting_label, setting_value
from core.settings import SETTINGS, update_setting
from core.sign_in_settings import SIGN_IN_SETTINGS
from ui.sso import configured
from ui.state import feedback, reading, run_action

KEYS = tuple(SIGN_IN_SETTINGS)
_ROLE_BY_LABEL = {role_label(role): role for role in ROLES}


def _choice(key: str, current: dict[str, Any]) -> str:
    spec = SETTINGS[key]
    return str(
        st.selectbox(
            setting_label(key),
            spec.choices,
            index=spec.choices.index(current[key]),
            help=spec.help,
            format_func=lambda v: setting_value(key, v),
        )
    )


def _rules_table(current: dict[str, Any], organizations: list[str]) -> pd.DataFrame:
    rows = [
        {"Group": r["group"], "Role": role_label(r["role"]), "Organisation": r["organization"]}
        for r in current["sso_role_rules"]
    ]
    frame = pd.DataFrame(rows, columns=["Group", "Role", "Organisation"])
    return st.data_editor(
        frame,
        num_rows="dynamic",
        width="stretch",
        hide_index=True,
        key="sso_rules_editor",
        column_config={
            "Group": st.column_config.TextColumn("Group", help="As the provider names it."),
            "Role": st.column_config.SelectboxColumn("Role", options=list(_ROLE_BY_LABEL)),
            "Organisation": st.column_config.SelectboxColumn(
                "Organisation", options=organizations, help="Clients only."
            ),
        },
    )


def _rules(frame: pd.DataFrame) -> list[dict[str, str]]:
    rules = []
    for row in frame.fillna("").to_dict("records"):
        if not any(str(v).strip() for v in row.values()):
            continue  # an empty row the editor added
        role = _ROLE_BY_LABEL.get(str(row["Role"]), str(row["Role"]))
        rules.append(
            {"group": str(row["Group"]), "role": role, "organization": str(row["Organisation"])}
        )
    return rules


def sign_in_form(actor: Actor, current: dict[str, Any]) -> None:
    """The sign-in settings in one form, saved together (all or none)."""
    with reading() as s:
        organizations = [o.name for o in list_organizations(s, actor)]
    providers = configured()
    with st.form("sign_in_settings"):
        st.subheader("Sign-in")
        if providers:
            st.caption(
                "Single sign-on providers (from `.streamlit/secrets.toml`): "
                + ", ".join(f"**{p.label}**" for p in providers)
            )
        else:
            st.caption(
                "No single sign-on provider is configured: see “Single sign-on” in the README. "
                "The rules below apply once one is."
            )
        values: dict[str, Any] = {
            "second_factor_roles": [
                _ROLE_BY_LABEL[label]
                for label in st.multiselect(
                    setting_label("second_factor_roles"),
                    list(_ROLE_BY_LABEL),
                    default=[role_label(r) for r in current["second_factor_roles"]],
                    help=SETTINGS["second_factor_roles"].help,
                    placeholder="No role: two-step sign-in is each user's choice",
                )
            ],
            "sign_in_password": _choice("sign_in_password", current),
            "sso_new_users": _choice("sso_new_users", current),
            "sso_group_claim": st.text_input(
                setting_label("sso_group_claim"),
                current["sso_group_claim"],
                help=SETTINGS["sso_group_claim"].help,
            ).strip(),
            "sso_second_factor_values": st.text_input(
                setting_label("sso_second_factor_values"),
                ", ".join(current["sso_second_factor_values"]),
                help=SETTINGS["sso_second_factor_values"].help + " Separate them with commas.",
            ),
        }
        st.markdown(f"**{setting_label('sso_role_rules')}**")
        st.caption(SETTINGS["sso_role_rules"].help)
        edited = _rules_table(current, ["", *organizations])
        if st.form_submit_button("Save sign-in settings", icon=":material/save:"):
            words = str(values["sso_second_factor_values"]).replace(",", " ").split()
            values["sso_second_factor_values"] = words
            values["sso_role_rules"] = _rules(edited)
            save_settings(values, current, "sign_in")
        feedback("sign_in")


def save_settings(values: dict[str, Any], current: dict[str, Any], slot: str) -> None:
    """Store the values that changed, in one transaction (all or none), then redraw the page."""
    changed = {k: v for k, v in values.items() if v != current[k]}

    def save(s, a):
        for key, value in changed.items():
            update_setting(s, a, key, value)

    if run_action(save, success=f"{len(changed)} setting(s) saved.", slot=slot):
        st.rerun()
