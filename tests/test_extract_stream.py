"""The answers extract's Core-level path (core/extract_answers.py) and extract_chunks, which the
app's downloads and the API stream: the CSV is, byte for byte, what core.exports.csv_bytes writes
for the typed rows, awkward stored values included, and it holds only what the actor may read."""

import csv
import io

from sqlalchemy import null, select, update

from core import db
from core.access import SYSTEM
from core.auth import actor_for
from core.exports import csv_bytes
from core.extract_answers import Memo
from core.extract_columns import EXTRACTS
from core.extracts import extract_chunks, extract_rows
from core.filters import Filters
from core.models import QuestionnaireResponse
from core.settings import update_setting
from tests.factories import World, make_actor

COLUMNS = [c.name for c in EXTRACTS["answers"].columns]
AWKWARD = ["=1+1", -5, ["yes", "=x"], 'say "hi", then\r\nleave', 2.5]


def _world(db_url, tmp_path) -> World:
    """Two organisations' assessments; the first one's stored answers hold awkward values."""
    w = World(db_url, tmp_path / "data")
    own, other = w.org('=Org, "One"'), w.org("Other Org")
    w.name(client=w.person("client", own), other=w.person("client", other, "client2"))
    aid = w.start(w["client"], w.product(w["client"], '+Widget, "v2"'))
    w.answer(w["client"], aid, w.demo_answers(0.5, seed=3, first=8))
    hidden = w.start(w["other"], w.product(w["other"], "Hidden product"))
    w.answer(w["other"], hidden, w.demo_answers(first=3))
    with db.transaction(db_url) as s:
        ids = s.scalars(
            select(QuestionnaireResponse.id)
            .where(QuestionnaireResponse.assessment_id == aid)
            .order_by(QuestionnaireResponse.id)
        ).all()
        for rid, value in zip(ids, AWKWARD, strict=False):
            s.execute(
                update(QuestionnaireResponse)
                .where(QuestionnaireResponse.id == rid)
                .values(value=value)
            )
        stored = update(QuestionnaireResponse).where(QuestionnaireResponse.id == ids[5])
        s.execute(stored.values(value=null(), is_na=True, score=None))  # SQL NULL
        s.execute(
            update(QuestionnaireResponse)
            .where(QuestionnaireResponse.id == ids[6])
            .values(value=None, answered_at=None)  # JSON null; the time falls back to created_at
        )
    return w


def test_streamed_answers_are_the_typed_rows_written_by_csv_bytes(db_url, tmp_path):
    w = _world(db_url, tmp_path)
    with db.reading(db_url) as s:
        for actor in (SYSTEM, w["client"]):
            rows = list(extract_rows(s, actor, "answers", Filters()))
            streamed = b"".join(extract_chunks(s, actor, "answers", Filters()))
            assert streamed == csv_bytes(rows, COLUMNS)
    values = [r["value"] for r in rows]
    assert values[:5] == AWKWARD and values[5:7] == [None, None]
    assert rows[5]["not_applicable"] is True and rows[5]["score"] is None
    assert all(r["answered_at"] for r in rows)
    text = streamed.decode()
    assert "'=1+1," in text and ",'-5," in text and '"[""yes"", ""=x""]"' in text
    assert '"say ""hi"", then\r\nleave"' in text and '"\'=Org, ""One"""' in text


def test_a_clients_answers_stream_holds_only_their_organisation(db_url, tmp_path):
    w = _world(db_url, tmp_path)
    with db.reading(db_url) as s:
        mine = b"".join(extract_chunks(s, w["client"], "answers", Filters())).decode()
        theirs = b"".join(extract_chunks(s, w["other"], "answers", Filters())).decode()
        every = b"".join(extract_chunks(s, SYSTEM, "answers", Filters())).decode()
    orgs = {r["organization"] for r in csv.DictReader(io.StringIO(mine))}
    assert orgs == {'\'=Org, "One"'} and "Hidden product" not in mine
    assert {r["product"] for r in csv.DictReader(io.StringIO(theirs))} == {"Hidden product"}
    assert len(list(csv.DictReader(io.StringIO(every)))) == 8 + 3


def test_assigned_reviewers_stream_only_their_assessments_answers(app_env):
    def assessments(actor) -> set[str]:
        with db.reading(app_env) as s:
            text = b"".join(extract_chunks(s, actor, "answers", Filters())).decode()
        return {r["assessment_id"] for r in csv.DictReader(io.StringIO(text))}

    with db.transaction(app_env) as s:
        update_setting(s, SYSTEM, "reviewer_visibility", "assigned")
    try:
        fresh = make_actor(app_env, "lead_reviewer", None, "second_reviewer")
        with db.reading(app_env) as s:
            lead = actor_for(s, "lead_reviewer")
        assert assessments(fresh) < assessments(lead) < assessments(SYSTEM)
    finally:
        with db.transaction(app_env) as s:
            update_setting(s, SYSTEM, "reviewer_visibility", "all")


def test_remembered_cells_start_again_past_their_limit():
    made = []
    memo = Memo(lambda key: made.append(key) or f"<{key}>", limit=2)
    assert [memo[k] for k in ("a", "b", "a", "c", "a")] == ["<a>", "<b>", "<a>", "<c>", "<a>"]
    assert made == ["a", "b", "c", "a"] and len(memo) <= 2  # free text never piles up
