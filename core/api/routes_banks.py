"""Question banks: list every stored version, export one as YAML, import one (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile

from core.access import require_role
from core.api.deps import Caller, authenticated, reject_unknown_query, writer
from core.api.problems import Problem
from core.banks.frameworks import read_source
from core.banks.store import list_questionnaires, load_bank, plan_import, store_plan
from core.banks.yaml_io import dump_bank

router = APIRouter(dependencies=[Depends(reject_unknown_query)], tags=["question banks"])
Reader = Annotated[Caller, Depends(authenticated)]
Writer = Annotated[Caller, Depends(writer)]


@router.get("/question-banks")
def banks(caller: Reader) -> dict[str, Any]:
    """Every stored questionnaire version with its question count, as the start form lists them."""
    with caller.reading() as s:
        return {"question_banks": list_questionnaires(s)}


@router.get("/question-banks/{key}/export", response_class=Response)
def export(caller: Reader, key: str, version: int | None = None) -> Response:
    """A stored bank as YAML in the shipped format (the newest version unless one is named)."""
    with caller.reading() as s:
        found = [
            q
            for q in list_questionnaires(s)
            if q["key"] == key and (version is None or q["version"] == version)
        ]
        if not found:
            raise Problem(404, "not-found", "No such question bank (or version).")
        bank = load_bank(s, max(found, key=lambda q: q["version"])["id"])
    return Response(
        dump_bank(bank),
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{bank.key}-v{bank.version}.yaml"'},
    )


@router.post("/question-banks", status_code=201)
def import_bank(
    caller: Writer,
    response: Response,
    file: Annotated[UploadFile, File()],
    level: Annotated[int | None, Form(ge=1, le=3)] = None,
) -> dict[str, Any]:
    """Import a bank file as the admin page does (our YAML, OSCAL, the ASVS CSV with a level):
    201 with a new bank or version, 200 when that exact version is already stored."""
    require_role(caller.actor, "admin")
    data = file.file.read()
    source = read_source(file.filename or "bank", data, level=level)
    with caller.writing() as s:
        plan = plan_import(s, source.bank, version_fixed=source.version_fixed)
        questionnaire, created = store_plan(s, caller.actor, plan)
        result = {
            "id": questionnaire.id,
            "key": questionnaire.key,
            "version": questionnaire.version,
            "title": questionnaire.title,
            "created": created,
            "detail": plan.detail,
        }
    if not created:
        response.status_code = 200
    return result
