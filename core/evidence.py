"""Evidence files: add, list, read and withdraw them, and set the day each is valid until, with
their rows and audit trail.

File checks (names, content, zip and image bombs) live in core/uploads.py, the blobs on disk in
core/evidence_store.py, the "valid until" checks and words in core/evidence_validity.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require_org_write
from core.banks.store import load_bank
from core.errors import NotFound, SecureSphereError, ValidationError
from core.evidence_store import blob_path, store_blob
from core.evidence_validity import check_valid_until
from core.models import Assessment, EvidenceFile, Question, utcnow
from core.settings import get_settings
from core.uploads import MB, CheckedUpload, check_upload, download_name
from core.workflow import EDITABLE
from core.workspace import get_assessment


@dataclass(frozen=True)
class EvidenceItem:
    """One active evidence file as the pages list it (never its bytes)."""

    id: int
    question_key: str | None
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: int | None
    created_at: datetime
    valid_until: date | None  # the last day the evidence holds, if it says


@dataclass(frozen=True)
class EvidenceDownload:
    """A file the actor may read: a safe download name, its content type and its checked bytes."""

    name: str
    content_type: str
    data: bytes


def _writable(session: Session, actor: Actor, assessment_id: int) -> Assessment:
    assessment = get_assessment(session, actor, assessment_id)
    require_org_write(actor, assessment.organization_id)
    if assessment.status not in EDITABLE:
        raise ValidationError("Evidence can only change while the assessment is open for answers.")
    return assessment


def _question_id(session: Session, assessment: Assessment, question_key: str) -> int:
    load_bank(session, assessment.questionnaire_id).question(question_key)  # NotFound if absent
    return session.scalars(
        select(Question.id).where(
            Question.questionnaire_id == assessment.questionnaire_id, Question.key == question_key
        )
    ).one()


def _lock_assessment(session: Session, assessment_id: int) -> None:
    # Serialises uploads to one assessment on PostgreSQL, so two at once cannot both pass the count
    # check; SQLite's write transactions are already serial (and it ignores FOR UPDATE).
    session.execute(select(Assessment.id).where(Assessment.id == assessment_id).with_for_update())


def _check_room(session: Session, assessment_id: int, question_id: int, adding: int) -> None:
    """Refuse files that would take the answer or the assessment past its evidence limit."""
    limits = get_settings(session)
    active = (
        select(func.count())
        .select_from(EvidenceFile)
        .where(EvidenceFile.assessment_id == assessment_id, EvidenceFile.is_active)
    )
    for scope, key, stmt in (
        (
            "answer",
            "evidence_max_per_answer",
            active.where(EvidenceFile.question_id == question_id),
        ),
        ("assessment", "evidence_max_per_assessment", active),
    ):
        limit, have = int(limits[key]), session.scalars(stmt).one()
        if have + adding > limit:
            raise ValidationError(
                f"An {scope} may carry at most {limit} evidence files and this one has {have}, "
                f"so {adding} more cannot be added. Remove some first, or ask an administrator "
                "to raise the limit."
            )


def _checked(
    files: Sequence[tuple[str, bytes]], max_bytes: int
) -> list[tuple[CheckedUpload, bytes]]:
    """Every file checked, with its bytes, or ValidationError naming the first bad one."""
    checked = []
    for filename, data in files:
        try:
            checked.append((check_upload(filename, data, max_bytes=max_bytes), data))
        except ValidationError as exc:
            if len(files) == 1:
                raise
            raise ValidationError(f"{download_name(filename)}: {exc} No file was added.") from None
    return checked


def add_evidence_files(
    session: Session,
    actor: Actor,
    assessment_id: int,
    *,
    question_key: str,
    files: Sequence[tuple[str, bytes]],
    data_dir: Path,
    valid_until: date | str | None = None,
    now: datetime | None = None,
) -> list[EvidenceFile]:
    """Check, store and record (name, bytes) files for one question of an open assessment, each
    valid until the given day if one is given: all or none."""
    now = now or utcnow()
    assessment = _writable(session, actor, assessment_id)
    until = check_valid_until(valid_until, now.date())
    question_id = _question_id(session, assessment, question_key)
    _lock_assessment(session, assessment.id)
    _check_room(session, assessment.id, question_id, len(files))
    # Every file is checked before any is stored, so a refused batch leaves nothing on disk.
    checked = _checked(files, int(float(get_settings(session)["upload_max_mb"]) * MB))
    where = (assessment.id, question_key, question_id, until)
    return [_record(session, actor, where, upload, data, data_dir, now) for upload, data in checked]


def add_evidence(
    session: Session,
    actor: Actor,
    assessment_id: int,
    *,
    question_key: str,
    filename: str,
    data: bytes,
    data_dir: Path,
    valid_until: date | str | None = None,
    now: datetime | None = None,
) -> EvidenceFile:
    """Check, store and record one evidence file for a question of an open assessment."""
    return add_evidence_files(
        session,
        actor,
        assessment_id,
        question_key=question_key,
        files=[(filename, data)],
        data_dir=data_dir,
        valid_until=valid_until,
        now=now,
    )[0]


def _record(
    session: Session,
    actor: Actor,
    where: tuple[int, str, int, date | None],  # assessment, question key and id, valid until
    upload: CheckedUpload,
    data: bytes,
    data_dir: Path,
    now: datetime,
) -> EvidenceFile:
    assessment_id, question_key, question_id, until = where
    digest = hashlib.sha256(data).hexdigest()
    # File before row: a blob is named by its hash, so one orphaned by a rollback is harmless and reused.
    key = store_blob(data_dir, digest, data)
    row = EvidenceFile(
        assessment_id=assessment_id,
        question_id=question_id,
        filename=upload.name,
        content_type=upload.content_type,
        size_bytes=len(data),
        sha256=digest,
        storage_key=key,
        uploaded_by=actor.user_id,
        is_active=True,
        valid_until=until,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "evidence_added",
        object_type="evidence",
        object_id=row.id,
        detail={
            "assessment_id": assessment_id,
            "question_key": question_key,
            "filename": upload.name,
            "size_bytes": len(data),
            "sha256": digest,
            **({"valid_until": until.isoformat()} if until else {}),
        },
        now=now,
    )
    return row


def list_evidence(session: Session, actor: Actor, assessment_id: int) -> list[EvidenceItem]:
    """The active evidence files of an assessment the actor may read, oldest first."""
    get_assessment(session, actor, assessment_id)
    stmt = (
        select(
            EvidenceFile.id,
            Question.key.label("question_key"),
            EvidenceFile.filename,
            EvidenceFile.content_type,
            EvidenceFile.size_bytes,
            EvidenceFile.sha256,
            EvidenceFile.uploaded_by,
            EvidenceFile.created_at,
            EvidenceFile.valid_until,
        )
        .outerjoin(Question, Question.id == EvidenceFile.question_id)
        .where(EvidenceFile.assessment_id == assessment_id, EvidenceFile.is_active)
        .order_by(EvidenceFile.id)
    )
    return [EvidenceItem(**r._mapping) for r in session.execute(stmt)]


def _active_file(session: Session, evidence_id: int) -> EvidenceFile:
    row = session.get(EvidenceFile, evidence_id)
    if row is None or not row.is_active:
        raise NotFound("That evidence file does not exist.")
    return row


def evidence_assessment(session: Session, actor: Actor, evidence_id: int) -> int:
    """The assessment of an active file the actor may read."""
    row = _active_file(session, evidence_id)
    return get_assessment(session, actor, row.assessment_id).id


def read_evidence(
    session: Session, actor: Actor, evidence_id: int, *, data_dir: Path
) -> EvidenceDownload:
    """A file the actor may read (download name, content type, bytes), checked against its hash."""
    row = _active_file(session, evidence_id)
    get_assessment(session, actor, row.assessment_id)
    try:
        data = blob_path(data_dir, row.storage_key).read_bytes()
    except FileNotFoundError:
        raise SecureSphereError("The evidence file is missing from storage.") from None
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise SecureSphereError(
            "The evidence file is damaged: its content no longer matches its checksum."
        )
    return EvidenceDownload(download_name(row.filename), row.content_type, data)


def remove_evidence(
    session: Session, actor: Actor, evidence_id: int, *, now: datetime | None = None
) -> None:
    """Withdraw an evidence file from an open assessment (soft delete; the blob stays for the record)."""
    now = now or utcnow()
    row = _active_file(session, evidence_id)
    _writable(session, actor, row.assessment_id)
    row.is_active, row.deleted_at, row.updated_at = False, now, now
    session.flush()
    audit.record(
        session,
        actor,
        "evidence_removed",
        object_type="evidence",
        object_id=row.id,
        detail={"assessment_id": row.assessment_id, "filename": row.filename, "sha256": row.sha256},
        now=now,
    )


def set_valid_until(
    session: Session,
    actor: Actor,
    evidence_id: int,
    valid_until: date | str | None,
    *,
    now: datetime | None = None,
) -> EvidenceFile:
    """Set (or, with None, clear) the day a file of an open assessment is valid until: whoever
    may add and remove its evidence may; audited when it changes."""
    now = now or utcnow()
    row = _active_file(session, evidence_id)
    _writable(session, actor, row.assessment_id)
    until = check_valid_until(valid_until, now.date())
    if until == row.valid_until:
        return row
    before, row.valid_until, row.updated_at = row.valid_until, until, now
    session.flush()
    audit.record(
        session,
        actor,
        "evidence_validity_changed",
        object_type="evidence",
        object_id=row.id,
        detail={
            "assessment_id": row.assessment_id,
            "filename": row.filename,
            "changed": {"valid_until": [d.isoformat() if d else None for d in (before, until)]},
        },
        now=now,
    )
    return row
