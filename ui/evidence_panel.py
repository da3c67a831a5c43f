"""The evidence panel of one question: its files to download or remove, and an uploader."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import streamlit as st

from core import evidence
from core.access import Actor
from core.banks.model import Question
from core.evidence import EvidenceItem
from core.settings import get_settings
from core.text import md_escape
from core.worksheet import Worksheet
from ui.state import current_actor, feedback, reading, run_action, settings


@dataclass(frozen=True)
class UploadLimits:
    """The upload limits in force: megabytes per file and files per answer."""

    mb: int
    files: int


def upload_limits() -> UploadLimits:
    """The upload limits in force, read from the settings."""
    with reading() as s:
        values = get_settings(s)
    return UploadLimits(int(values["upload_max_mb"]), int(values["evidence_max_per_answer"]))


def evidence_panel(
    ws: Worksheet, q: Question, files: list[EvidenceItem], limits: UploadLimits, slot: str
) -> None:
    """The files of one answer, each to download (and to remove while the assessment is
    editable), and an uploader while it is; messages go to `slot`."""
    for item in files:
        left, right = st.columns([4, 1])
        left.download_button(
            f"{md_escape(item.filename)} ({item.size_bytes / 1024:.0f} KB)",
            data=partial(file_bytes, current_actor(), item.id),
            file_name=evidence.download_name(item.filename),
            mime=item.content_type,
            icon=":material/download:",
            key=f"dl{item.id}",
        )
        if ws.editable and right.button("Remove", key=f"rm{item.id}", icon=":material/delete:"):
            if run_action(
                lambda s, a, i=item.id: evidence.remove_evidence(s, a, i),
                success=f"{item.filename} removed.",
                slot=slot,
            ):
                st.rerun()
    if ws.editable:
        counter = st.session_state.setdefault(f"ws{ws.assessment_id}:uploads", 0)
        uploader = f"up{ws.assessment_id}:{q.key}:{counter}"
        # Streamlit refuses a larger file in the browser, beside this uploader, and says the limit
        # ("Limit 20MB per file"); the server's maxUploadSize is the setting's maximum, and core
        # checks the setting again, so the one limit a user meets is the setting's.
        st.file_uploader(
            "Add evidence",
            key=uploader,
            accept_multiple_files=True,
            max_upload_size=limits.mb,
            on_change=_upload,
            args=(ws.assessment_id, q.key, uploader, slot),
            help=f"Up to {limits.mb} MB per file and {limits.files} files per answer.",
        )
    feedback(slot)


def file_bytes(actor: Actor, evidence_id: int) -> bytes:
    """An evidence file's bytes for a download button. Streamlit calls this when the file is
    asked for, outside the page run, where there is no session state to find the signed-in user
    in: the button passes the actor the page was drawn for."""
    with reading() as s:
        return evidence.read_evidence(s, actor, evidence_id, data_dir=settings().data_dir).data


def _upload(ws_id: int, question_key: str, uploader: str, slot: str) -> None:
    # One transaction for the whole selection: a batch past a limit, or with one bad file, adds nothing.
    files = [(f.name, f.getvalue()) for f in st.session_state.get(uploader) or []]
    if files:
        run_action(
            lambda s, a: evidence.add_evidence_files(
                s, a, ws_id, question_key=question_key, files=files, data_dir=settings().data_dir
            ),
            success=f"{len(files)} file{'s' if len(files) != 1 else ''} added.",
            slot=slot,
        )
    st.session_state[f"ws{ws_id}:uploads"] += 1  # a fresh uploader, so files are not added twice
