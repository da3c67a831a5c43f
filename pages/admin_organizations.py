"""Admin: client organisations (industry and tier feed benchmark peer groups)."""

import pandas as pd
import streamlit as st

from core import organizations
from core.labels import tier_label
from core.models import TIERS
from core.planner import TARGET_BANDS, parse_target, target_label
from core.text import md_escape
from ui.navigation import guard
from ui.state import reading, run_action
from ui.tables import show_table
from ui.widgets import confirm_action

actor = guard(__file__)
st.title("Organisations")

with st.expander("Create an organisation", icon=":material/domain_add:"):
    with st.form("create_org", clear_on_submit=True):
        name = st.text_input("Name")
        c1, c2 = st.columns(2)
        industry = c1.text_input("Industry", placeholder="e.g. Financial services")
        tier = c2.selectbox(
            "Tier", TIERS, index=1, format_func=tier_label, help="Tier 1 = most critical"
        )
        if st.form_submit_button("Create organisation", icon=":material/domain_add:"):
            run_action(
                lambda s, a: organizations.create_organization(
                    s, a, name=name, industry=industry, tier=tier
                ),
                success="Organisation created.",
            )

with reading() as s:
    rows = organizations.list_organizations(s, actor, include_inactive=True)
if not rows:
    st.info("No organisations yet: create the first one above.", icon=":material/domain:")
    st.stop()
show_table(
    pd.DataFrame(rows)
    .drop(columns=["id"])
    .assign(
        tier=lambda f: f["tier"].map(tier_label),
        score_target=lambda f: f["score_target"].map(lambda t: target_label(parse_target(t))),
    )
)

chosen = st.selectbox("Manage organisation", [r.name for r in rows])
org = next(r for r in rows if r.name == chosen)
with st.form("edit_org"):
    new_name = st.text_input("Name", org.name)
    c1, c2 = st.columns(2)
    new_industry = c1.text_input("Industry", org.industry)
    new_tier = c2.selectbox("Tier", TIERS, index=TIERS.index(org.tier), format_func=tier_label)
    if st.form_submit_button("Save changes", icon=":material/save:"):
        run_action(
            lambda s, a: organizations.update_organization(
                s, a, org.id, name=new_name, industry=new_industry, tier=new_tier
            ),
            success="Organisation updated.",
        )
_SCORE = "A score"
target = parse_target(org.score_target)
with st.form("org_target"):
    st.markdown("**Score planner target**")
    st.caption(
        "Where the planner on the Scores page aims for this organisation's assessments, until a "
        "saved plan sets its own. Without one it is the Low risk band."
    )
    choices = [*TARGET_BANDS, _SCORE]
    c1, c2 = st.columns(2)
    kind = c1.selectbox(
        "Target",
        choices,
        index=choices.index(target if isinstance(target, str) else _SCORE),
        format_func=lambda c: c if c == _SCORE else target_label(c),
    )
    score = c2.number_input(
        "Target score (for a score)",
        0.0,
        100.0,
        float(target) if not isinstance(target, str) else 80.0,
        step=1.0,
    )
    if st.form_submit_button("Save target", icon=":material/flag:"):
        run_action(
            lambda s, a: organizations.set_score_target(
                s, a, org.id, score if kind == _SCORE else kind
            ),
            success="Score planner target saved.",
        )
if org.active:
    confirm_action(
        "Deactivate",
        f"{md_escape(org.name)} is hidden from lists and gets no new products.",
        lambda s, a: organizations.set_organization_active(s, a, org.id, False),
        success="Organisation deactivated.",
        key="deactivate_org",
        icon=":material/block:",
    )
elif st.button("Reactivate", icon=":material/check_circle:"):
    run_action(
        lambda s, a: organizations.set_organization_active(s, a, org.id, True),
        success="Organisation reactivated.",
    )
