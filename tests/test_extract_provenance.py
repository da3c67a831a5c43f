"""The answers extract keeps each answer's provenance: an answer carried through a mapping, a
confirmed proposal and one changed after carrying say so in `origin` and `origin_detail` (the
sentence core.mappings.provenance.describe writes); an answer given by hand leaves both empty.
The streamed CSV stays, byte for byte, what core.exports.csv_bytes writes for the typed rows."""

from __future__ import annotations

import csv
import io

import pytest

from core import db
from core.access import SYSTEM
from core.assessments import start_assessment
from core.exports import csv_bytes
from core.extract_answers import cells_text
from core.extract_columns import EXTRACTS
from core.extracts import data_dictionary, extract_chunks, extract_csv, extract_rows
from core.filters import Filters
from core.mappings.prefill import apply_prefill
from core.mappings.proposals import confirm_proposal
from core.mappings.provenance import describe
from core.responses import AnswerInput, answer_details, save_answers
from tests.factories import World, csv_mapping, newest_bank_id

COLUMNS = [c.name for c in EXTRACTS["answers"].columns]
MAPPING = (
    "GV.OC-01,AC-1,equal-to\n"  # carried
    "GV.OC-02,AC-2,equal-to\n"  # carried, then changed by hand
    "GV.OC-03,AC-3,subset-of\n"  # proposed, then confirmed
)


@pytest.fixture
def world(db_url, tmp_path) -> World:
    """A CSF 2.0 assessment answered by hand, pre-filled into the product's SP 800-53 LOW one
    through a small CSV mapping; one LOW answer given by hand, one carried answer changed, one
    proposal confirmed."""
    w = World(db_url, tmp_path)
    org = w.org('=Acme, "Ltd"')
    client = w.person("client", org, "acme")
    product = w.product(client, '+Shop, "v2"')  # the sentence names it mid-text: no escape
    with db.transaction(db_url) as s:
        csf, low = (
            start_assessment(
                s, client, product_id=product, questionnaire_id=newest_bank_id(db_url, key)
            ).id
            for key in ("nist-csf-2.0", "nist-800-53-r5-low")
        )
    csv_mapping(db_url, MAPPING, key="csf-low-small")
    with db.transaction(db_url) as s:
        answers = {"gv.oc-01": "adaptive", "gv.oc-02": "adaptive", "gv.oc-03": "repeatable"}
        save_answers(s, client, csf, {k: AnswerInput(v) for k, v in answers.items()})
        save_answers(s, client, low, {"ac-7": AnswerInput("no")})  # by hand
    with db.transaction(db_url) as s:
        done = apply_prefill(s, client, low, csf, mapping_key="csf-low-small")
    assert {c.target_key for c in done.carried} == {"ac-1", "ac-2"}
    with db.transaction(db_url) as s:
        confirm_proposal(s, client, low, "ac-3")
        save_answers(s, client, low, {"ac-2": AnswerInput("no")})  # changed after carrying
    w.name(client=client, csf=csf, low=low)
    return w


def _rows(url: str, actor) -> tuple[list[dict], bytes]:
    with db.reading(url) as s:
        rows = list(extract_rows(s, actor, "answers", Filters()))
        streamed = b"".join(extract_chunks(s, actor, "answers", Filters()))
        assert streamed == extract_csv(s, actor, "answers", Filters())
    return rows, streamed


def test_the_answers_extract_says_where_each_answer_came_from(world):
    w = world
    with db.reading(w.url) as s:
        stored = answer_details(s, w["client"], w["low"])
    for actor in (SYSTEM, w["client"]):
        rows, streamed = _rows(w.url, actor)
        assert streamed == csv_bytes(rows, COLUMNS)  # SP 800-53 question texts hold newlines
        assert streamed.split(b"\r\n", 1)[0].decode().split(",")[-3:] == [
            "answered_at",
            "origin",
            "origin_detail",
        ]
    read = list(csv.DictReader(io.StringIO(streamed.decode())))
    assert len(read) == len(rows) == 3 + 4  # CSF: three by hand; LOW: ac-7 by hand and three
    line = {(int(r["assessment_id"]), r["question_key"]): r for r in read}
    row = {(r["assessment_id"], r["question_key"]): r for r in rows}

    carried = line[w["low"], "ac-1"]
    assert carried["value"] == "yes" and carried["origin"] == "carried"
    assert carried["origin_detail"] == describe(stored["ac-1"].origin)
    assert carried["origin_detail"].startswith(
        'Carried from NIST Cybersecurity Framework 2.0 (cycle 1) of +Shop, "v2": '
        'GV.OC-01 answered "Adaptive" on '
    )
    assert 'Mapping "' in carried["origin_detail"]
    assert "equal to this question" in carried["origin_detail"]  # the relationship, in words
    assert row[w["low"], "ac-1"]["origin"] == "carried"

    assert line[w["low"], "ac-2"]["origin"] == "changed after carrying"
    assert line[w["low"], "ac-2"]["origin_detail"] == describe(stored["ac-2"].origin)
    assert line[w["low"], "ac-3"]["origin"] == "confirmed"
    assert line[w["low"], "ac-3"]["origin_detail"].startswith("Confirmed from ")

    by_hand = [line[w["low"], "ac-7"], *(line[w["csf"], k] for k in ("gv.oc-01", "gv.oc-02"))]
    assert all(r["origin"] == "" and r["origin_detail"] == "" for r in by_hand)
    assert (
        row[w["low"], "ac-7"]["origin"] is None and row[w["low"], "ac-7"]["origin_detail"] is None
    )


def test_the_data_dictionary_describes_the_provenance_columns():
    described = {d.column: d.description for d in data_dictionary() if d.extract == "answers"}
    assert list(described)[-3:] == ["answered_at", "origin", "origin_detail"]
    assert "changed after carrying" in described["origin"] and "empty" in described["origin"]
    assert "mapping" in described["origin_detail"]


def test_a_cell_with_a_line_break_is_quoted_as_csv_bytes_quotes_it():
    cells = ("a\nb", "c\rd", "=x", None, "plain")
    line = csv_bytes([dict(zip("abcde", cells, strict=True))], list("abcde")).split(b"\r\n", 1)[1]
    assert cells_text(cells) == line.decode()[: -len("\r\n")] + ","
    assert cells_text((None, None)) == ",,"
