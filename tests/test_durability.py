"""SQLite durability: answers acknowledged before a SIGKILL survive it; concurrent writers never fail.

Both tests drive tests/support/writer.py in child processes, which saves answers through core and
prints each one only after its transaction has committed.
"""

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from core import audit_chain, db
from core.models import AuditLog, Question, QuestionnaireResponse
from tests.factories import make_actor, make_org

ROOT = Path(__file__).resolve().parent.parent
WRITER = ROOT / "tests" / "support" / "writer.py"
KILLS = 10
CRASH_BUDGET_S = 30
PROCESSES = 8
ANSWERS = 3000
BATCH = 5  # answers per transaction, as a questionnaire section is saved


def _spawn(url: str, client, tag: str, *extra: str, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            str(WRITER),
            url,
            str(client.user_id),
            str(client.organization_id),
            tag,
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        cwd=ROOT,
    )


def _parse(lines) -> list[tuple[int, str, str]]:
    # A line cut short by the kill has no newline: it was never fully reported, so it proves nothing.
    return [(int(a), k, v) for a, k, v in (line.split() for line in lines if line.endswith("\n"))]


def _stored(url: str) -> dict[tuple[int, str], object]:
    with db.reading(url) as s:
        rows = s.execute(
            select(
                QuestionnaireResponse.assessment_id, Question.key, QuestionnaireResponse.value
            ).join(Question, Question.id == QuestionnaireResponse.question_id)
        )
        return {(a, k): v for a, k, v in rows}


def _audited(url: str) -> set[tuple[int, str]]:
    with db.reading(url) as s:
        rows = s.execute(
            select(AuditLog.object_id, AuditLog.detail).where(AuditLog.action == "answers_saved")
        )
        return {(int(oid), key) for oid, detail in rows for key in detail["questions"]}


def _integrity(url: str) -> list[str]:
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return [row[0] for row in connection.execute("PRAGMA integrity_check")]
    finally:
        connection.close()


def _kill_once(url: str, client, tag: str, rng: random.Random) -> list[tuple[int, str, str]]:
    """Start a writer, SIGKILL it at a random moment while it writes; the answers it reported."""
    child = _spawn(url, client, tag)
    # Read a random number of acknowledgements, then kill at once or a few ms later: right after
    # an acknowledgement is where a writer that reports before committing would lose it.
    lines = [child.stdout.readline() for _ in range(rng.randint(1, 40))]
    time.sleep(rng.choice((0, rng.uniform(0, 0.03))))
    child.send_signal(signal.SIGKILL)
    lines += child.stdout.readlines()
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the writer ended before it was killed"
    return _parse(lines)


def test_answers_reported_as_committed_survive_sigkill(sqlite_url):
    client = make_actor(sqlite_url, "client", make_org(sqlite_url))
    db.dispose_all()  # the children own the file from here on
    rng, reported, kills = random.Random(), [], 0
    started = time.monotonic()
    while kills < KILLS and time.monotonic() - started < CRASH_BUDGET_S:
        reported += _kill_once(sqlite_url, client, f"crash{kills}", rng)
        kills += 1
    assert kills == KILLS, f"only {kills} kills fitted in {CRASH_BUDGET_S} s"
    assert _integrity(sqlite_url) == ["ok"]
    stored = _stored(sqlite_url)
    lost = [(a, k, v) for a, k, v in reported if stored.get((a, k)) != v]
    assert reported and lost == [], f"{len(lost)} of {len(reported)} acknowledged answers lost"
    # Each save is all or nothing: every stored answer has its audit row, and the chain is whole.
    assert set(stored) == _audited(sqlite_url)
    with db.reading(sqlite_url) as s:
        assert audit_chain.find_problem(s) is None
    print(
        f"{kills} kills, {len(reported)} acknowledged answers verified, "
        f"{time.monotonic() - started:.1f} s"
    )


def test_eight_processes_write_concurrently_without_lock_errors(sqlite_url):
    client = make_actor(sqlite_url, "client", make_org(sqlite_url))
    db.dispose_all()
    share = ANSWERS // PROCESSES
    started = time.monotonic()
    children = [
        _spawn(
            sqlite_url,
            client,
            f"w{i}",
            "--count",
            str(share),
            "--batch",
            str(BATCH),
            stderr=subprocess.PIPE,
        )
        for i in range(PROCESSES)
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    elapsed = time.monotonic() - started
    assert all(child.returncode == 0 for child in children), [err[-500:] for _, err in outputs]
    summaries = [json.loads(out.splitlines()[-1]) for out, _ in outputs]
    errors = {}
    for summary in summaries:
        for message, count in summary["errors"].items():
            errors[message] = errors.get(message, 0) + count
    locked = errors.get("database is locked", 0)
    diagnosis = [line for _, err in outputs for line in err.splitlines()][:5]
    assert errors == {}, (
        f"{locked} 'database is locked' failures; all errors: {errors}; {diagnosis}"
    )
    reported = [row for out, _ in outputs for row in _parse(out.splitlines(keepends=True)[:-1])]
    assert len(reported) == ANSWERS == sum(s["saved"] for s in summaries)
    stored = _stored(sqlite_url)
    assert all(stored.get((a, k)) == v for a, k, v in reported)
    assert _integrity(sqlite_url) == ["ok"]
    print(
        f"{ANSWERS} answers from {PROCESSES} processes in {elapsed:.1f} s "
        f"({ANSWERS / elapsed:.0f} answers/s), locked errors: {locked}"
    )
