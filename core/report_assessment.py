"""The assessment report: one assessment's result as a PDF to hand on, from what the actor may read.

Every figure comes from core's own functions (score_explanation, status_history, list_comments,
list_evidence, answer_details), each checking access, so a report holds exactly what its reader
may see on the pages, and nobody gets one of an assessment they may not read. Comments are the
shared ones only, for every reader: a report is made to be passed on, and an internal note is
never in it. The timeline, comments, evidence and method are drawn by core/report_record.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.platypus import Flowable
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.charts import section_scores_figure, waterfall_figure
from core.comments import Comment, list_comments
from core.evidence import EvidenceItem, list_evidence
from core.explain import ScoreExplanation, Snapshot, score_explanation
from core.labels import format_datetime, status_label
from core.models import Assessment, Organization, Product, Questionnaire, User, utcnow
from core.plans import SavedPlan, load_plan
from core.report_charts import RENDERER, ChartRenderer, draw, report_figure
from core.report_document import build_pdf
from core.report_plan import plan_part
from core.report_record import comments_part, evidence_part, method_part, timeline_part
from core.report_render import facts, gap, heading, paragraph
from core.report_scores import critical_part, lost_part, movement_part, score_tiles, sections_part
from core.responses import StoredAnswer, answer_details
from core.timelines import StatusEvent, current_decision, status_history
from core.workspace import get_assessment


@dataclass(frozen=True)
class AssessmentReport:
    """What the assessment report shows, read for one actor."""

    facts: dict[str, Any]  # product, organisation, questionnaire, version, cycle, reviewer, ...
    explanation: ScoreExplanation
    answers: dict[str, StoredAnswer]
    history: list[StatusEvent]
    decision: StatusEvent | None
    comments: list[Comment]  # shared comments, threads kept together
    evidence: list[tuple[EvidenceItem, str]]  # each file with the name of who added it
    plan: SavedPlan | None = None  # the score planner's saved plan (core/plans.py)


def _facts(session: Session, assessment_id: int) -> dict[str, Any]:
    row = session.execute(
        select(
            Product.name,
            Organization.name,
            Questionnaire.title,
            Questionnaire.version,
            Assessment.cycle,
            Assessment.round,
            Assessment.submitted_at,
            User.name,
        )
        .join(Product, Product.id == Assessment.product_id)
        .join(Organization, Organization.id == Assessment.organization_id)
        .join(Questionnaire, Questionnaire.id == Assessment.questionnaire_id)
        .outerjoin(User, User.id == Assessment.reviewer_id)
        .where(Assessment.id == assessment_id)
    ).one()
    keys = ("product", "organization", "questionnaire", "version", "cycle", "round", "submitted")
    return {**dict(zip(keys, row[:7], strict=True)), "reviewer": row[7]}


def _threads(comments: list[Comment]) -> list[Comment]:
    """Shared comments, each thread (a comment and its replies) together, oldest thread first."""
    shared = [c for c in comments if c.visibility == "shared"]
    by_id = {c.id: c for c in shared}

    def root(c: Comment) -> Comment:
        while c.parent_id in by_id:
            c = by_id[c.parent_id]
        return c

    return sorted(shared, key=lambda c: (root(c).time, root(c).id, c.time, c.id))


def _uploaders(session: Session, files: list[EvidenceItem]) -> list[tuple[EvidenceItem, str]]:
    ids = {f.uploaded_by for f in files if f.uploaded_by is not None}
    names: dict[int, str] = dict(
        session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()
    )
    return [(f, names.get(f.uploaded_by, "system") if f.uploaded_by else "system") for f in files]


def _previous_change(ex: ScoreExplanation) -> Snapshot | None:
    """The newest snapshot before the latest whose scores differ from it: a decision repeats the
    scores of the submission it decides, so what moved is read past such repeats."""
    if ex.after is None:
        return None
    for snap in reversed(ex.snapshots[: ex.snapshots.index(ex.after)]):
        if (snap.overall, snap.question_scores) != (ex.after.overall, ex.after.question_scores):
            return snap
    return None


def _explanation(session: Session, actor: Actor, assessment_id: int) -> ScoreExplanation:
    ex = score_explanation(session, actor, assessment_id)
    before = _previous_change(ex)
    if before is None or ex.after is None or ex.before is None or before.id == ex.before.id:
        return ex
    return score_explanation(
        session, actor, assessment_id, before_id=before.id, after_id=ex.after.id
    )


def load_assessment_report(session: Session, actor: Actor, assessment_id: int) -> AssessmentReport:
    """Everything the report shows, as the actor may read it (AccessDenied or NotFound else)."""
    get_assessment(session, actor, assessment_id)
    history = status_history(session, actor, assessment_id)
    return AssessmentReport(
        facts=_facts(session, assessment_id),
        explanation=_explanation(session, actor, assessment_id),
        answers=answer_details(session, actor, assessment_id),
        history=history,
        decision=current_decision(history),
        comments=_threads(list_comments(session, actor, assessment_id)),
        evidence=_uploaders(session, list_evidence(session, actor, assessment_id)),
        plan=load_plan(session, actor, assessment_id),
    )


def _decision(report: AssessmentReport) -> tuple[str, str]:
    d = report.decision
    if d is None:
        return "No decision yet", ""
    return f"{d.what} on {format_datetime(d.time)} by {d.by}", d.note or "No note"


def _cover(report: AssessmentReport) -> list[Flowable]:
    f, ex = report.facts, report.explanation
    decision, note = _decision(report)
    rows: list[tuple[str, object]] = [
        ("Product", f["product"]),
        ("Organisation", f["organization"]),
        ("Questionnaire", f"{f['questionnaire']}, version {f['version']}"),
        ("Cycle", f"Cycle {f['cycle']}, review round {f['round']}"),
        ("Status", status_label(ex.status)),
        ("Submitted", format_datetime(f["submitted"]) if f["submitted"] else "Not yet"),
        ("Reviewer", f["reviewer"] or "Not assigned"),
        ("Decision", decision),
    ]
    if note:
        rows.append(("Decision note", note))
    return [
        paragraph("Security assessment report", "title"),
        paragraph(f"{f['product']} · {f['organization']}", "subtitle"),
        facts(rows),
        gap(4),
    ]


def _nothing_answered(report: AssessmentReport) -> list[Flowable]:
    total = report.explanation.result.total
    return [
        heading("Nothing answered yet"),
        paragraph(
            f"No question of this questionnaire is answered yet ({total} questions to answer). "
            "Scores, comments and evidence appear here once answering starts."
        ),
    ]


def assessment_figures(ex: ScoreExplanation) -> list[Any]:
    """The charts of the report: score per section, and the waterfall when something moved."""
    height = max(340, 26 * len(ex.sections) + 110)
    figures = [report_figure(section_scores_figure(ex.sections), height=height)]
    if not ex.movement.empty and ex.before is not None and ex.after is not None:
        figure = waterfall_figure(ex.movement, ex.before.overall, ex.after.overall)
        figures.append(report_figure(figure, height=380))
    return figures


def assessment_story(
    report: AssessmentReport, renderer: ChartRenderer = RENDERER
) -> list[Flowable]:
    """The report's flowables: cover, scores, what cost points and moved, the saved plan, the
    record, the method."""
    ex = report.explanation
    story = _cover(report)
    if not report.answers:
        return story + _nothing_answered(report)
    story.append(score_tiles(ex))
    if ex.result.overall is None:
        story.append(paragraph("No score yet: none of the answered questions is scored.", "note"))
        svgs: list[bytes | None] = [None, None]
        note = ""
    else:
        svgs, note = draw(assessment_figures(ex), renderer)
        svgs += [None] * (2 - len(svgs))
        story += sections_part(ex, svgs[0], note) + lost_part(ex, report.answers)
        story += critical_part(ex, report.answers)
    story += movement_part(ex, svgs[1], note) + plan_part(ex, report.plan)
    story += timeline_part(report.history) + comments_part(report.comments)
    story += evidence_part(report.evidence)
    return story + method_part(ex)


def assessment_report_pdf(
    session: Session,
    actor: Actor,
    assessment_id: int,
    *,
    now: datetime | None = None,
    renderer: ChartRenderer = RENDERER,
) -> bytes:
    """The assessment report of one assessment the actor may read, as PDF bytes."""
    report = load_assessment_report(session, actor, assessment_id)
    f = report.facts
    return build_pdf(
        assessment_story(report, renderer),
        title=f"Assessment report · {f['product']} · cycle {f['cycle']}",
        subject=f"{f['questionnaire']}, version {f['version']}",
        generated=now or utcnow(),
    )
