"""The record part of the assessment report: status timeline, shared comments, evidence index and
the method the score was computed by (core/report_assessment.py puts them after the scores)."""

from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether

from core.comments import Comment
from core.evidence import EvidenceItem
from core.explain import ScoreExplanation
from core.labels import format_datetime
from core.report_render import Column, heading, paragraph, table
from core.scoring import CRITICAL_FAIL_BELOW
from core.setting_labels import setting_value
from core.timelines import StatusEvent


def timeline_part(history: list[StatusEvent]) -> list[Flowable]:
    """Every status change: when, what, who, and the note to the client."""
    out: list[Flowable] = [heading("Status history")]
    if not history:
        return [*out, paragraph("No status change yet.")]
    rows = [(format_datetime(h.time), h.what, h.by, h.note or "—") for h in history]
    columns = [
        Column("When", 0.2, wrap=False),
        Column("What", 0.2),
        Column("By", 0.18),
        Column("Note", 0.42),
    ]
    return [*out, table(columns, rows)]


def comments_part(comments: list[Comment]) -> list[Flowable]:
    """The comments shared between the reviewers and the client, replies after their comment."""
    out: list[Flowable] = [heading("Comments shared with the client")]
    if not comments:
        return [*out, paragraph("No shared comment.")]
    rows = [
        (
            format_datetime(c.time),
            c.author,
            f"Question {c.question}" if c.question else "The assessment",
            ("Reply: " if c.parent_id else "")
            + c.body
            + (" (resolved)" if c.resolved and not c.parent_id else ""),
        )
        for c in comments
    ]
    columns = [
        Column("When", 0.19, wrap=False),
        Column("Who", 0.15),
        Column("On", 0.15),
        Column("Comment", 0.51),
    ]
    return [*out, table(columns, rows)]


def _size(size: int) -> str:
    return f"{size:,} bytes"


def evidence_part(files: list[tuple[EvidenceItem, str]]) -> list[Flowable]:
    """The evidence index: each active file with its size, SHA-256, who added it and when."""
    out: list[Flowable] = [heading("Evidence index")]
    if not files:
        return [*out, paragraph("No evidence file.")]
    total = sum(f.size_bytes for f, _ in files)
    rows = [
        (
            f.filename,
            f.question_key or "—",
            _size(f.size_bytes),
            f"{f.sha256[:32]}\n{f.sha256[32:]}",
            by,
            format_datetime(f.created_at),
        )
        for f, by in files
    ]
    columns = [
        Column("File", 0.22),
        Column("Question", 0.13),
        Column("Size", 0.1, wrap=False, align="RIGHT"),
        Column("SHA-256", 0.29, mono=True),
        Column("Added by", 0.11),
        Column("When", 0.15),
    ]
    summary = (
        f"{len(files)} files, {_size(total)} in all. The SHA-256 of a file proves its content."
    )
    return [*out, paragraph(summary, "note"), table(columns, rows)]


def method_part(ex: ScoreExplanation) -> list[Flowable]:
    """How the score was computed: formula version, bands, the N/A and critical rules."""
    recorded = (
        f" The newest snapshot ({ex.latest.label}) was recorded with formula version "
        f"{ex.latest.formula_version}."
        if ex.latest is not None
        else " No snapshot is recorded yet: it is taken when the assessment is submitted."
    )
    differs = (
        " Answers or bands changed since that snapshot, so the score shown differs from it."
        if ex.recorded_differs
        else ""
    )
    bands = setting_value("score_bands", [[low, name] for low, name in ex.bands])
    text = [
        f"Scores in this report are those of the answers as they stand, computed with formula "
        f"version {ex.result.formula_version} and today's risk bands.{recorded}{differs}",
        "Each answer scores from 0 to 100: yes 100, partial 50, no 0; a single choice takes its "
        "option's score, a multiple choice the sum of its options (at most 100); maturity levels "
        "are spread evenly from 0 to 100 unless they carry scores. Number, text and date answers "
        "are not scored.",
        "A section's score is the weighted mean of its scored answers; the overall score is the "
        "mean of the section scores weighted by section weight. Points lost are the overall points "
        "an answer costs against full marks.",
        "Not applicable: answers marked N/A, unanswered questions and questions hidden by a "
        "condition count nowhere, neither for nor against. An assessment with no scored answer "
        "has no score, which is not a score of zero.",
        f"Risk bands: {bands}. A critical question scoring below "
        f"{CRITICAL_FAIL_BELOW * 100:g} makes the band High risk or worse.",
    ]
    return [KeepTogether([heading("Method"), *(paragraph(t) for t in text)])]
