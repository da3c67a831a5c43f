"""One user action loads what it needs once: SQL statements counted per action on both engines."""

from __future__ import annotations

import random
from contextlib import contextmanager

from sqlalchemy import event, select

from core import assessments, db, responses, submission
from core.banks.store import load_bank
from core.demo_content import attach_evidence, demo_answers
from core.models import Questionnaire
from tests.factories import baseline_id, make_actor, make_org, make_product

# The read model (core/read_model.py) adds 3 to a save (the failed critical count and the status
# roll-up's two statements) and 12 to a submit (the snapshot's columns and section scores, the
# benchmark units, and three roll-ups of two statements each); PostgreSQL one more to lock the
# organisation's rows.
SECTION_SAVE_MAX = 8 + 4
SUBMIT_MAX = 20 + 13


@contextmanager
def counting(url: str):
    """The SQL statements the engine for this URL runs inside the block (BEGIN included)."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.get_engine(url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _start(url: str, questionnaire_id: int) -> tuple:
    client = make_actor(url, "client", make_org(url))
    product = make_product(url, client)
    with db.transaction(url) as s:
        aid = assessments.start_assessment(
            s, client, product_id=product, questionnaire_id=questionnaire_id
        ).id
    return client, aid


def _csf(url: str):
    """The NIST CSF bank, and 20 answers to its second section (21 questions)."""
    with db.reading(url) as s:
        qid = s.scalar(select(Questionnaire.id).where(Questionnaire.key == "nist-csf-2.0"))
        bank = load_bank(s, qid)
    section = bank.sections[1]
    answers = demo_answers(bank, 0.6, random.Random(3))
    chosen = {q.key: answers[q.key] for q in section.questions if q.key in answers}
    return qid, section.key, dict(list(chosen.items())[:20])


def _report(statements: list[str]) -> str:
    return f"{len(statements)} statements:\n" + "\n".join(
        s.split("\n")[0][:120] for s in statements
    )


def test_saving_a_section_runs_few_statements_the_first_time_and_later(db_url):
    qid, section, answers = _csf(db_url)
    assert len(answers) == 20
    client, aid = _start(db_url, qid)
    with counting(db_url) as first, db.transaction(db_url) as s:
        assert responses.save_section(s, client, aid, section, answers) == 20
    assert len(first) <= SECTION_SAVE_MAX, _report(first)
    changed = {
        k: responses.AnswerInput(value=a.value, is_na=a.is_na, justification="Checked.")
        for k, a in answers.items()
    }
    with counting(db_url) as later, db.transaction(db_url) as s:
        assert responses.save_section(s, client, aid, section, changed) == 20
    assert len(later) <= SECTION_SAVE_MAX, _report(later)


def test_submitting_runs_few_statements(db_url, tmp_path):
    qid = baseline_id(db_url)
    client, aid = _start(db_url, qid)
    with db.transaction(db_url) as s:
        bank = load_bank(s, qid)
        answers = demo_answers(bank, 0.7, random.Random(1))
        responses.save_answers(s, client, aid, answers)
        attach_evidence(s, client, aid, bank, answers, tmp_path)
    with counting(db_url) as statements, db.transaction(db_url) as s:
        submission.submit(s, client, aid)
    assert len(statements) <= SUBMIT_MAX, _report(statements)
