"""The audit trail: tampering is named, retention keeps the chain provable, the admin listing."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text, update

from core import audit, audit_chain, audit_checkpoint, audit_trail, db
from core.access import SYSTEM, Actor
from core.errors import AccessDenied, ValidationError
from core.models import AuditLog

KEY = b"k" * 48
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _fresh_trail(
    url: str, count: int = 6, *, start: datetime = NOW, step=timedelta(days=1)
) -> list[int]:
    """Replace the trail with `count` rows, one per `step` from `start`; returns their ids."""
    with db.transaction(url) as s:
        s.execute(delete(AuditLog))  # an empty trail is a valid chain; we build our own
        return [
            audit.record(
                s,
                SYSTEM,
                f"action_{i % 3}",
                object_type="thing",
                object_id=i,
                detail={"n": i},
                now=start + step * i,
            ).id
            for i in range(count)
        ]


def _problem(url: str, key: bytes | None = None):
    with db.reading(url) as s:
        return audit_chain.find_problem(s, key)


def _row(url: str, row_id: int) -> AuditLog:
    with db.reading(url) as s:
        return s.get(AuditLog, row_id)


def test_an_untouched_trail_verifies(db_url):
    _fresh_trail(db_url)
    assert _problem(db_url) is None
    with db.reading(db_url) as s:
        assert audit_chain.verify_chain(s) is None and audit_chain.verify_chain(s, KEY) is None


def test_a_changed_row_is_named(db_url):
    ids = _fresh_trail(db_url)
    with db.transaction(db_url) as s:
        s.execute(update(AuditLog).where(AuditLog.id == ids[2]).values(detail={"n": 99}))
    problem = _problem(db_url)
    assert problem.row_id == ids[2] and "changed" in problem.reason
    assert str(problem).startswith(f"audit row {ids[2]}:")


def test_a_deleted_row_shows_as_a_broken_link_at_the_next_row(db_url):
    ids = _fresh_trail(db_url)
    with db.transaction(db_url) as s:
        s.execute(delete(AuditLog).where(AuditLog.id == ids[3]))
    problem = _problem(db_url)
    assert problem.row_id == ids[4]
    assert "deleted" in problem.reason and f"row {ids[2]}" in problem.reason


def test_a_malformed_inserted_row_is_named(db_url):
    ids = _fresh_trail(db_url)
    with db.transaction(db_url) as s:
        s.add(
            AuditLog(
                id=ids[-1] + 5,
                created_at=NOW,
                updated_at=NOW,
                action="forged",
                prev_hash=audit.GENESIS,
                hash="f" * 64,
                detail={},
            )
        )
    assert _problem(db_url).row_id == ids[-1] + 5


def test_a_well_formed_row_inserted_between_two_others_is_named(db_url):
    ids = _fresh_trail(db_url)
    with db.transaction(db_url) as s:
        # Ids are not hashed: spreading them out leaves a valid chain with room to slip a row in.
        s.execute(text("UPDATE audit_log SET id = id + 1000000"))
        s.execute(text("UPDATE audit_log SET id = (id - 1000000) * 10"))
    assert _problem(db_url) is None
    before = _row(db_url, ids[2] * 10)
    fields = dict(
        actor_id=None,
        actor_role="admin",
        session_id="",
        action="approved_quietly",
        object_type="assessment",
        object_id="7",
        detail={},
    )
    with db.transaction(db_url) as s:
        s.add(
            AuditLog(
                id=ids[2] * 10 + 5,
                created_at=NOW,
                updated_at=NOW,
                prev_hash=before.hash,
                hash=audit.row_hash(before.hash, NOW, **fields),
                **fields,
            )
        )
    problem = _problem(db_url)
    assert problem.row_id == ids[2] * 10 + 5 and "inserted" in problem.reason


def test_checkpoint_purge_keeps_the_chain_verifiable(db_url):
    old = NOW - timedelta(days=400)
    ids = _fresh_trail(db_url, 8, start=old, step=timedelta(days=30))  # 400 .. 190 days ago
    with db.transaction(db_url) as s:
        deleted = audit_checkpoint.checkpoint_and_purge(
            s, before=NOW - timedelta(days=300), key=KEY, now=NOW
        )
    assert deleted == 4  # rows 400, 370, 340, 310 days old
    with db.reading(db_url) as s:
        first = s.scalar(select(AuditLog).order_by(AuditLog.id).limit(1))
        checkpoint = s.scalar(select(AuditLog).where(AuditLog.action == audit.CHECKPOINT))
    assert first.id == ids[4] and checkpoint.detail["last_deleted_id"] == ids[3]
    assert checkpoint.detail["last_deleted_hash"] == first.prev_hash
    assert _problem(db_url) is None and _problem(db_url, KEY) is None
    # A second purge takes the first checkpoint with it and leaves one that still vouches.
    with db.transaction(db_url) as s:
        assert (
            audit_checkpoint.checkpoint_and_purge(
                s, before=NOW + timedelta(days=1), key=KEY, now=NOW + timedelta(days=2)
            )
            == 5
        )
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 1
    assert _problem(db_url, KEY) is None


def test_only_a_prefix_of_the_trail_is_purged(db_url):
    ids = _fresh_trail(db_url, 4, start=NOW - timedelta(days=10))
    with db.transaction(db_url) as s:
        s.execute(update(AuditLog).where(AuditLog.id == ids[1]).values(created_at=NOW))
        s.execute(update(AuditLog).where(AuditLog.id == ids[0]).values(created_at=NOW))
    with db.transaction(db_url) as s:
        # The first row is new now, so nothing can go without leaving a hole in the chain.
        assert (
            audit_checkpoint.checkpoint_and_purge(s, before=NOW - timedelta(days=1), key=KEY) == 0
        )
        assert audit_checkpoint.purgeable(s, before=NOW - timedelta(days=1)) == (None, 0)


def test_rows_cut_from_the_start_without_a_checkpoint_are_refused(db_url):
    ids = _fresh_trail(db_url)
    with db.transaction(db_url) as s:
        s.execute(delete(AuditLog).where(AuditLog.id <= ids[2]))
    problem = _problem(db_url)
    assert problem.row_id == ids[3] and "no checkpoint vouches" in problem.reason


def test_a_forged_checkpoint_is_refused_when_the_key_is_given(db_url):
    ids = _fresh_trail(db_url)
    last = _row(db_url, ids[2])
    with db.transaction(db_url) as s:
        s.execute(delete(AuditLog).where(AuditLog.id <= ids[2]))
        # Whoever deleted the rows appends a well-chained checkpoint, but cannot sign it.
        forged = audit.record(
            s,
            SYSTEM,
            audit.CHECKPOINT,
            detail={
                "last_deleted_id": last.id,
                "last_deleted_hash": last.hash,
                "hmac": audit_checkpoint.checkpoint_mac(b"not the key" * 4, last.id, last.hash),
            },
        ).id
    assert _problem(db_url) is None  # without the key only the shape is checked
    problem = _problem(db_url, KEY)
    assert problem.row_id == forged and "signature" in problem.reason


def test_a_checkpoint_from_another_key_is_refused(db_url):
    _fresh_trail(db_url, 4, start=NOW - timedelta(days=10))
    with db.transaction(db_url) as s:
        audit_checkpoint.checkpoint_and_purge(s, before=NOW, key=KEY, now=NOW)
    assert _problem(db_url, KEY) is None
    assert "cookie key changed" in _problem(db_url, b"rotated key" * 4).reason


def _listing_world(url: str) -> tuple[Actor, list[int]]:
    ids = _fresh_trail(url, 7, start=NOW - timedelta(days=7))
    admin = Actor(None, "root", "admin")
    return admin, ids


def test_list_audit_filters_and_pages_newest_first(db_url):
    admin, ids = _listing_world(db_url)
    with db.reading(db_url) as s:
        rows, total = audit_trail.list_audit(s, admin)
        assert total == 7 and [r.id for r in rows] == ids[::-1]
        rows, total = audit_trail.list_audit(s, admin, action="action_0")
        assert total == 3 and {r.action for r in rows} == {"action_0"}
        rows, total = audit_trail.list_audit(
            s, admin, since=NOW - timedelta(days=5), until=NOW - timedelta(days=3)
        )
        assert total == 2 and [r.id for r in rows] == [ids[3], ids[2]]
        page2, total = audit_trail.list_audit(s, admin, page=2, page_size=3)
        assert total == 7 and [r.id for r in page2] == [ids[3], ids[2], ids[1]]
        assert audit_trail.list_audit(s, admin, page=4, page_size=3) == ([], 7)
        assert audit_trail.list_audit(s, admin, object_type="nothing") == ([], 0)
        assert audit_trail.list_audit(s, admin, actor_id=12345) == ([], 0)
        assert audit_trail.audit_actions(s) == ["action_0", "action_1", "action_2"]


def test_list_audit_shows_who_acted(db_url):
    from tests.factories import make_actor

    admin = make_actor(db_url, "admin", username="auditor")
    with db.transaction(db_url) as s:
        audit.record(s, admin, "looked_around", object_type="page")
    with db.reading(db_url) as s:
        rows, total = audit_trail.list_audit(s, admin, actor_id=admin.user_id)
    assert total == 1 and rows[0].username == "auditor" and rows[0].actor_role == "admin"


@pytest.mark.parametrize("role", ["lead_reviewer", "security_manager", "analyst", "client"])
def test_list_audit_is_for_admins_only(db_url, role):
    with db.reading(db_url) as s, pytest.raises(AccessDenied):
        audit_trail.list_audit(s, Actor(1, "someone", role, 1 if role == "client" else None))


@pytest.mark.parametrize("page, size", [(0, 50), (1, 0), (1, 501)])
def test_list_audit_refuses_bad_pages(db_url, page, size):
    with db.reading(db_url) as s, pytest.raises(ValidationError):
        audit_trail.list_audit(s, SYSTEM, page=page, page_size=size)
