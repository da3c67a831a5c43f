"""Events that come from the clock, written by the worker before each batch: due-date reminders
(``reminder_days`` before, and overdue the day after, once per assessment, due date and person),
evidence expiry reminders (``reminder_days`` before a file's "valid until" day, and expired the
day after, once per file, day and person, to the clients of its organisation) and the daily
digests (at ``digest_hour`` UTC, one row per person who has something in it)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import SYSTEM
from core.labels import format_datetime
from core.mail_messages import describe
from core.models import (
    Assessment,
    EvidenceFile,
    Organization,
    Outbox,
    Product,
    Question,
    User,
    utcnow,
)
from core.notify_events import clients_of
from core.outbox import enqueue
from core.settings import get_settings
from core.workflow import EDITABLE

MAX_DIGEST_ITEMS = 200
# An expired notice not written within this many days of the expiry (the worker was stopped) is
# not written late: the reminders scan only files that expired this recently.
EXPIRED_NOTICE_DAYS = 7
EVIDENCE_KINDS = {"due_soon": "evidence_expiring", "overdue": "evidence_expired"}


def reminder_kind(due: date, today: date, days: int) -> str | None:
    """Which reminder an assessment due on ``due`` is owed today: "overdue", "due_soon" or none."""
    if today > due:
        return "overdue"
    if days and today >= due - timedelta(days=days):
        return "due_soon"
    return None


def enqueue_reminders(session: Session, *, now: datetime | None = None) -> int:
    """Write the due-date and evidence expiry reminders owed today that were not written before;
    returns how many rows were added."""
    now = now or utcnow()
    return _due_reminders(session, now) + enqueue_evidence_reminders(session, now=now)


def _written(session: Session, keys: list[str]) -> set[str]:
    """The dedupe keys among these that an earlier row already has."""
    return set(session.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(keys))))


def _due_reminders(session: Session, now: datetime) -> int:
    today = now.date()
    days = int(get_settings(session)["reminder_days"])
    rows = session.execute(
        select(Assessment, Product.name, Organization.name)
        .join(Product, Product.id == Assessment.product_id)
        .join(Organization, Organization.id == Assessment.organization_id)
        .where(
            Assessment.is_active,
            Assessment.status.in_(EDITABLE),
            Assessment.due_date.is_not(None),
            Assessment.due_date <= today + timedelta(days=days),
        )
    )
    wanted: list[tuple[str, str, Assessment, User, str, str]] = []
    for assessment, product, organization in rows:
        assert assessment.due_date is not None  # filtered above
        kind = reminder_kind(assessment.due_date, today, days)
        if kind is None:
            continue
        for user in clients_of(session, assessment.organization_id):
            key = f"{kind}:{assessment.id}:{assessment.due_date.isoformat()}:{user.id}"
            wanted.append((key, kind, assessment, user, product, organization))
    done = _written(session, [w[0] for w in wanted])
    for key, kind, assessment, user, product, organization in wanted:
        if key in done:
            continue
        assert assessment.due_date is not None
        enqueue(
            session,
            kind=kind,
            recipient=user,
            data={
                "assessment_id": assessment.id,
                "product": product,
                "organization": organization,
                "round": assessment.round,
                "actor": SYSTEM.username,
                "due_date": assessment.due_date.isoformat(),
                "link": f"questionnaire?assessment={assessment.id}",
            },
            organization_id=assessment.organization_id,
            assessment_id=assessment.id,
            dedupe_key=key,
            now=now,
        )
    return len(wanted) - len(done)


def enqueue_evidence_reminders(session: Session, *, now: datetime | None = None) -> int:
    """Write the expiring and expired notices owed today for active evidence files with a
    "valid until" day on active assessments, to the client users of the assessment's
    organisation, each once per file, day and person; returns how many rows were added."""
    now = now or utcnow()
    today = now.date()
    days = int(get_settings(session)["reminder_days"])
    files = session.execute(
        select(
            EvidenceFile.id,
            EvidenceFile.filename,
            EvidenceFile.valid_until,
            Question.text,
            Assessment.id,
            Assessment.organization_id,
            Assessment.round,
            Product.name,
            Organization.name,
        )
        .join(Assessment, Assessment.id == EvidenceFile.assessment_id)
        .join(Product, Product.id == Assessment.product_id)
        .join(Organization, Organization.id == Assessment.organization_id)
        .outerjoin(Question, Question.id == EvidenceFile.question_id)
        .where(
            EvidenceFile.is_active,
            Assessment.is_active,
            EvidenceFile.valid_until.is_not(None),
            EvidenceFile.valid_until <= today + timedelta(days=days),
            EvidenceFile.valid_until >= today - timedelta(days=EXPIRED_NOTICE_DAYS),
        )
        .order_by(EvidenceFile.id)
    ).all()
    clients: dict[int, list[User]] = {}
    wanted: list[tuple[str, str, User, dict[str, object], int, int]] = []
    for fid, filename, until, question, aid, org_id, round_, product, organization in files:
        assert until is not None  # filtered above
        due = reminder_kind(until, today, days)
        if due is None:
            continue
        kind = EVIDENCE_KINDS[due]
        data = {
            "assessment_id": aid,
            "product": product,
            "organization": organization,
            "round": round_,
            "actor": SYSTEM.username,
            "filename": filename,
            "question": question or "",
            "valid_until": until.isoformat(),
            "link": f"questionnaire?assessment={aid}",
        }
        if org_id not in clients:
            clients[org_id] = clients_of(session, org_id)
        for user in clients[org_id]:
            key = f"{kind}:{fid}:{until.isoformat()}:{user.id}"
            wanted.append((key, kind, user, data, org_id, aid))
    done = _written(session, [w[0] for w in wanted])
    for key, kind, user, data, org_id, aid in wanted:
        if key not in done:
            enqueue(
                session,
                kind=kind,
                recipient=user,
                data=data,
                organization_id=org_id,
                assessment_id=aid,
                dedupe_key=key,
                now=now,
            )
    return len(wanted) - len(done)


def digest_cutoff(now: datetime, hour: int) -> datetime:
    """The latest digest time at or before now: today at ``hour`` UTC, or yesterday's."""
    today = datetime.combine(now.date(), time(hour), tzinfo=now.tzinfo)
    return today if now >= today else today - timedelta(days=1)


def compile_digests(session: Session, *, now: datetime | None = None) -> int:
    """Gather each person's rows that wait for a digest and were written before the latest digest
    time into one queued ``digest`` row; returns how many digests were written (none for
    someone with nothing waiting)."""
    now = now or utcnow()
    cutoff = digest_cutoff(now, int(get_settings(session)["digest_hour"]))
    waiting = session.scalars(
        select(Outbox)
        .where(Outbox.status == "digest", Outbox.created_at < cutoff)
        .order_by(Outbox.recipient_id, Outbox.created_at, Outbox.id)
    ).all()
    by_person: dict[int, list[Outbox]] = defaultdict(list)
    for row in waiting:
        if row.recipient_id is not None:
            by_person[row.recipient_id].append(row)
    for user_id, rows in by_person.items():
        user = session.get(User, user_id)
        if user is None:
            continue
        items = [_item(r) for r in rows[-MAX_DIGEST_ITEMS:]]
        digest = enqueue(session, kind="digest", recipient=user, data={"items": items}, now=now)
        session.flush()
        for row in rows:
            row.status, row.digest_id, row.updated_at = "digested", digest.id, now
    return len(by_person)


def _item(row: Outbox) -> dict[str, str]:
    rendered = describe(row.kind, row.data)
    return {
        "time": format_datetime(row.created_at),
        "title": rendered.subject,
        "link": rendered.link,
    }
