"""Assessments (list, get, start, submit), their answers (get, put, CSV) and score history."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from core.api.deps import Caller, MinAccepted, authenticated, reject_unknown_query, see, writer
from core.api.listing import AssessmentQuery, assessment_page, assessment_row
from core.api.paging import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page_response
from core.api.problems import Hidden
from core.api.schemas import AnswersIn, AssessmentIn, AssessmentOut, AssessmentPage
from core.assessments import score_history, start_assessment
from core.assurance import answer_levels, assurance_history
from core.exports import assessment_answers_csv
from core.filters import Filters
from core.labels import iso_utc
from core.models import STATUSES, TIERS
from core.products import get_product
from core.responses import AnswerInput, answer_rows, save_answers
from core.submission import submit
from core.workspace import get_assessment

router = APIRouter(dependencies=[Depends(reject_unknown_query)], tags=["assessments"])
Reader = Annotated[Caller, Depends(authenticated)]
Writer = Annotated[Caller, Depends(writer)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Status = Annotated[str | None, Query(pattern="^(" + "|".join(STATUSES) + ")$")]
Tier = Annotated[str | None, Query(pattern="^(" + "|".join(TIERS) + ")$")]


def visible(s: Session, caller: Caller, assessment_id: int) -> None:
    """404 unless the caller may read the assessment (an audited refusal)."""
    see(lambda: get_assessment(s, caller.actor, assessment_id), "assessment")


def _one(s: Session, caller: Caller, assessment_id: int) -> AssessmentOut:
    visible(s, caller, assessment_id)
    row = assessment_row(s, caller.actor, assessment_id)
    if row is None:  # readable, yet outside the listing's scope: treat as absent
        raise Hidden("That assessment does not exist.")
    return AssessmentOut.model_validate(row)


@router.get("/assessments", response_model=AssessmentPage)
def list_assessments(
    caller: Reader,
    status: Status = None,
    organization_id: int | None = None,
    product_id: int | None = None,
    questionnaire_id: int | None = None,
    industry: Annotated[str | None, Query(max_length=60)] = None,
    tier: Tier = None,
    updated_from: date | None = None,
    updated_to: date | None = None,
    min_accepted: MinAccepted = 0.0,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """Assessments the caller may read, by id, narrowed like the analytics pages' filters
    (updated_from/updated_to: the days, UTC and inclusive, they last changed; min_accepted: the
    percent of the newest snapshot's points a reviewer accepted, at least)."""
    after = decode_cursor("assessments", cursor)
    query = AssessmentQuery(
        Filters(
            organization_id,
            questionnaire_id,
            updated_from,
            updated_to,
            industry,
            tier,
            min_accepted,
        ),
        status,
        product_id,
    )
    with caller.reading() as s:
        rows = assessment_page(s, caller.actor, query, after=after, limit=limit)
    return page_response(AssessmentPage, "assessments", rows, limit)


@router.get("/assessments/{assessment_id}")
def assessment(caller: Reader, assessment_id: int) -> AssessmentOut:
    """One assessment."""
    with caller.reading() as s:
        return _one(s, caller, assessment_id)


@router.post("/assessments", status_code=201)
def start(caller: Writer, body: AssessmentIn) -> AssessmentOut:
    """Start an assessment of a product (its client, or an admin)."""
    with caller.writing() as s:
        see(lambda: get_product(s, caller.actor, body.product_id), "product")
        made = start_assessment(
            s,
            caller.actor,
            product_id=body.product_id,
            questionnaire_id=body.questionnaire_id,
            due_date=body.due_date,
        )
        return _one(s, caller, made.id)


@router.post("/assessments/{assessment_id}/submit")
def submit_assessment(caller: Writer, assessment_id: int) -> AssessmentOut:
    """Submit a complete assessment for review: status, timeline, score snapshot, audit."""
    with caller.writing() as s:
        visible(s, caller, assessment_id)
        submit(s, caller.actor, assessment_id)
        return _one(s, caller, assessment_id)


@router.get("/assessments/{assessment_id}/answers")
def answers(caller: Reader, assessment_id: int) -> dict[str, Any]:
    """The stored answers in bank order, with question text, section, score, review state and
    assurance level (derived: self_attested, evidence, evidence_valid or accepted)."""
    with caller.reading() as s:
        visible(s, caller, assessment_id)
        rows = answer_rows(s, caller.actor, assessment_id)
        levels = answer_levels(s, assessment_id)
    return {
        "assessment_id": assessment_id,
        "answers": [
            {**asdict(r), "assurance_level": levels.get(r.question, "self_attested")} for r in rows
        ],
    }


@router.put("/assessments/{assessment_id}/answers")
def put_answers(caller: Writer, assessment_id: int, body: AnswersIn) -> dict[str, Any]:
    """Save answers by question key, validated as the questionnaire page validates them: all of
    them or none."""
    given = {
        key: AnswerInput(value=a.value, is_na=a.is_na, justification=a.justification)
        for key, a in body.answers.items()
    }
    with caller.writing() as s:
        visible(s, caller, assessment_id)
        changed = save_answers(s, caller.actor, assessment_id, given)
        done = get_assessment(s, caller.actor, assessment_id)
        return {"assessment_id": assessment_id, "changed": changed, "completion": done.completion}


@router.get("/assessments/{assessment_id}/answers.csv", response_class=Response)
def answers_csv(caller: Reader, assessment_id: int) -> Response:
    """The assessment's answers as CSV (formula-safe), as the Scores page downloads them."""
    with caller.reading() as s:
        visible(s, caller, assessment_id)
        data = assessment_answers_csv(s, caller.actor, assessment_id)
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="assessment-{assessment_id}.csv"'},
    )


@router.get("/assessments/{assessment_id}/scores", tags=["scores"])
def scores(caller: Reader, assessment_id: int) -> dict[str, Any]:
    """Every score snapshot of the assessment, oldest first, each with its assurance shares
    (percent of the points at each level, overall and per section; null before they were kept)."""
    with caller.reading() as s:
        visible(s, caller, assessment_id)
        snapshots = score_history(s, caller.actor, assessment_id)
        shares = assurance_history(s, caller.actor, assessment_id)
    return {
        "assessment_id": assessment_id,
        "snapshots": [
            {**asdict(x), "time": iso_utc(x.time), "assurance": a and a.as_json()}
            # the same order; a snapshot written between the two reads only lengthens the second
            for x, a in zip(snapshots, shares, strict=False)
        ],
    }
