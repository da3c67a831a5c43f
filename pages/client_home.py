"""Client home: the organisation's products, their assessments, and starting new ones."""
import datetime as dt

import streamlit as st

from core import assessments, products
from core.banks.store import list_questionnaires
from core.review_queue import notices
from core.text import md_escape
from core.models import TIERS
from ui.navigation import guard
from ui.state import reading, run_action
from ui.widgets import assessments_table

actor = guard(__file__)
st.title("My products")
with reading() as s:
    rows = assessments.client_overview(s, actor)
    counts = assessments.count_by_status(s, actor)
    mine = products.list_products(s, actor)
    banks = list_questionnaires(s)
    notes = notices(s, actor)

c1, c2, c3 = st.columns(3)
c1.metric("Open for answers", sum(counts.get(k, 0) for k in ("not_started", "in_progress", "changes_requested")))
c2.metric("With reviewers", counts.get("submitted", 0) + counts.get("under_review", 0))
c3.metric("Approved", counts.get("approved", 0))
for item in notes["assessments"]:
    st.warning(f"**{md_escape(item['product'])}**: the reviewer asked for changes to {item['to_fix']} answer(s). "
               f"Open it in the Questionnaire.", icon=":material/feedback:")
if notes["comments"]:
    with st.expander(f"Latest comments from reviewers ({len(notes['comments'])})", icon=":material/forum:"):
        for c in notes["comments"]:
            st.markdown(f"**{md_escape(c['author'])}** on {md_escape(c['product'])} · {c['time']:%d %b %Y}"
                        f"  \n{md_escape(c['body'], multiline=True)}")

with st.expander("Add a product", icon=":material/add_box:", expanded=not mine):
    with st.form("new_product", clear_on_submit=True):
        name = st.text_input("Product name")
        description = st.text_area("Description", max_chars=2000)
        tier = st.selectbox("Tier", TIERS, index=1, help="tier_1 = most critical")
        if st.form_submit_button("Add product", icon=":material/add:"):
            # Rerun only on success: a rerun would wipe the message saying what was wrong.
            if run_action(lambda s, a: products.create_product(
                    s, a, organization_id=a.organization_id, name=name, description=description,
                    tier=tier), success="Product added."):
                st.rerun()

if mine:
    with st.expander("Edit a product", icon=":material/edit:"):
        chosen = st.selectbox("Product to edit", mine, format_func=lambda p: p["name"])
        with st.form("edit_product"):
            new_name = st.text_input("Name", chosen["name"])
            new_description = st.text_area("Description", chosen["description"], max_chars=2000)
            new_tier = st.selectbox("Tier", TIERS, index=TIERS.index(chosen["tier"]))
            if st.form_submit_button("Save", icon=":material/save:"):
                run_action(lambda s, a: products.update_product(
                    s, a, chosen["id"], name=new_name, description=new_description, tier=new_tier),
                    success="Product saved.")
    with st.expander("Start an assessment", icon=":material/playlist_add:"):
        with st.form("start_assessment"):
            product = st.selectbox("Product", mine, format_func=lambda p: p["name"])
            bank = st.selectbox("Questionnaire", banks,
                                format_func=lambda b: f"{b['title']} v{b['version']} ({b['questions']} questions)")
            due = st.date_input("Due date", value=dt.date.today() + dt.timedelta(days=30))
            if st.form_submit_button("Start", icon=":material/play_arrow:"):
                if run_action(lambda s, a: assessments.start_assessment(
                        s, a, product_id=product["id"], questionnaire_id=bank["id"], due_date=due),
                        success="Assessment started: open it in the Questionnaire."):
                    st.rerun()

if not rows:
    st.info("No assessments yet. Add a product, then start an assessment on it.",
            icon=":material/inventory_2:")
    st.stop()
assessments_table(rows)
latest = {}
for r in rows:  # newest cycle first per product and questionnaire
    latest.setdefault((r["product"], r["questionnaire"], r["version"]), r)
closed = [r for r in latest.values() if r["status"] in ("approved", "rejected")]
if closed:
    left, right = st.columns([3, 1])
    pick = left.selectbox("Start the next cycle of", closed,
                          format_func=lambda r: f"{r['product']} · {r['questionnaire']} · cycle {r['cycle']}")
    right.write("")
    if right.button("New cycle", icon=":material/autorenew:", help="Pre-filled with this cycle's answers"):
        if run_action(lambda s, a: assessments.start_next_cycle(s, a, pick["id"]),
                      success="New cycle started with the last answers."):
            st.rerun()
