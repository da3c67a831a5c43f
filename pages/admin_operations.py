"""Admin: backups and the audit trail's integrity."""

import pandas as pd
import streamlit as st

from core import audit_chain, backup, backup_integrity, health
from core.settings import get_settings
from core.text import md_escape
from ui.navigation import guard
from ui.state import load, run_action, settings
from ui.tables import show_table

actor = guard(__file__)
st.title("Backups and integrity")
config = settings()

st.subheader("Backups")
st.caption(
    "An archive holds the database (online copy), every evidence file and a SHA-256 manifest. "
    "Restore with `python -m core.cli restore PATH` while the app is stopped."
)
if st.button("Make a backup now", type="primary", icon=":material/backup:"):
    with st.spinner("Writing the backup…"):
        run_action(
            lambda s, a: backup.take_backup(s, a, config.database_url, config.data_dir),
            success="Backup written.",
        )
rows = backup.list_backups(actor, config.data_dir)
if not rows:
    st.info(
        "No backup yet. Make one here, or schedule `python -m core.cli backup` (see the README).",
        icon=":material/backup:",
    )
else:
    frame = pd.DataFrame(rows).drop(columns=["path"], errors="ignore")
    show_table(
        frame,
        {"name": "File", "size_bytes": st.column_config.NumberColumn("Size (bytes)", format="%d")},
    )
    name = st.selectbox("Backup", [r.name for r in rows])
    left, right = st.columns(2)
    left.download_button(
        "Download",
        data=lambda: backup.backup_bytes(actor, config.data_dir, name),
        file_name=name,
        mime="application/gzip",
        icon=":material/download:",
    )
    if right.button("Verify", icon=":material/verified:"):
        problems = backup_integrity.verify_backup(actor, config.data_dir / backup.BACKUPS / name)
        if problems:
            st.error(md_escape("; ".join(problems)))
        else:
            st.success(
                f"{md_escape(name)}: every file matches its manifest and the database passes its integrity check."
            )

offsite = health.offsite_health(int(load(lambda s, a: get_settings(s))["offsite_max_age_hours"]))
if offsite is None:
    st.caption("No offsite copies: set `SECURESPHERE_OFFSITE_REMOTE` (see the README).")
elif offsite.ok:
    st.success(
        md_escape(offsite.reason.replace("offsite: ", "Offsite: ")), icon=":material/cloud_done:"
    )
else:
    st.error(
        md_escape(offsite.reason.replace("offsite: ", "Offsite: ")), icon=":material/cloud_off:"
    )

st.subheader("Audit trail integrity")
if st.button("Verify the audit trail", icon=":material/link:"):
    with st.spinner("Checking every row's hash…"):
        problem = load(lambda s, a: audit_chain.find_problem(s, config.cookie_key.encode()))
    if problem is None:
        st.success(
            "The audit trail is intact: every row matches its hash and links to the one before."
        )
    else:
        st.error(f"Row {problem.row_id}: {md_escape(problem.reason)}")
