"""Client home: the organisation's products, their assessments, and starting new ones."""

import datetime as dt

import streamlit as st

from core import assessments, plans, products
from core.banks.store import list_questionnaires
from core.labels import format_datetime, tier_label
from core.models import TIERS
from core.notices import notices
from core.text import md_escape
from core.timelines import current_decision, timelines
from core.workflow import LABELS
from ui.decisions import show_decision, show_timeline
from ui.navigation import guard
from ui.state import feedback, reading, run_action
from ui.widgets import assessments_table

actor = guard(__file__)
st.title("My products")
with reading() as s:
    rows = assessments.client_overview(s, actor)
    counts = assessments.count_by_status(s, actor)
    mine = products.list_products(s, actor)
    banks = list_questionnaires(s)
    notes = notices(s, actor)
    history = timelines(s, actor, [r.id for r in rows])

c1, c2, c3 = st.columns(3)
c1.metric(
    "Open for answers",
    sum(counts.get(k, 0) for k in ("not_started", "in_progress", "changes_requested")),
)
c2.metric("With reviewers", counts.get("submitted", 0) + counts.get("under_review", 0))
c3.metric("Approved", counts.get("approved", 0))
for item in notes.assessments:
    st.warning(
        f"**{md_escape(item.product)}**: the reviewer asked for changes to {item.to_fix} answer(s). "
        f"Open it in the Questionnaire.",
        icon=":material/feedback:",
    )
if notes.comments:
    with st.expander(
        f"Latest comments from reviewers ({len(notes.comments)})", icon=":material/forum:"
    ):
        for c in notes.comments:
            st.markdown(
                f"**{md_escape(c.author)}** on {md_escape(c.product)} · {format_datetime(c.time)}"
                f"  \n{md_escape(c.body, multiline=True)}"
            )

# Each form reruns only on success (so lists show the change); its message waits in the session
# and is drawn inside the form, next to the button that caused it.
with st.expander("Add a product", icon=":material/add_box:", expanded=not mine):
    with st.form("new_product", clear_on_submit=True):
        name = st.text_input("Product name")
        description = st.text_area("Description", max_chars=2000)
        tier = st.selectbox(
            "Tier", TIERS, index=1, format_func=tier_label, help="Tier 1 = most critical"
        )
        if st.form_submit_button("Add product", icon=":material/add:"):
            if run_action(
                lambda s, a: products.create_product(
                    s,
                    a,
                    organization_id=a.organization_id,
                    name=name,
                    description=description,
                    tier=tier,
                ),
                success=f'Product "{name.strip()}" added.',
                slot="new_product",
            ):
                st.rerun()
        feedback("new_product")

if mine:
    with st.expander("Edit a product", icon=":material/edit:"):
        chosen = st.selectbox("Product to edit", mine, format_func=lambda p: p.name)
        with st.form("edit_product"):
            new_name = st.text_input("Name", chosen.name)
            new_description = st.text_area("Description", chosen.description, max_chars=2000)
            new_tier = st.selectbox(
                "Tier", TIERS, index=TIERS.index(chosen.tier), format_func=tier_label
            )
            if st.form_submit_button("Save", icon=":material/save:"):
                if run_action(
                    lambda s, a: products.update_product(
                        s, a, chosen.id, name=new_name, description=new_description, tier=new_tier
                    ),
                    success="Product saved.",
                    slot="edit_product",
                ):
                    st.rerun()
            feedback("edit_product")
    with st.expander("Start an assessment", icon=":material/playlist_add:"):
        with st.form("start_assessment"):
            product = st.selectbox("Product", mine, format_func=lambda p: p.name)
            bank = st.selectbox(
                "Questionnaire",
                banks,
                format_func=lambda b: f"{b['title']} v{b['version']} ({b['questions']} questions)",
            )
            due = st.date_input("Due date", value=dt.date.today() + dt.timedelta(days=30))
            if st.form_submit_button("Start", icon=":material/play_arrow:"):
                if run_action(
                    lambda s, a: assessments.start_assessment(
                        s, a, product_id=product.id, questionnaire_id=bank["id"], due_date=due
                    ),
                    success="Assessment started: open it in the Questionnaire.",
                    slot="start",
                ):
                    st.rerun()
            feedback("start")

if not rows:
    st.info(
        "No assessments yet. Add a product, then start an assessment on it.",
        icon=":material/inventory_2:",
    )
    st.stop()
assessments_table(rows)
latest = {}
for r in rows:  # newest cycle first per product and questionnaire
    latest.setdefault((r.product, r.questionnaire, r.version), r)
closed = [r for r in latest.values() if r.status in ("approved", "rejected")]
if closed:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    pick = left.selectbox(
        "Start the next cycle of",
        closed,
        format_func=lambda r: f"{r.product} · {r.questionnaire} · cycle {r.cycle}",
    )
    with reading() as s:
        planned = plans.has_plan(s, actor, pick.id)
    from_plan = planned and st.checkbox(
        "Start from the saved plan",
        key=f"from_plan:{pick.id}",
        help="The answers planned on the Scores page replace the last answers to those "
        "questions; every other answer is carried as it was.",
    )
    if right.button(
        "New cycle", icon=":material/autorenew:", help="Pre-filled with this cycle's answers"
    ):
        if run_action(
            lambda s, a: assessments.start_next_cycle(s, a, pick.id, from_plan=from_plan),
            success="New cycle started from the saved plan."
            if from_plan
            else "New cycle started with the last answers.",
            slot="new_cycle",
        ):
            st.rerun()
    feedback("new_cycle")

st.subheader("Reviewer decisions")
st.caption(
    "The latest cycle of each product and questionnaire: the current decision with the "
    "reviewer's note, and every status change."
)
for r in latest.values():
    title = f"{r.product} · {r.questionnaire} v{r.version} · cycle {r.cycle}"
    with st.container(border=True):
        decision = current_decision(history.get(r.id, []))
        if decision:
            show_decision(decision, title=title)
        else:
            st.markdown(f"**{md_escape(title)}** · {LABELS[r.status]}: no decision yet.")
        left, right = st.columns([3, 1], vertical_alignment="center")
        with left:
            show_timeline(history.get(r.id, []))
        right.page_link(
            "pages/questionnaire.py",
            label="Open",
            icon=":material/assignment:",
            query_params={"assessment": str(r.id)},
        )
