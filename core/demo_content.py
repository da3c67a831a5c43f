"""Demo content: plausible answers of a given quality, and the small PDF evidence they carry."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from core import review
from core.access import Actor
from core.banks.answers import is_visible
from core.banks.model import Answer, Bank, Question
from core.banks.question_types import QUESTION_TYPES
from core.evidence import add_evidence
from core.models import utcnow
from core.responses import AnswerInput


def attach_evidence(
    session: Session,
    actor: Actor,
    assessment_id: int,
    bank: Bank,
    answers: dict[str, AnswerInput],
    data_dir: Path,
    *,
    now: datetime | None = None,
) -> int:
    """Upload a small PDF for every answered question that requires evidence; returns how many.
    Most say how long they hold (a year or so from the upload), and some of those have expired."""
    keys = [k for k, a in answers.items() if bank.question(k).evidence_required and not a.is_na]
    rng = random.Random(assessment_id)
    day = (now or utcnow()).date()
    for key in keys:
        draw = rng.random()
        until = None if draw < 0.25 else day + timedelta(days=int(365 * draw))
        add_evidence(
            session,
            actor,
            assessment_id,
            question_key=key,
            filename=f"{key}-evidence.pdf",
            data=sample_pdf(f"Evidence for {key}"),
            data_dir=data_dir,
            valid_until=until,
            now=now,
        )
    return len(keys)


def accept_answers(
    session: Session,
    reviewer: Actor,
    assessment_id: int,
    answers: dict[str, AnswerInput],
    share: float,
    *,
    now: datetime | None = None,
) -> int:
    """The reviewer accepts about ``share`` of the answers (the same draw for the same assessment
    each time); returns how many."""
    rng = random.Random(assessment_id)
    keys = [key for key, answer in answers.items() if not answer.is_na and rng.random() < share]
    for key in keys:
        review.set_review_state(session, reviewer, assessment_id, key, "accepted", now=now)
    return len(keys)


def demo_answers(
    bank: Bank, quality: float, rng: random.Random, *, complete: bool = True
) -> dict[str, AnswerInput]:
    """Plausible answers of a given quality (0-1) for every visible question, in bank order."""
    given: dict[str, Answer] = {}
    result = {}
    questions = bank.questions if complete else bank.questions[: len(bank.questions) // 2]
    for q in questions:
        if not is_visible(q, given, bank):
            continue
        value, is_na = _pick(q, quality, rng)
        given[q.key] = Answer(value, is_na)
        result[q.key] = AnswerInput(value=value, is_na=is_na)
    return result


def _pick(q: Question, quality: float, rng: random.Random) -> tuple[object, bool]:
    if q.allow_na and rng.random() < 0.1:
        return None, True
    return QUESTION_TYPES[q.type].demo(q, quality, rng), False


def sample_pdf(title: str) -> bytes:
    """A tiny valid one-page PDF showing the title, for demo data and browser tests."""
    text = title.encode("ascii", "replace")
    text = text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    # Each xref entry must be exactly 20 bytes, hence the trailing space before "\n".
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
