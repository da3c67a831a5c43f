"""Admin: question banks and framework mappings. Upload a bank or a mapping, preview it, import
it; list every stored version and every mapping with what it covers."""

import pandas as pd
import streamlit as st

from core.banks.frameworks import read_source
from core.banks.sheet_import import is_sheet_source
from core.banks.store import import_bank, list_questionnaires, plan_import
from core.errors import SecureSphereError
from core.labels import question_type_label
from core.text import md_escape
from ui.bank_import import sheet_import_form
from ui.mapping_admin import mapping_upload, mappings_section
from ui.navigation import guard
from ui.state import reading, run_action
from ui.tables import show_table


def import_bank_form() -> None:
    """Upload a bank, preview it, import it."""
    st.subheader("Import a bank")
    st.caption(
        "Our YAML format, an OSCAL catalog (JSON, XML or YAML, e.g. from NIST), the OWASP ASVS CSV, "
        "or a questionnaire spreadsheet (XLSX or CSV, one question per row). An edited bank must "
        "come in with a new version number; a newer release of a stored catalog becomes its next "
        "version. Profiles (with their catalog): python -m core.cli import-bank PROFILE --catalog "
        "CATALOG."
    )
    upload = st.file_uploader("Bank file", type=["yaml", "yml", "json", "xml", "csv", "xlsx"])
    if upload is None:
        return
    if is_sheet_source(upload.name, upload.getvalue()):
        sheet_import_form(upload.name, upload.getvalue())
        return
    # The level is asked of an ASVS CSV only: any other file refuses one.
    is_csv = upload.name.lower().endswith(".csv")
    level = st.selectbox("ASVS level (CSV only)", [1, 2, 3]) if is_csv else None
    try:
        source = read_source(upload.name, upload.getvalue(), level=level)
        bank = source.bank
        with reading() as s:  # an OSCAL catalog gets the next version of its bank, or is stored
            plan = plan_import(s, bank, version_fixed=source.version_fixed)
    except SecureSphereError as exc:
        st.error(md_escape(str(exc)))  # parse errors quote the uploaded file
        return
    st.success(
        f"**{md_escape(bank.title)}** ({md_escape(bank.key)} v{plan.bank.version}): {len(bank.questions)} "
        f"questions in {len(bank.sections)} sections. Licence: {md_escape(bank.licence) or 'not stated'}."
    )
    st.caption(md_escape(plan.detail))  # new bank, new version, unchanged or refused
    show_table(
        pd.DataFrame(
            [
                {
                    "section": s.title,
                    "questions": len(s.questions),
                    "question_types": ", ".join(
                        sorted({question_type_label(q.type) for q in s.questions})
                    ),
                }
                for s in bank.sections
            ]
        )
    )
    if st.button("Import this bank", type="primary", icon=":material/upload:"):
        outcome = {}
        fixed = source.version_fixed
        if run_action(
            lambda s, a: outcome.update(created=import_bank(s, a, bank, version_fixed=fixed)[1])
        ):
            st.toast(
                "Bank imported."
                if outcome["created"]
                else "This exact bank version is already stored.",
                icon=":material/check_circle:",
            )


actor = guard(__file__)
st.title("Question banks")
with reading() as s:
    banks = list_questionnaires(s)
show_table(
    pd.DataFrame(banks).drop(columns=["id"]),
    {"questions": st.column_config.NumberColumn("Questions")},
)
import_bank_form()
mappings_section()
mapping_upload()
