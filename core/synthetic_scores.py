"""Synthetic answers and score snapshots: every answer scored as it is drawn, five snapshots per
assessment, and the assessments' summary columns (see core/synthetic.py)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import bindparam, column, select, table, update

from core.models import Question, QuestionnaireResponse, ScoreHistory, Section
from core.scoring import DEFAULT_BANDS, FORMULA_VERSION, band_for
from core.synthetic_loader import Loader
from core.synthetic_stories import AssessmentPlan, RowValues

# Per section key of one assessment: [sum of its scored answers' scores, how many were scored].
SectionSums = dict[str, list[float]]

VALUES = (("yes", 1.0), ("partial", 0.5), ("no", 0.0))
_JSON = {v: json.dumps(v) for v, _ in VALUES}

ANSWER_COLUMNS = (
    "assessment_id",
    "question_id",
    "value",
    "is_na",
    "justification",
    "score",
    "review_state",
    "answered_by",
    "answered_at",
    "created_at",
    "updated_at",
)


def add_answers(
    loader: Loader, plans: list[AssessmentPlan], questionnaire_id: int, rng: random.Random
) -> list[SectionSums]:
    """Insert every answer; returns per assessment (in plan order) its section sums."""
    questions = loader.conn.execute(
        select(Question.id, Section.key, Question.allow_na, Question.critical)
        .join(Section, Section.id == Question.section_id)
        .where(Question.questionnaire_id == questionnaire_id)
        .order_by(Question.id)
    ).all()
    sections: list[SectionSums] = []

    def rows() -> Iterator[tuple[object, ...]]:
        for plan in plans:
            sums: SectionSums = {}
            when, aid, who = loader.ts(plan.times[-1] - timedelta(days=3)), plan.id, plan.client
            yes, partial = plan.quality, plan.quality + (1 - plan.quality) / 2
            for qid, section, allow_na, critical in questions:
                r = rng.random() * (0.5 if critical else 1)
                value, score = VALUES[0] if r < yes else VALUES[1] if r < partial else VALUES[2]
                if allow_na and rng.random() < 0.1:
                    yield aid, qid, None, True, "", None, "accepted", who, when, when, when
                    continue
                acc = sums.setdefault(section, [0.0, 0])
                acc[0] += score
                acc[1] += 1
                yield aid, qid, _JSON[value], False, "", score, "accepted", who, when, when, when
            sections.append(sums)

    loader.insert_tuples(QuestionnaireResponse, ANSWER_COLUMNS, rows())
    return sections


def add_snapshots(
    loader: Loader,
    plans: list[AssessmentPlan],
    sections: list[SectionSums],
    questionnaire_id: int,
    rng: random.Random,
) -> None:
    """Five snapshots per assessment (the newest scored from its answers), then the summary columns
    (every answer is reviewer-accepted, so a scored assessment's points are all assured and
    accepted)."""
    weights = dict(
        loader.conn.execute(
            select(Section.key, Section.weight).where(Section.questionnaire_id == questionnaire_id)
        ).all()
    )
    latest: dict[int, RowValues] = {}  # the newest snapshot of each assessment, once inserted

    def rows() -> Iterator[RowValues]:
        for plan, sums in zip(plans, sections, strict=False):
            snapshots = _snapshot_rows(loader, plan, sums, weights, rng)
            latest[plan.id] = snapshots[-1]
            yield from snapshots

    loader.insert(ScoreHistory, rows())
    summary = table(
        "assessments",
        column("id"),
        column("latest_score"),
        column("latest_band"),
        column("completion"),
        column("accepted_share"),
        column("assured_share"),
    )
    loader.conn.execute(
        update(summary)
        .where(summary.c.id == bindparam("aid"))
        .values(
            latest_score=bindparam("score"),
            latest_band=bindparam("band"),
            completion=bindparam("done"),
            accepted_share=bindparam("share"),
            assured_share=bindparam("share"),
        ),
        [
            {
                "aid": p.id,
                "score": latest[p.id]["overall_score"],
                "band": latest[p.id]["band"],
                "done": latest[p.id]["completion"],
                "share": None if latest[p.id]["overall_score"] is None else 100.0,
            }
            for p in plans
        ],
    )


def _snapshot_rows(
    loader: Loader,
    plan: AssessmentPlan,
    sums: SectionSums,
    weights: dict[str, float],
    rng: random.Random,
) -> list[RowValues]:
    history = [{key: 100 * s / n for key, (s, n) in sorted(sums.items()) if n}]
    completion = [1.0]
    for _ in range(4):  # walk back in time: scores were mostly lower before, sometimes higher
        shift = rng.gauss(3, 7)
        history.insert(
            0, {k: min(100.0, max(0.0, v - shift - rng.gauss(0, 4))) for k, v in history[0].items()}
        )
        completion.insert(0, max(0.8, completion[0] - rng.uniform(0, 0.04)))
    out: list[RowValues] = []
    for when, trigger, secs, done in zip(
        plan.times, plan.triggers, history, completion, strict=False
    ):
        total = sum(weights[k] for k in secs)
        overall = sum(weights[k] * v for k, v in secs.items()) / total if secs else None
        stamp = loader.ts(when)
        out.append(
            {
                "assessment_id": plan.id,
                "overall_score": overall,
                "section_scores": json.dumps(secs),
                "band": band_for(overall, DEFAULT_BANDS),
                "completion": done,
                "answered_count": round(done * 100),
                "total_count": 100,
                "trigger": trigger,
                "actor_id": None,
                "formula_version": FORMULA_VERSION,
                "settings_used": "{}",
                "question_scores": None,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    return out
