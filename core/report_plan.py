"""The saved score plan in the assessment report: its target, the planned changes (question, the
answer now, the planned answer, the points each adds on its own) and the projected overall score
and band (core/planner.py scores them; core/report_assessment.py puts the part in order)."""

from __future__ import annotations

from reportlab.platypus import Flowable

from core.banks.model import Answer
from core.explain import ScoreExplanation
from core.labels import answer_label, format_datetime, format_score
from core.planner import planned_changes, project, reaches, target_label, target_score
from core.plans import SavedPlan
from core.report_render import Column, facts, heading, paragraph, table


def planned_answer_text(ex: ScoreExplanation, key: str, answer: Answer | None) -> str:
    """An answer, stored or planned, in words."""
    if answer is None or (answer.value is None and not answer.is_na):
        return "Not answered"
    if answer.is_na:
        return "Not applicable"
    return answer_label(ex.bank.question(key), answer.value)


def _distance(ex: ScoreExplanation, plan: SavedPlan, overall: float | None) -> str:
    projected = project(ex.bank, ex.answers, plan.planned, ex.bands)
    if reaches(projected, plan.target, ex.bands):
        return "Reached"
    if overall is not None and overall >= target_score(plan.target, ex.bands):
        return "Score reached; a failed critical question holds the band"
    short = target_score(plan.target, ex.bands) - (overall or 0.0)
    return f"{short:.1f} points short"


def plan_part(ex: ScoreExplanation, plan: SavedPlan | None) -> list[Flowable]:
    """The saved plan, or nothing when the assessment has none."""
    if plan is None:
        return []
    projected = project(ex.bank, ex.answers, plan.planned, ex.bands)
    overall = projected.overall
    out: list[Flowable] = [
        heading("Saved plan for the next cycle"),
        paragraph(
            "The answers planned on the Scores page and the scores they would give. A plan "
            "changes no answer and no recorded score.",
            "note",
        ),
        facts(
            [
                ("Target", target_label(plan.target)),
                ("Saved", f"{format_datetime(plan.updated_at)} by {plan.updated_by}"),
                ("Projected overall score", format_score(overall, empty="No score")),
                ("Projected risk band", f"{projected.band} risk" if projected.band else "No band"),
                ("Distance to the target", _distance(ex, plan, overall)),
            ]
        ),
    ]
    rows = [
        (
            c.key,
            ex.bank.question(c.key).text,
            planned_answer_text(ex, c.key, ex.answers.get(c.key)),
            planned_answer_text(ex, c.key, c.answer),
            f"{c.gain:+.2f}",
        )
        for c in planned_changes(ex.bank, ex.answers, plan.planned, ex.bands)
    ]
    columns = [
        Column("Question", 0.16),
        Column("Text", 0.36),
        Column("Now", 0.17),
        Column("Planned", 0.17),
        Column("Points", 0.14, wrap=False, align="RIGHT"),
    ]
    return [*out, table(columns, rows)]
