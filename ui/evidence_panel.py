"""The evidence panel of one question: its files to download or remove with the day each is
valid until, and an uploader with an optional valid-until day; and the answer's assurance level
as a badge for the question's caption."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial

import streamlit as st

from core import evidence
from core.access import Actor
from core.assurance import LEVEL_LABELS, answer_level
from core.banks.model import Question
from core.evidence import EvidenceItem
from core.evidence_validity import MAX_YEARS, expiry_words
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


_LEVEL_COLOURS = {
    "self_attested": "gray",
    "evidence": "blue",
    "evidence_valid": "violet",
    "accepted": "green",
}


def assurance_badge(ws: Worksheet, q: Question, files: list[EvidenceItem]) -> str:
    """The stored answer's assurance level as a badge ("" while unanswered), evidence dates
    read against today."""
    stored = ws.answers.get(q.key)
    if stored is None:
        return ""
    today = datetime.now(UTC).date()
    level = answer_level(stored.review_state == "accepted", [f.valid_until for f in files], today)
    return f":{_LEVEL_COLOURS[level]}-badge[{LEVEL_LABELS[level]}]"


def evidence_panel(
    ws: Worksheet, q: Question, files: list[EvidenceItem], limits: UploadLimits, slot: str
) -> None:
    """The files of one answer, each to download with its expiry (and to remove, or to give a
    valid-until day, while the assessment is editable), and an uploader while it is; messages
    go to `slot`."""
    today = datetime.now(UTC).date()
    for item in files:
        left, middle, right = st.columns([4, 2, 1])
        left.download_button(
            f"{md_escape(item.filename)} ({item.size_bytes / 1024:.0f} KB)",
            data=partial(file_bytes, current_actor(), item.id),
            file_name=evidence.download_name(item.filename),
            mime=item.content_type,
            icon=":material/download:",
            key=f"dl{item.id}",
        )
        words = expiry_words(item.valid_until, today)
        if ws.editable:
            with middle.popover(words or "Valid until", icon=":material/event:"):
                _validity_editor(item, today, slot)
        elif words:
            middle.caption(words)
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
        st.date_input(
            "Valid until (optional)",
            value=None,
            key=f"{uploader}:until",
            format="YYYY-MM-DD",
            min_value=_years(today, -MAX_YEARS),
            max_value=_years(today, MAX_YEARS),
            help="The last day the files hold, such as a certificate's end; leave it empty when "
            "they do not expire. Set it before choosing the files.",
        )
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


def _years(today: date, years: int) -> date:
    return today.replace(year=today.year + years, day=min(today.day, 28))


def _validity_editor(item: EvidenceItem, today: date, slot: str) -> None:
    """Inside a file's popover: the day it is valid until, to save or clear."""
    picked = st.date_input(
        f"Valid until for {md_escape(item.filename)}",
        value=item.valid_until,
        key=f"until{item.id}",
        format="YYYY-MM-DD",
        # a day set long ago may since have passed the ten years back: it stays pickable
        min_value=min(_years(today, -MAX_YEARS), item.valid_until or today),
        max_value=_years(today, MAX_YEARS),
    )
    save, clear = st.columns(2)
    if save.button("Save", key=f"untilsave{item.id}", icon=":material/save:"):
        if run_action(
            lambda s, a: evidence.set_valid_until(s, a, item.id, picked),
            success=f"{item.filename}: valid-until day saved.",
            slot=slot,
        ):
            st.rerun()
    if item.valid_until is not None and clear.button(
        "Clear", key=f"untilclear{item.id}", icon=":material/event_busy:"
    ):
        if run_action(
            lambda s, a: evidence.set_valid_until(s, a, item.id, None),
            success=f"{item.filename}: valid-until day cleared.",
            slot=slot,
        ):
            st.rerun()


def file_bytes(actor: Actor, evidence_id: int) -> bytes:
    """An evidence file's bytes for a download button. Streamlit calls this when the file is
    asked for, outside the page run, where there is no session state to find the signed-in user
    in: the button passes the actor the page was drawn for."""
    with reading() as s:
        return evidence.read_evidence(s, actor, evidence_id, data_dir=settings().data_dir).data


def _upload(ws_id: int, question_key: str, uploader: str, slot: str) -> None:
    # One transaction for the whole selection: a batch past a limit, or with one bad file, adds nothing.
    files = [(f.name, f.getvalue()) for f in st.session_state.get(uploader) or []]
    until = st.session_state.get(f"{uploader}:until")
    if files:
        run_action(
            lambda s, a: evidence.add_evidence_files(
                s,
                a,
                ws_id,
                question_key=question_key,
                files=files,
                data_dir=settings().data_dir,
                valid_until=until,
            ),
            success=f"{len(files)} file{'s' if len(files) != 1 else ''} added.",
            slot=slot,
        )
    st.session_state[f"ws{ws_id}:uploads"] += 1  # a fresh uploader, so files are not added twice
