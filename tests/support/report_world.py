"""One database for the report tests: an assessment in every status of one client, a second
organisation that must never show, reviewers' shared comments and an internal note, evidence,
and an approved assessment whose score moved between two snapshots."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from core import db, review
from core.comments import MAX_COMMENT, add_comment
from core.responses import AnswerInput
from tests.factories import World

NOW = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)
INTERNAL = "Internal only: the CISO doubts the pen test scope"
SHARED = "Please attach the signed policy; the draft does not count as evidence."
DECISION_NOTE = "Approved for one year. Thank you for the thorough evidence."
REJECTION_NOTE = "Rejected: the encryption answers are not backed by evidence."
OTHER_ORG = "Zebra Holdings"
LONG_TALK = 12


def _improved(
    world: World, answers: dict[str, AnswerInput], how_many: int
) -> dict[str, AnswerInput]:
    """`how_many` answered "no" or "partial" (that nothing depends on) now answered "yes"."""
    referenced = {q.condition.question for q in world.bank.questions if q.condition}
    weak = [k for k, a in answers.items() if a.value in ("no", "partial") and k not in referenced][
        :how_many
    ]
    return {k: AnswerInput(value="yes", justification=f"Fixed in release 4.2 ({k}).") for k in weak}


def build(tmp: Path, template: Path) -> World:
    """The database, built through core as the pages build it."""
    path = tmp / "reports.db"
    shutil.copyfile(template, path)
    w = World(f"sqlite:///{path}", tmp / "data")
    acme, zebra = w.org("Acme Ltd"), w.org(OTHER_ORG)
    w.name(
        client=w.person("client", acme, "carla.client"),
        rival=w.person("client", zebra, "zed.client"),
        reviewer=w.person("lead_reviewer", None, "lee.reviewer"),
        admin=w.person("admin", None, "ada.admin"),
        manager=w.person("security_manager", None, "sam.manager"),
    )
    client, reviewer = w["client"], w["reviewer"]
    ids: dict[str, int] = {}
    ids["not_started"] = w.start(client, w.product(client, "Fresh Product"))
    ids["in_progress"] = w.start(client, w.product(client, "Half Done"))
    w.answer(client, ids["in_progress"], w.demo_answers(first=5))
    ids["submitted"] = w.submit(client, w.answered(client, w.product(client, "Waiting Room")))
    ids["under_review"] = w.submit(client, w.answered(client, w.product(client, "In Review")))
    with db.transaction(w.url) as s:
        review.claim(s, reviewer, ids["under_review"])
    sent = w.submit(client, w.answered(client, w.product(client, "Sent Back")))
    answers = w.demo_answers(0.7, 7)
    w.send_back(reviewer, sent, w.weak_key({k: a.value for k, a in answers.items()}), SHARED)
    ids["changes_requested"] = sent
    rejected = w.submit(client, w.answered(client, w.product(client, "Turned Down"), 0.3, 5))
    with db.transaction(w.url) as s:
        review.claim(s, reviewer, rejected)
        review.decide(s, reviewer, rejected, "rejected", note=REJECTION_NOTE)
    ids["rejected"] = rejected
    ids["approved"] = _approved(w)
    w.name(ids=ids, rival_assessment=w.answered(w["rival"], w.product(w["rival"], "Zebra App")))
    w.name(long_talk=_long_talk(w))
    return w


def long_comment(n: int) -> str:
    """A comment of the longest length allowed, with an unbroken 400-character run in it."""
    words = f"Comment {n}: the retention schedule needs another look. " * 60
    return (f"{words[:2000]} https://example.org/{'x' * 380} {words}")[:MAX_COMMENT]


def _long_talk(w: World) -> int:
    """A submitted assessment with LONG_TALK comments of the longest length, shared."""
    aid = w.submit(w["client"], w.answered(w["client"], w.product(w["client"], "Long Talk")))
    with db.transaction(w.url) as s:
        for n in range(LONG_TALK):
            add_comment(s, w["reviewer"], aid, long_comment(n))
    return aid


def _approved(w: World) -> int:
    """Submitted, sent back with a flagged answer, improved and resubmitted, then approved, with
    shared comments (one of them long), a client reply and an internal note along the way."""
    client, reviewer = w["client"], w["reviewer"]
    aid = w.answered(client, w.product(client, "Web Shop"), 0.6, 11)
    w.submit(client, aid)
    answers = w.demo_answers(0.6, 11)
    weak = w.weak_key({k: a.value for k, a in answers.items()})
    w.send_back(reviewer, aid, weak, SHARED)
    w.answer(client, aid, _improved(w, answers, 6))
    w.submit(client, aid)
    with db.transaction(w.url) as s:
        add_comment(s, reviewer, aid, INTERNAL, visibility="internal")
        parent = add_comment(s, reviewer, aid, "Looks complete now. " * 40)
        add_comment(s, client, aid, "Thank you, we added the signed copy.", parent_id=parent.id)
        review.claim(s, reviewer, aid)
        review.decide(s, reviewer, aid, "approved", note=DECISION_NOTE)
    return aid
