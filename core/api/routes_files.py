"""Evidence files (list, upload, download, set the day one is valid until) and comments (list,
add) of an assessment."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile

from core.api.deps import Caller, authenticated, config_of, reject_unknown_query, see, writer
from core.api.routes_assessments import visible
from core.api.schemas import CommentIn, EvidenceIn
from core.comments import add_comment, list_comments
from core.evidence import (
    add_evidence,
    evidence_assessment,
    list_evidence,
    read_evidence,
    set_valid_until,
)
from core.labels import iso_utc
from core.models import EvidenceFile

router = APIRouter(dependencies=[Depends(reject_unknown_query)])
Reader = Annotated[Caller, Depends(authenticated)]
Writer = Annotated[Caller, Depends(writer)]


def _evidence(item: Any) -> dict[str, Any]:
    return {**asdict(item), "created_at": iso_utc(item.created_at)}


@router.get("/assessments/{assessment_id}/evidence", tags=["evidence"])
def evidence(caller: Reader, assessment_id: int) -> dict[str, Any]:
    """The assessment's active evidence files (never their bytes)."""
    with caller.reading() as s:
        visible(s, caller, assessment_id)
        items = list_evidence(s, caller.actor, assessment_id)
    return {"assessment_id": assessment_id, "evidence": [_evidence(i) for i in items]}


@router.post("/assessments/{assessment_id}/evidence", status_code=201, tags=["evidence"])
def upload(
    caller: Writer,
    request: Request,
    assessment_id: int,
    question_key: Annotated[str, Form(max_length=64)],
    file: Annotated[UploadFile, File()],
    valid_until: Annotated[str | None, Form(max_length=40)] = None,
) -> dict[str, Any]:
    """Attach one file (multipart: question_key and file, optionally valid_until as YYYY-MM-DD)
    to an answer of an open assessment, checked as the questionnaire page checks it (size, type,
    content)."""
    data = file.file.read()
    with caller.writing() as s:
        visible(s, caller, assessment_id)
        row: EvidenceFile = add_evidence(
            s,
            caller.actor,
            assessment_id,
            question_key=question_key,
            filename=file.filename or "upload",
            data=data,
            data_dir=config_of(request).settings.data_dir,
            valid_until=valid_until,
        )
        return {
            "id": row.id,
            "assessment_id": assessment_id,
            "question_key": question_key,
            "filename": row.filename,
            "content_type": row.content_type,
            "size_bytes": row.size_bytes,
            "sha256": row.sha256,
            "valid_until": row.valid_until,
        }


@router.put("/evidence/{evidence_id}", tags=["evidence"])
def change_evidence(caller: Writer, evidence_id: int, body: EvidenceIn) -> dict[str, Any]:
    """Set or clear (null) the day a file of an open assessment is valid until, as the
    questionnaire page does."""
    with caller.writing() as s:
        see(lambda: evidence_assessment(s, caller.actor, evidence_id), "evidence file")
        row = set_valid_until(s, caller.actor, evidence_id, body.valid_until)
        return {"id": row.id, "assessment_id": row.assessment_id, "valid_until": row.valid_until}


@router.get("/evidence/{evidence_id}/content", response_class=Response, tags=["evidence"])
def download(caller: Reader, request: Request, evidence_id: int) -> Response:
    """The file itself, checked against its stored hash."""
    with caller.reading() as s:
        got = see(
            lambda: read_evidence(
                s, caller.actor, evidence_id, data_dir=config_of(request).settings.data_dir
            ),
            "evidence file",
        )
    return Response(
        got.data,
        media_type=got.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(got.name)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/assessments/{assessment_id}/comments", tags=["comments"])
def comments(caller: Reader, assessment_id: int) -> dict[str, Any]:
    """Comments on the assessment and its answers, oldest first (a client: shared ones only)."""
    with caller.reading() as s:
        visible(s, caller, assessment_id)
        rows = list_comments(s, caller.actor, assessment_id)
    return {
        "assessment_id": assessment_id,
        "comments": [{**asdict(c), "time": iso_utc(c.time)} for c in rows],
    }


@router.post("/assessments/{assessment_id}/comments", status_code=201, tags=["comments"])
def comment(caller: Writer, assessment_id: int, body: CommentIn) -> dict[str, Any]:
    """Comment on the assessment or one answer (reviewers and its client)."""
    with caller.writing() as s:
        visible(s, caller, assessment_id)
        made = add_comment(
            s,
            caller.actor,
            assessment_id,
            body.body,
            visibility=body.visibility,
            question_key=body.question_key,
            parent_id=body.parent_id,
        )
        return {"id": made.id, "assessment_id": assessment_id, "visibility": made.visibility}
