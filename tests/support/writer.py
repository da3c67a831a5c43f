"""A child process that saves answers through core, for the durability tests.

    python tests/support/writer.py URL USER_ID ORG_ID TAG [--count N] [--batch K]

Each iteration saves K answers (default 1) in one transaction and, only after that transaction has
committed, prints one line ``assessment_id question_key value`` per answer (line-buffered), so a
parent that reads a line knows that answer is durable. New products and assessments are created as questions run out,
so every printed answer is a distinct (assessment, question) that nothing overwrites later.
Without --count it loops until killed; with it, it stops after N answers and prints one final
JSON line: {"saved": N, "failed": F, "errors": {"message": count, ...}}. A failed save is counted, not retried:
an error here is an error a user would have seen.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select

from core import assessments, db, responses
from core.access import Actor
from core.banks.store import load_bank
from core.models import Questionnaire
from core.products import create_product
from core.responses import AnswerInput

BASELINE = "securesphere-baseline"


def answerable(url: str) -> tuple[int, list[tuple[str, tuple[str, ...]]]]:
    """The baseline's id and its unconditional choice questions that no other question depends on."""
    with db.reading(url) as s:
        bank_id = s.scalar(select(Questionnaire.id).where(Questionnaire.key == BASELINE))
        bank = load_bank(s, bank_id)
    referenced = {q.condition.question for q in bank.questions if q.condition}
    return bank_id, [
        (q.key, tuple(o.key for o in q.options))
        for q in bank.questions
        if q.type in ("yes_no", "yes_no_partial") and not q.condition and q.key not in referenced
    ]


def new_assessment(url: str, actor: Actor, bank_id: int, name: str) -> int:
    """A fresh product with a fresh assessment, so every answer saved to it is new."""
    with db.transaction(url) as s:
        product = create_product(s, actor, organization_id=actor.organization_id, name=name)
        return assessments.start_assessment(
            s, actor, product_id=product.id, questionnaire_id=bank_id
        ).id


def save_batch(url: str, actor: Actor, assessment_id: int, answers: dict[str, str]) -> None:
    """Some answers, one transaction (a section save); returns only once it has committed."""
    with db.transaction(url) as s:
        responses.save_answers(
            s,
            actor,
            assessment_id,
            {key: AnswerInput(value=value) for key, value in answers.items()},
        )


def _batches(questions, n: int, size: int):
    for start in range(0, len(questions), size):
        chunk = questions[start : start + size]
        yield {
            key: options[(n + start + i) % len(options)] for i, (key, options) in enumerate(chunk)
        }


def _kind(exc: Exception, started: float) -> str:
    """The error's kind for the summary; its statement and wait go to stderr for diagnosis."""
    statement = (getattr(exc, "statement", None) or "").split("\n")[0][:80]
    print(
        f"{type(exc).__name__} after {time.monotonic() - started:.1f} s at {statement!r}: "
        f"{str(exc).splitlines()[0][:200]}",
        file=sys.stderr,
        flush=True,
    )
    # SQLAlchemy may wrap the driver's message ("raised as a result of Query-invoked autoflush").
    return (
        "database is locked" if "database is locked" in str(exc) else str(exc).splitlines()[0][:120]
    )


def run(url: str, actor: Actor, tag: str, count: int | None, batch: int) -> dict:
    """Save answers until killed or `count` were attempted; returns the summary."""
    bank_id, questions = answerable(url)
    saved, failed, errors, n = 0, 0, Counter(), 0
    while count is None or saved + failed < count:
        n += 1
        started = time.monotonic()
        try:
            assessment_id = new_assessment(url, actor, bank_id, f"{tag}-{n}")
        except Exception as exc:  # counted like any other failure a user would see
            errors[_kind(exc, started)] += 1
            continue
        for answers in _batches(questions, n, batch):
            if count is not None:
                answers = dict(list(answers.items())[: count - saved - failed])
            if not answers:
                break
            started = time.monotonic()
            try:
                save_batch(url, actor, assessment_id, answers)
            except Exception as exc:
                errors[_kind(exc, started)] += 1
                failed += len(answers)
                continue
            print("\n".join(f"{assessment_id} {k} {v}" for k, v in answers.items()), flush=True)
            saved += len(answers)
    return {"saved": saved, "failed": failed, "errors": dict(errors)}


def main() -> None:
    """Parse the arguments, write, print the summary."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("user_id", type=int)
    parser.add_argument("org_id", type=int)
    parser.add_argument("tag")
    parser.add_argument("--count", type=int)
    parser.add_argument("--batch", type=int, default=1, help="answers per transaction")
    args = parser.parse_args()
    actor = Actor(args.user_id, f"writer-{args.tag}", "client", args.org_id)
    summary = run(args.url, actor, args.tag, args.count, args.batch)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
