"""The spreadsheet part of the Question banks page: the detected mapping, each choice editable,
the counts and a preview, then import; and the Scores page's filled-workbook download."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from core.answer_sheet import filled_workbook, has_source_sheet
from core.banks.sheet_detect import SheetMapping, SheetOptions, detect_mapping
from core.banks.sheet_import import SHEET_TYPES, BankIdentity, SheetImport, sheet_bank
from core.banks.sheet_read import Grid, read_sheet_file
from core.banks.sheet_ref import column_letter
from core.banks.store import import_bank
from core.errors import SecureSphereError
from core.labels import question_type_label
from core.text import md_escape
from core.workspace import load_workspace
from ui.state import feedback, guarded, leave_message, load, reading, run_action
from ui.tables import show_table

NO_COLUMN = "No column"
FROM_ID = "From the id prefix"
ROLES = (
    ("id", "Id column"),
    ("text", "Question column"),
    ("section", "Section column"),
    ("guidance", "Guidance column"),
    ("answer", "Answer column"),
    ("justification", "Justification column"),
    ("effort", "Effort column"),
)


def sheet_import_form(name: str, data: bytes) -> None:
    """Detect, let each choice be changed, preview and import a questionnaire spreadsheet."""
    key = hashlib.sha256(data).hexdigest()[:10]
    try:
        grids = read_sheet_file(name, data)
    except SecureSphereError as exc:
        st.error(md_escape(str(exc)), icon=":material/error:")
        return
    options = _choices(grids, key)
    result, refusal = _preview(name, data, options, key)
    if refusal:
        st.error(md_escape(refusal), icon=":material/error:")
        return
    assert result is not None
    _summary(result)
    if st.button("Import this bank", type="primary", icon=":material/upload:", key=f"imp{key}"):
        outcome: dict = {}
        if run_action(
            lambda s, a: outcome.update(created=import_bank(s, a, result.bank)[1]),
            slot="sheet_import",
        ):
            done = "Bank imported." if outcome["created"] else "This exact bank is already stored."
            leave_message("sheet_import", "success", done)
    feedback("sheet_import")


def _detected(
    grids: tuple[Grid, ...], sheet: str | None, header: int | None
) -> SheetMapping | None:
    try:
        return detect_mapping(grids, SheetOptions(sheet=sheet, header_row=header))[1]
    except SecureSphereError:
        return None


def _choices(grids: tuple[Grid, ...], key: str) -> SheetOptions:
    st.markdown("**How the spreadsheet is read**")
    st.caption("Detected from the header texts; change any choice and the preview follows.")
    first = _detected(grids, None, None)
    names = [g.sheet for g in grids]
    left, right = st.columns(2)
    sheet = names[0]
    if grids[0].sheet is not None:
        default = names.index(first.sheet) if first and first.sheet in names else 0
        sheet = left.selectbox("Sheet", names, index=default, key=f"sh{key}")
    grid = next(g for g in grids if g.sheet == sheet)
    found = _detected(grids, sheet, None)
    header = right.number_input(
        "Header row",
        min_value=1,
        max_value=max(len(grid.rows), 1),
        value=(found.header_row + 1) if found else 1,
        step=1,
        key=f"hr{key}{sheet}",
    )
    mapping = _detected(grids, sheet, int(header))
    headers = grid.rows[int(header) - 1] if int(header) <= len(grid.rows) else ()
    labels = [NO_COLUMN] + [
        f"{column_letter(i)} · {h.strip()}" if h.strip() else column_letter(i)
        for i, h in enumerate(headers)
    ]
    chosen: dict[str, str] = {}
    columns = st.columns(3)
    for i, (role, label) in enumerate(ROLES):
        current = getattr(mapping, role) if mapping else None
        options = labels + [FROM_ID] if role == "section" else labels
        index = 0 if current is None else current + 1
        if role == "section" and mapping and mapping.section_from_id:
            index = len(options) - 1
        chosen[role] = columns[i % 3].selectbox(
            label,
            options,
            index=min(index, len(options) - 1),
            key=f"{role}{key}{sheet}{header}",
            help="From the id prefix puts A&A-01.1 under A&A." if role == "section" else None,
        )
    qtype = st.selectbox(
        "Question type", SHEET_TYPES, format_func=question_type_label, key=f"ty{key}"
    )
    return SheetOptions(
        sheet=sheet,
        header_row=int(header),
        question_type=qtype,
        section_from_id=chosen["section"] == FROM_ID,
        **{
            f"{role}_column": "none"
            if chosen[role] in (NO_COLUMN, FROM_ID)
            else chosen[role].split(" · ")[0]
            for role, _ in ROLES
        },
    )


def _preview(
    name: str, data: bytes, options: SheetOptions, key: str
) -> tuple[SheetImport | None, str | None]:
    try:
        detected = sheet_bank(name, data, options)
    except SecureSphereError as exc:
        return None, str(exc)
    st.markdown("**What the bank is called**")
    title_col, key_col, version_col = st.columns([3, 2, 1])
    identity = BankIdentity(
        title=title_col.text_input("Bank title", detected.bank.title, key=f"ti{key}"),
        key=key_col.text_input("Bank key", detected.bank.key, key=f"ke{key}"),
        version=int(version_col.number_input("Version", 1, 9999, 1, key=f"ve{key}")),
    )
    try:
        return sheet_bank(name, data, options, identity), None
    except SecureSphereError as exc:
        return None, str(exc)


def _summary(result: SheetImport) -> None:
    bank = result.bank
    a, b, c = st.columns(3)
    a.metric("Questions", len(bank.questions))
    b.metric("Sections", len(bank.sections))
    c.metric("Rows skipped", len(result.skipped), help="Titles, closing and copyright lines")
    for line in result.skipped_lines():
        st.caption(md_escape(line))
    show_table(
        pd.DataFrame(
            [
                {
                    "row": q.source_ref.row if q.source_ref else None,
                    "question": q.text,
                    "section": bank.section(q.section_key).title,
                }
                for q in bank.questions[:20]
            ]
        ),
        {"row": st.column_config.NumberColumn("Row", format="%d")},
    )
    if result.mapping.answer is None:
        st.caption("No answer column: a filled copy of the workbook cannot be made later.")


def answers_workbook_download(assessment_id: int) -> None:
    """On the Scores page: fill the original workbook with this assessment's answers."""
    bank = load(lambda s, a: _bank_of(s, a, assessment_id))
    if not has_source_sheet(bank):
        return
    st.subheader("Answers in the original workbook")
    upload = st.file_uploader(
        "The workbook this questionnaire was imported from",
        type=["xlsx"],
        key=f"orig{assessment_id}",
        help="Each answer and its justification go into its row; nothing else changes.",
    )
    if upload is None:
        return
    filled, refusal = guarded(lambda a: _fill(a, assessment_id, upload.name, upload.getvalue()))
    if refusal:
        st.error(md_escape(refusal), icon=":material/error:")
        return
    st.download_button(
        f"Download the filled workbook ({filled.answers} "
        f"{'answer' if filled.answers == 1 else 'answers'})",
        filled.data,
        file_name=filled.name,
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        key=f"filled{assessment_id}",
    )


def _bank_of(session, actor, assessment_id: int):
    return load_workspace(session, actor, assessment_id).bank


def _fill(actor, assessment_id: int, name: str, data: bytes):
    with reading() as s:
        return filled_workbook(s, actor, assessment_id, data, name)
