"""Admin: the audit trail, newest first, filtered and exportable."""

import datetime as dt
from functools import partial

import pandas as pd
import streamlit as st

from core.audit_labels import readable_row
from core.audit_trail import MAX_PAGE_SIZE, audit_actions, list_audit
from core.exports import audit_csv
from core.labels import action_label
from ui.navigation import guard
from ui.state import reading
from ui.tables import show_table, when_column
from ui.widgets import page_of

actor = guard(__file__)
PAGE_SIZE = 50
st.title("Audit trail")
with reading() as s:
    actions = audit_actions(s)
f1, f2, f3 = st.columns(3)
action = f1.selectbox(
    "Action", ["All", *actions], format_func=lambda a: a if a == "All" else action_label(a)
)
start = f2.date_input("From", value=dt.date.today() - dt.timedelta(days=365))
end = f3.date_input("Until (inclusive)", value=dt.date.today())
filters = dict(
    action=None if action == "All" else action,
    since=dt.datetime.combine(start, dt.time(), dt.UTC),
    until=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC),
)
rows = page_of(partial(list_audit, **filters), page_size=PAGE_SIZE, key="audit_page")
if not rows:
    st.info("No audit rows match these filters.", icon=":material/search_off:")
    st.stop()
show_table(
    pd.DataFrame([readable_row(r) for r in rows]),
    {
        "id": st.column_config.NumberColumn("Row", format="%d"),
        "when": when_column("When"),
        "details": st.column_config.TextColumn("Details (changed fields)", width="large"),
    },
)


def _export() -> bytes:
    with reading() as s:
        everything = list_audit(s, actor, **filters, page_size=MAX_PAGE_SIZE).rows
    return audit_csv(everything)


st.download_button(
    f"Export these rows as CSV (up to {MAX_PAGE_SIZE})",
    data=_export,
    file_name="audit-trail.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
)
