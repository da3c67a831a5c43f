"""The scores part of the assessment report: KPI tiles, score per section, the questions that cost
the most points, failed critical questions and what moved since the previous snapshot (each a
table of the explanation's own frames; core/report_assessment.py puts them in order)."""

from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether

from core.explain import ScoreExplanation
from core.labels import answer_label, format_score
from core.report_render import Column, chart, heading, paragraph, table, tiles
from core.responses import StoredAnswer

MOVED_ROWS = 25  # what moved: the largest changes by name, the rest summed in one row
Answers = dict[str, StoredAnswer]


def answer_text(ex: ScoreExplanation, answers: Answers, key: str) -> str:
    """The given answer in words, with its justification when there is one."""
    stored = answers.get(key)
    if stored is None:
        return "Not answered"
    question = ex.bank.question(key)
    given = "Not applicable" if stored.is_na else answer_label(question, stored.value)
    return f"{given}\nJustification: {stored.justification}" if stored.justification else given


def score_tiles(ex: ScoreExplanation) -> Flowable:
    r = ex.result
    return tiles(
        [
            ("Overall score (0-100)", format_score(r.overall, empty="No score")),
            ("Risk band", f"{r.band} risk" if r.band else "No band"),
            ("Completion", f"{r.completion * 100:.0f}%"),
            ("Answered", f"{r.answered} of {r.total}"),
        ]
    )


def sections_part(ex: ScoreExplanation, svg: bytes | None, note: str) -> list[Flowable]:
    rows = [
        (s, format_score(v, empty="No score"), f"{w:g}", n, b if isinstance(b, str) else "—")
        for s, v, w, n, b in ex.sections[
            ["section", "score", "weight", "answered", "band"]
        ].itertuples(index=False)
    ]
    columns = [
        Column("Section", 0.46),
        Column("Score (0-100)", 0.14, wrap=False, align="RIGHT"),
        Column("Weight", 0.1, wrap=False, align="RIGHT"),
        Column("Scored answers", 0.15, wrap=False, align="RIGHT"),
        Column("Band", 0.15, wrap=False),
    ]
    return [KeepTogether([heading("Score per section"), chart(svg, note)]), table(columns, rows)]


def lost_part(ex: ScoreExplanation, answers: Answers) -> list[Flowable]:
    out: list[Flowable] = [heading("Questions that cost the most points")]
    if ex.lost.empty:
        return [*out, paragraph("Every scored answer is at full marks.")]
    rows = [
        (
            key,
            text,
            section,
            answer_text(ex, answers, key),
            format_score(score, scale=100),
            f"{lost:.2f}",
        )
        for key, text, section, score, lost in ex.lost[
            ["question", "text", "section", "score", "points_lost"]
        ].itertuples(index=False)
    ]
    columns = [
        Column("Question", 0.16),
        Column("Text", 0.28),
        Column("Section", 0.13),
        Column("Answer given", 0.23),
        Column("Answer score (0-100)", 0.1, wrap=False, align="RIGHT"),
        Column("Points lost", 0.1, wrap=False, align="RIGHT"),
    ]
    return [*out, table(columns, rows)]


def critical_part(ex: ScoreExplanation, answers: Answers) -> list[Flowable]:
    failed = ex.result.failed_critical
    out: list[Flowable] = [heading("Failed critical questions", 2)]
    if not failed:
        return [*out, paragraph("No critical question is failed.")]
    rows = [
        (
            key,
            ex.bank.question(key).text,
            answer_text(ex, answers, key),
            format_score(ex.result.question_scores.get(key), scale=100),
        )
        for key in failed
    ]
    columns = [
        Column("Question", 0.16),
        Column("Text", 0.4),
        Column("Answer given", 0.3),
        Column("Answer score (0-100)", 0.14, wrap=False, align="RIGHT"),
    ]
    return [
        *out,
        paragraph(
            "A critical question scoring below 50 holds the band at High risk or worse, however "
            "good the rest is.",
            "alert",
        ),
        table(columns, rows),
    ]


def movement_part(ex: ScoreExplanation, svg: bytes | None, note: str) -> list[Flowable]:
    out: list[Flowable] = [heading("What moved since the previous snapshot")]
    if ex.before is not None and ex.after is not None:
        out.append(paragraph(f"From {ex.before.label}\nto {ex.after.label}"))
        between = ex.snapshots.index(ex.after) - ex.snapshots.index(ex.before) - 1
        if between:
            repeats = "1 snapshot" if between == 1 else f"{between} snapshots"
            out.append(paragraph(f"{repeats} in between recorded the same scores.", "note"))
    if ex.movement_note:
        out.append(paragraph(ex.movement_note, "note"))
    if ex.movement.empty:
        return out
    frame = ex.movement
    rows: list[tuple[object, ...]] = [
        (k, t, format_score(b, scale=100), format_score(a, scale=100), f"{c:+.2f}")
        for k, t, b, a, c in frame[["question", "text", "before", "after", "change"]]
        .iloc[:MOVED_ROWS]
        .itertuples(index=False)
    ]
    if len(frame) > MOVED_ROWS:
        rest = frame["change"].iloc[MOVED_ROWS:]
        rows.append(("", f"{len(rest)} smaller changes", "", "", f"{rest.sum():+.2f}"))
    columns = [
        Column("Question", 0.16),
        Column("Text", 0.42),
        Column("Answer score before", 0.14, wrap=False, align="RIGHT"),
        Column("Answer score after", 0.14, wrap=False, align="RIGHT"),
        Column("Points", 0.14, wrap=False, align="RIGHT"),
    ]
    return [KeepTogether([*out, chart(svg, note)]), table(columns, rows)]
