"""Assurance over real HTTP to uvicorn on loopback: each answer's level, each snapshot's shares
(null for snapshots taken before they were kept), and the day an evidence file is valid until,
given with the upload, changed, cleared and refused as core refuses it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core import db, review
from core.assurance import LEVELS, answer_levels
from core.demo_content import sample_pdf
from core.models import Assessment, EvidenceFile, ScoreHistory
from tests.factories import World
from tests.support.api import ApiServer, module_database, problem, token_for


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"api-assurance-{request.param}")
    url = module_database(request, request.param, tmp)
    w = World(url, tmp / "data")
    org = w.org("Acme Ltd")
    client, reviewer = w.person("client", org), w.person("lead_reviewer")
    rival = w.person("client", w.org("Rival plc"))
    decided = w.answered(client, w.product(client, "Decided"), quality=1.0)
    key = next(
        q.key
        for q in w.bank.questions
        if q.condition is None and not q.evidence_required and q.type == "yes_no"
    )
    w.submit(client, decided)
    with db.transaction(url) as s:
        review.claim(s, reviewer, decided)
        review.set_review_state(s, reviewer, decided, key, "accepted")
        review.decide(s, reviewer, decided, "approved")
    open_one = w.start(client, w.product(client, "Open"))
    w.answer(client, open_one, w.demo_answers(1.0, first=3))
    w.name(
        key=key,
        decided=decided,
        open=open_one,
        tokens={
            "client": token_for(url, client),
            "reviewer": token_for(url, reviewer),
            "rival": token_for(url, rival),
        },
    )
    server = ApiServer(url, tmp / "data", tmp / "api.log")
    yield w, server
    server.stop()
    db.dispose_all()


def test_each_answer_carries_its_assurance_level(site):
    w, server = site
    with server.client(w["tokens"]["client"]) as client:
        body = client.get(f"/assessments/{w['decided']}/answers").json()
    with db.reading(w.url) as s:
        levels = answer_levels(s, w["decided"])
    got = {a["question"]: a["assurance_level"] for a in body["answers"]}
    assert got == levels and got[w["key"]] == "accepted"
    assert set(got.values()) <= set(LEVELS) and "self_attested" in got.values()


def test_each_snapshot_carries_its_shares_and_null_before_they_were_kept(site):
    w, server = site
    snapshots = w.snapshots(w["decided"])
    with db.transaction(w.url) as s:
        s.execute(
            update(ScoreHistory).where(ScoreHistory.id == snapshots[0].id).values(assurance=None)
        )
    with server.client(w["tokens"]["client"]) as client:
        got = client.get(f"/assessments/{w['decided']}/scores").json()["snapshots"]
    assert len(got) == len(snapshots) >= 2
    assert got[0]["assurance"] is None
    last = got[-1]["assurance"]
    assert last == snapshots[-1].assurance
    assert set(last["overall"]) == set(LEVELS) and last["overall"]["accepted"] > 0
    assert abs(sum(last["overall"].values()) - 100) < 1e-6
    assert set(last["sections"]) == set(got[-1]["sections"])


def _upload(client, aid, key, **fields):
    return client.post(
        f"/assessments/{aid}/evidence",
        data={"question_key": key, **fields},
        files={"file": ("certificate.pdf", sample_pdf("Certificate"), "application/pdf")},
    )


def _level(client, aid, key):
    answers = client.get(f"/assessments/{aid}/answers").json()["answers"]
    return next(a["assurance_level"] for a in answers if a["question"] == key)


def test_a_files_valid_until_day_goes_up_with_it_and_is_changed_and_cleared(site):
    w, server = site
    aid, key = w["open"], next(iter(w.demo_answers(1.0, first=1)))
    day = (datetime.now(UTC) + timedelta(days=100)).date()
    with server.client(w["tokens"]["client"]) as client:
        up = _upload(client, aid, key, valid_until=day.isoformat())
        assert up.status_code == 201, up.text
        fid = up.json()["id"]
        assert up.json()["valid_until"] == day.isoformat()
        listed = client.get(f"/assessments/{aid}/evidence").json()["evidence"]
        assert {f["id"]: f["valid_until"] for f in listed}[fid] == day.isoformat()
        assert _level(client, aid, key) == "evidence_valid"
        later = day + timedelta(days=30)
        changed = client.put(f"/evidence/{fid}", json={"valid_until": later.isoformat()})
        assert changed.status_code == 200 and changed.json()["valid_until"] == later.isoformat()
        cleared = client.put(f"/evidence/{fid}", json={"valid_until": None})
        assert cleared.status_code == 200 and cleared.json()["valid_until"] is None
        assert _level(client, aid, key) == "evidence"
    with db.reading(w.url) as s:
        assert s.scalar(select(EvidenceFile.valid_until).where(EvidenceFile.id == fid)) is None


def test_a_bad_valid_until_day_or_someone_else_is_refused(site):
    w, server = site
    aid, key = w["open"], next(iter(w.demo_answers(1.0, first=1)))
    with server.client(w["tokens"]["client"]) as client:
        bad = problem(_upload(client, aid, key, valid_until="31/12/2027"), 422)
        assert "is not a date" in bad["detail"]
        fid = _upload(client, aid, key).json()["id"]
        far = problem(client.put(f"/evidence/{fid}", json={"valid_until": "2099-01-01"}), 422)
        assert "at most 10 years ahead" in far["detail"]
        problem(client.put(f"/evidence/{fid}", json={"valid_until": "soon"}), 422)
        problem(client.put(f"/evidence/{fid}", json={"until": None}), 422)
    with server.client(w["tokens"]["rival"]) as rival:
        problem(rival.put(f"/evidence/{fid}", json={"valid_until": None}), 404)
    with server.client(w["tokens"]["reviewer"]) as reviewer:
        problem(reviewer.put(f"/evidence/{fid}", json={"valid_until": None}), 403)
    with server.client(w["tokens"]["client"]) as client:
        problem(client.put("/evidence/999999", json={"valid_until": None}), 404)


def test_listings_carry_the_shares_and_narrow_by_the_accepted_share(site):
    w, server = site
    with db.reading(w.url) as s:
        want = s.execute(
            select(Assessment.id, Assessment.accepted_share, Assessment.assured_share).where(
                Assessment.id.in_([w["decided"], w["open"]])
            )
        ).all()
    shares = {aid: (accepted, assured) for aid, accepted, assured in want}
    decided_accepted = shares[w["decided"]][0]
    assert decided_accepted is not None and 0 < decided_accepted < 100
    with server.client(w["tokens"]["client"]) as client:
        items = client.get("/assessments").json()["items"]
        got = {a["id"]: (a["accepted_share"], a["assured_share"]) for a in items}
        assert got == shares and got[w["open"]] == (None, None)
        one = client.get(f"/assessments/{w['decided']}").json()
        assert one["accepted_share"] == decided_accepted
        at_least = client.get("/assessments", params={"min_accepted": decided_accepted}).json()
        assert [a["id"] for a in at_least["items"]] == [w["decided"]]
        above = client.get("/assessments", params={"min_accepted": decided_accepted + 0.5})
        assert above.json()["items"] == []
        overview = client.get("/analytics/overview").json()
        narrowed = client.get("/analytics/overview", params={"min_accepted": 100}).json()
    assert overview["assurance"] == {
        "assessments": 1,
        "assured_share": pytest.approx(shares[w["decided"]][1]),
        "accepted_share": pytest.approx(decided_accepted),
    }
    assert narrowed["totals"]["assessments"] == 0
    assert narrowed["assurance"]["accepted_share"] is None


@pytest.mark.parametrize("share", ["-1", "100.5", "half", "nan"])
def test_a_bad_accepted_share_to_filter_by_is_refused(site, share):
    w, server = site
    with server.client(w["tokens"]["reviewer"]) as client:
        for path in ("/assessments", "/analytics/overview", "/analytics/trends"):
            problem(client.get(path, params={"min_accepted": share}), 422)


def test_the_rival_sees_none_of_the_shares(site):
    w, server = site
    with server.client(w["tokens"]["rival"]) as rival:
        assert rival.get("/assessments", params={"min_accepted": 0}).json()["items"] == []
        problem(rival.get(f"/assessments/{w['decided']}"), 404)
