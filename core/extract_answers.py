"""The answers extract, the one that reaches a million rows, read at Core level.

The statement (core/extract_queries.py) brings each answer's own columns keyed by assessment and
question; the names (organisation, product, questionnaire, section, question text) come from one
read of each assessment and question, and the stored value's label from one reading of each
distinct value per question. Rows stream from the database in batches (yield_per: a server-side
cursor on PostgreSQL), so memory stays flat however many there are.

CSV lines are built from the same parts: each part's cells are written once by the csv module
(formula-safe, as core.exports.csv_bytes writes them) and reused on every line that has them, so
a line costs a few dictionary look-ups and one join.

An answer's provenance (origin, origin_detail: core/mappings/provenance.py) is worked out once per
distinct stored value, N/A flag and origin text; an answer given here has no origin (NULL),
which costs one `is None` per row.

An answer's assurance level (core/assurance.py) comes from its review state and the evidence of
its assessment and question, read once for the whole extract as one row per answer with active
files (its latest "valid until" day): a row costs a comparison and, when there are files, one
dictionary look-up.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.assurance import LEVEL_LABELS, answer_level
from core.banks.model import Question
from core.banks.question_types import QUESTION_TYPES
from core.banks.store import load_bank
from core.exports import safe_cell
from core.extract_queries import answer_assessments, answer_questions
from core.filters import Filters, scope
from core.mappings.provenance import describe, state_of
from core.models import Assessment, EvidenceFile, utcnow

BATCH = 5_000  # rows fetched from the database at a time
VALUES_KEPT = 100_000  # distinct (question, value) pairs remembered; free text can be endless
ORIGINS_KEPT = 10_000  # distinct origins remembered: a kilobyte of JSON each, mostly one answer's
Cells = tuple[object, ...]
NO_ORIGIN: Cells = (None, None)  # origin, origin_detail of an answer given here
ACCEPTED, SELF_ATTESTED = LEVEL_LABELS["accepted"], LEVEL_LABELS["self_attested"]


class Memo(dict[Hashable, Any]):
    """A dict that computes a missing key's value once (make(key)) and keeps it; with a limit,
    it starts again empty when that many are kept."""

    def __init__(self, make: Callable[[Any], Any], limit: int | None = None) -> None:
        super().__init__()
        self.make, self.limit = make, limit

    def __missing__(self, key: Hashable) -> Any:
        if self.limit is not None and len(self) >= self.limit:
            self.clear()
        value = self[key] = self.make(key)
        return value


def cells_text(cells: Cells) -> str:
    """The cells as csv writes them on a line, formula-safe, each followed by a comma. The
    writer ends its line with CRLF, as core.exports.csv_bytes does, then that is cut off: csv
    quotes a cell holding a line break only when the break is in the line terminator."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([*map(safe_cell, cells), ""])
    return buffer.getvalue()[:-2]


def origin_cells(key: tuple[str | None, object, str]) -> Cells:
    """An answer's origin and origin_detail cells from its stored value (JSON text), N/A flag and
    origin (JSON text): the provenance state and the sentence saying where it came from."""
    stored, na, text = key
    origin = json.loads(text)
    value = None if stored is None else json.loads(stored)
    return state_of(value, bool(na), origin) or None, describe(origin) or None


def shown_score(score: float | None) -> float | None:
    """An answer's 0-1 score as the Scores page shows it: 0-100, one decimal."""
    return None if score is None else round(float(score) * 100, 1)


class AnswerParts:
    """Every part of an answers row but the answer's own columns, each read or worked out once:
    the assessment's cells by id, the question's by id, a stored value with its label by
    (question id, JSON text), a score as shown, an origin's cells by (value, N/A, origin), and
    the assurance level (in words) an answer's evidence gives it, by (assessment id, question
    id), for the answers that have evidence."""

    def __init__(self, session: Session, actor: Actor, filters: Filters, seen: str) -> None:
        self.session = session
        self.assessments: dict[int, Cells] = {
            row[0]: tuple(row)
            for row in session.execute(scope(answer_assessments(), actor, filters, seen))
        }
        self.questions: dict[int, Cells] = {}
        self.asked: dict[int, tuple[int, str]] = {}  # question id: questionnaire id, key
        for qid, section, key, text, questionnaire_id in session.execute(answer_questions()):
            self.questions[qid] = (section, key, text)
            self.asked[qid] = (questionnaire_id, key)
        self.banks: dict[int, dict[str, Question]] = {}
        self.values = Memo(self._value, VALUES_KEPT)
        self.scores = Memo(shown_score, VALUES_KEPT)
        self.origins = Memo(origin_cells, ORIGINS_KEPT)
        self.evidence = evidence_levels(session, actor, filters, seen)

    def _value(self, key: tuple[int, str | None]) -> Cells:
        qid, stored = key
        value = None if stored is None else json.loads(stored)
        return value, self._label(qid, value)

    def _label(self, qid: int, value: object) -> str | None:
        """The label people read beside a stored value, as its question type describes it."""
        questionnaire_id, key = self.asked[qid]
        if questionnaire_id not in self.banks:
            bank = load_bank(self.session, questionnaire_id)
            self.banks[questionnaire_id] = {q.key: q for q in bank.questions}
        question = self.banks[questionnaire_id].get(key)
        if question is None or value is None:
            return None
        return QUESTION_TYPES[question.type].describe(question, value)


def evidence_levels(
    session: Session, actor: Actor, filters: Filters, seen: str
) -> dict[tuple[int, int], str]:
    """The level (in words) their evidence gives the answers with active files, by (assessment
    id, question id), within the extract's scope: in date while a file is valid until today or
    later, else with evidence."""
    today = utcnow().date()
    stmt = (
        select(
            EvidenceFile.assessment_id,
            EvidenceFile.question_id,
            func.max(EvidenceFile.valid_until),  # a file without a day counts as none (NULL)
        )
        .join(Assessment, Assessment.id == EvidenceFile.assessment_id)
        .where(EvidenceFile.is_active, EvidenceFile.question_id.is_not(None))
        .group_by(EvidenceFile.assessment_id, EvidenceFile.question_id)
    )
    levels: dict[tuple[int, int], str] = {}
    for aid, qid, until in session.execute(scope(stmt, actor, filters, seen)):
        if qid is not None:  # filtered above; the type does not know
            levels[aid, qid] = LEVEL_LABELS[answer_level(False, [until], today)]
    return levels


def level_words(state: str, by_evidence: str | None) -> str:
    """An answer's assurance level in words, from its review state and the level its evidence
    gives it (None without files)."""
    return ACCEPTED if state == "accepted" else by_evidence or SELF_ATTESTED


def row_batches(session: Session, statement: Select[Any]) -> Iterator[Sequence[Any]]:
    """The statement's rows as the driver gives them, BATCH at a time."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":  # a server-side cursor: PostgreSQL sends batches
        yield from connection.execute(statement.execution_options(yield_per=BATCH)).partitions()
        return
    # sqlite3 steps through the rows only as they are fetched; reading its tuples directly
    # skips the Row object SQLAlchemy builds for each, a third of the time per answer.
    result = connection.execute(statement)
    try:
        while rows := result.cursor.fetchmany(BATCH):
            yield rows
    finally:
        result.close()


def answer_values(session: Session, parts: AnswerParts, statement: Select[Any]) -> Iterator[Cells]:
    """Each answers row as its cells in extract column order."""
    a, q, v, scores = parts.assessments, parts.questions, parts.values, parts.scores
    o, ev = parts.origins, parts.evidence
    for batch in row_batches(session, statement):
        for aid, qid, stored, na, score, state, answered, origin in batch:
            yield (
                a[aid]
                + q[qid]
                + v[qid, stored]
                + (
                    bool(na),
                    scores[score],
                    state,
                    level_words(state, ev.get((aid, qid)) if ev else None),
                )
                + (answered,)
                + (NO_ORIGIN if origin is None else o[stored, na, origin])
            )


def answer_lines(session: Session, parts: AnswerParts, statement: Select[Any]) -> Iterator[str]:
    """The answers rows as CSV text, one batch of lines at a time. The answered_at cell is the
    database's ISO 8601 text, which needs no quoting and cannot start a formula; the origin
    cells follow it, each with its leading comma."""
    a = Memo(lambda k: cells_text(parts.assessments[k]))
    q = Memo(lambda k: cells_text(parts.questions[k]))
    v = Memo(lambda k: cells_text(parts.values[k]), VALUES_KEPT)
    # is_na comes from SQLite as 0/1; 0 == False and 1 == True share their entry
    # the last part of the key is the level the answer's evidence gives it (None: no files)
    rest = Memo(
        lambda k: cells_text((bool(k[0]), parts.scores[k[1]], k[2], level_words(k[2], k[3]))),
        VALUES_KEPT,
    )
    ev = parts.evidence
    o = Memo(lambda k: "," + cells_text(origin_cells(k))[:-1], ORIGINS_KEPT)
    none = "," + cells_text(NO_ORIGIN)[:-1]  # ",,"
    for batch in row_batches(session, statement):
        yield "".join(
            [
                f"{a[aid]}{q[qid]}{v[qid, stored]}"
                f"{rest[na, score, state, ev.get((aid, qid)) if ev else None]}{answered or ''}"
                f"{none if origin is None else o[stored, na, origin]}\r\n"
                for aid, qid, stored, na, score, state, answered, origin in batch
            ]
        )
