"""The columns of every extract, with their type and meaning: the data dictionary."""

from __future__ import annotations

from dataclasses import dataclass

DICTIONARY_COLUMNS = ("extract", "column", "type", "description")
TIME = "datetime (UTC, ISO 8601)"


@dataclass(frozen=True)
class Column:
    """One column of an extract."""

    name: str
    type: str
    description: str


@dataclass(frozen=True)
class DictionaryEntry:
    """One line of the data dictionary: a column of an extract, its type and meaning."""

    extract: str
    column: str
    type: str
    description: str


@dataclass(frozen=True)
class Extract:
    """One downloadable table: what a row is, its columns, and which time the date range reads."""

    title: str
    row: str
    dated_by: str
    columns: tuple[Column, ...]


NAMED = (
    Column(
        "assessment_id",
        "integer",
        "Assessment number (one product, questionnaire version and cycle).",
    ),
    Column("organization", "text", "Client organisation that owns the product."),
    Column("product", "text", "Product under assessment."),
    Column("questionnaire", "text", "Questionnaire title."),
    Column(
        "questionnaire_version", "integer", "Questionnaire version; versions differ in questions."
    ),
)
SHARES = tuple(
    Column(
        f"{level}_share",
        "number 0-100",
        f"Percent of the {{whose}} points on answers at the assurance level {label!r} "
        f"({meaning}), one decimal; the four sum to 100 (before rounding). Empty when the "
        "score has no points, and for snapshots taken before the shares were kept.",
    )
    for level, label, meaning in (
        ("accepted", "Reviewer-accepted", "accepted by a reviewer"),
        ("evidence_valid", "Evidence in date", "a file valid until that day or later"),
        ("evidence", "With evidence", "files, none with a valid-until day still to come"),
        ("self_attested", "Self-attested", "no evidence"),
    )
)


def _shares(whose: str) -> tuple[Column, ...]:
    return tuple(Column(c.name, c.type, c.description.format(whose=whose)) for c in SHARES)


CYCLE = Column(
    "cycle", "integer", "Assessment cycle of the product on this questionnaire (1 = first)."
)

EXTRACTS: dict[str, Extract] = {
    "answers": Extract(
        "Answers",
        "one stored answer",
        "when the answer last changed",
        (
            *NAMED,
            CYCLE,
            Column("status", "text", "Assessment status now (not_started ... approved, rejected)."),
            Column("section", "text", "Section title of the question."),
            Column(
                "question_key", "text", "Question key, stable within the questionnaire version."
            ),
            Column("question", "text", "Question text."),
            Column(
                "value",
                "text or JSON",
                "The answer: an option key, a number, text, a date "
                "(YYYY-MM-DD), or a JSON list of option keys for multiple "
                "choice; empty when unanswered.",
            ),
            Column(
                "value_label",
                "text",
                "The chosen option's label as the questionnaire shows it "
                "(multiple choice: labels joined by '; '); empty for number, "
                "text and date answers.",
            ),
            Column("not_applicable", "boolean", "True when answered as not applicable."),
            Column(
                "score",
                "number 0-100",
                "Score of the answer as the Scores page shows it, one "
                "decimal; empty when N/A, unanswered or unscored.",
            ),
            Column(
                "review_state", "text", "Reviewer's verdict: pending, accepted or needs_changes."
            ),
            Column(
                "assurance",
                "text",
                "How well the answer is proven, derived and never set by anyone: Self-attested, "
                "With evidence (files, none valid until today or later), Evidence in date (a "
                "file valid until today or later) or Reviewer-accepted.",
            ),
            Column("answered_at", TIME, "When the answer itself last changed."),
            Column(
                "origin",
                "text",
                "Where the answer came from: carried (through a mapping from another "
                "assessment of the product), confirmed (a proposed answer the client "
                "confirmed), reused (the organisation's answer on another product), or "
                "changed after carrying (taken so, then changed here); empty for an answer "
                "given here.",
            ),
            Column(
                "origin_detail",
                "text",
                "One sentence naming the source: its questionnaire, cycle and product, the "
                "source answers with their dates, and the mapping and its relationship; empty "
                "when none.",
            ),
        ),
    ),
    "snapshots": Extract(
        "Score snapshots",
        "one score snapshot",
        "when the snapshot was taken",
        (
            Column("snapshot_id", "integer", "Snapshot number (append-only score history)."),
            *NAMED,
            CYCLE,
            Column("taken_at", TIME, "When the snapshot was taken."),
            Column(
                "trigger",
                "text",
                "What took it: submit, changes_requested, approve, reject, recompute.",
            ),
            Column(
                "overall_score",
                "number 0-100",
                "Overall score, one decimal as on screen; empty when nothing scored was answered.",
            ),
            Column("band", "text", "Risk band: Low, Medium, High or Critical."),
            Column(
                "completion",
                "number 0-100",
                "Percentage of visible questions answered, one decimal.",
            ),
            Column("answered_count", "integer", "Visible questions answered."),
            Column("total_count", "integer", "Visible questions."),
            Column("formula_version", "text", "Scoring formula version used."),
            *_shares("overall score's"),
        ),
    ),
    "section_scores": Extract(
        "Section scores",
        "one section of one snapshot",
        "when the snapshot was taken",
        (
            Column("snapshot_id", "integer", "Snapshot number (see snapshots)."),
            *NAMED,
            Column("taken_at", TIME, "When the snapshot was taken."),
            Column("section_key", "text", "Section key, stable within the questionnaire version."),
            Column("section", "text", "Section title."),
            Column(
                "score",
                "number 0-100",
                "Section score, one decimal as on screen; empty when nothing scored was answered.",
            ),
            *_shares("section score's"),
        ),
    ),
    "status_timeline": Extract(
        "Status timeline",
        "one status change",
        "when the status changed",
        (
            *NAMED,
            CYCLE,
            Column("changed_at", TIME, "When the status changed."),
            Column("from_status", "text", "Status before (empty for the first change)."),
            Column("to_status", "text", "Status after."),
            Column("changed_by", "text", "Who changed it."),
            Column("note", "text", "Note given with the change (reason for a rejection, request)."),
        ),
    ),
    "comments": Extract(
        "Comments",
        "one comment you may read",
        "when the comment was written",
        (
            Column("comment_id", "integer", "Comment number."),
            *NAMED,
            CYCLE,
            Column(
                "question_key", "text", "Question the comment is about; empty for the assessment."
            ),
            Column("reply_to", "integer", "Comment this one answers; empty for a new thread."),
            Column("author", "text", "Who wrote it."),
            Column("author_role", "text", "Role of the author."),
            Column(
                "visibility",
                "text",
                "shared (client and reviewers) or internal (reviewers only; "
                "never in a client's extract).",
            ),
            Column("resolved", "boolean", "True once the thread was marked resolved."),
            Column("created_at", TIME, "When it was written."),
            Column("body", "text", "The comment text."),
        ),
    ),
    "evidence": Extract(
        "Evidence metadata",
        "one uploaded evidence file",
        "when it was uploaded",
        (
            Column("evidence_id", "integer", "Evidence file number."),
            *NAMED,
            CYCLE,
            Column("question_key", "text", "Question the file supports."),
            Column("filename", "text", "File name as uploaded."),
            Column("content_type", "text", "Detected content type."),
            Column("size_bytes", "integer", "File size in bytes."),
            Column("sha256", "text", "SHA-256 of the content."),
            Column("uploaded_by", "text", "Who uploaded it."),
            Column("uploaded_at", TIME, "When it was uploaded."),
            Column(
                "valid_until",
                "date (YYYY-MM-DD)",
                "The last day the evidence holds, as its uploader gave it; empty when none.",
            ),
            Column("withdrawn", "boolean", "True when the file was withdrawn."),
            Column("withdrawn_at", TIME, "When it was withdrawn."),
        ),
    ),
}
