"""Extracts: tidy CSV downloads of what you may read, one XLSX workbook, and the data dictionary."""

import pandas as pd
import streamlit as st

from core.extract_columns import EXTRACTS
from core.extract_workbook import workbook_xlsx
from core.extracts import data_dictionary, dictionary_csv, extract_count, extract_csv
from ui.cache import aggregate
from ui.filters import filter_block
from ui.navigation import guard
from ui.state import reading
from ui.tables import show_table

actor = guard(__file__)
st.title("Extracts")
filters = filter_block(actor)
st.caption(
    "Each file holds only what you may see, within the filters in the sidebar. Files are "
    "built when you click: a large extract can take a while."
)


def built(make, *args):
    """A download callable: runs the core builder in its own read-only transaction on click."""

    def run() -> bytes:
        with reading() as s:
            return make(s, actor, *args)

    return run


with st.spinner("Counting rows…"):
    counts = {name: aggregate(extract_count, name, filters) for name in EXTRACTS}
if not any(counts.values()):
    st.info(
        'Nothing matches these filters. Widen the date range or choose "All" in a sidebar filter.',
        icon=":material/filter_alt_off:",
    )
for name, extract in EXTRACTS.items():
    left, right = st.columns([3, 1])
    unit = "snapshots" if name == "section_scores" else "rows"
    left.markdown(
        f"**{extract.title}** · one row per {extract.row} · {counts[name]:,} {unit}  \n"
        f":small[The date range reads {extract.dated_by}.]"
    )
    right.download_button(
        "CSV",
        built(extract_csv, name, filters),
        file_name=f"{name}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"csv_{name}",
        on_click="ignore",
        disabled=not counts[name],
    )
st.download_button(
    "All extracts as one workbook (XLSX)",
    built(workbook_xlsx, filters),
    file_name="securesphere-extracts.xlsx",
    icon=":material/table_view:",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    on_click="ignore",
    key="xlsx_all",
    disabled=not any(counts.values()),
)

st.subheader("Data dictionary")
dictionary = pd.DataFrame(data_dictionary())
dictionary["extract"] = dictionary["extract"].map(lambda name: EXTRACTS[name].title)
show_table(
    dictionary,
    {
        "column": st.column_config.TextColumn(
            "Column in the file", help="As it is named in the CSV header"
        )
    },
)
st.download_button(
    "Data dictionary (CSV)",
    dictionary_csv(),
    file_name="data_dictionary.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
    key="csv_dictionary",
)
