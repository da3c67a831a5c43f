"""Crosswalks end to end on SQLite and PostgreSQL: the shipped CSF 2.0 -> SP 800-53 mapping as
`init` imports it, importing mapping files (versioned, idempotent, quirks reported), pre-fill with
provenance through review, snapshots, extracts and backup, proposals, reuse within a client, and
access."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import db
from core.access import SYSTEM
from core.assessments import start_assessment
from core.backup import make_backup
from core.banks.store import load_bank
from core.demo_content import demo_answers
from core.errors import AccessDenied, NotFound, ValidationError
from core.mappings.coverage import coverage, coverage_targets
from core.mappings.prefill import apply_prefill, plan_prefill, prefill_sources
from core.mappings.proposals import confirm_proposal, dismiss_proposal, list_proposals
from core.mappings.provenance import describe, state_of
from core.mappings.read import read_mapping
from core.mappings.reuse import reusable_answers, reuse_answer
from core.mappings.shipped import import_shipped
from core.mappings.store import list_mappings, plan_mapping, store_mapping
from core.models import (
    AnswerProposal,
    EvidenceFile,
    MappingLink,
    MappingSet,
    Questionnaire,
    QuestionnaireResponse,
)
from core.responses import AnswerInput, answer_details, save_answers
from core.restore import restore_backup
from tests.factories import World, csv_mapping, newest_bank_id

MAPPINGS = Path(__file__).parent / "data" / "mappings"
DEGENARO = "OSCAL-1.2.1_mapping-collection_CSF-2.0_to_SP800-53r5_degenaro.json"
SHIPPED_KEY = "nist-csf-2.0-to-800-53-r5"
CSF_ANSWERS = ("partial", "risk-informed", "repeatable", "adaptive")


@pytest.fixture
def world(db_url, tmp_path):
    w = World(db_url, tmp_path)
    org = w.org("Acme Ltd")
    client = w.person("client", org, "acme")
    reviewer = w.person("lead_reviewer", None, "lee")
    product = w.product(client, "Web Shop")
    with db.transaction(db_url) as s:
        csf = start_assessment(
            s, client, product_id=product, questionnaire_id=newest_bank_id(db_url, "nist-csf-2.0")
        ).id
        low = start_assessment(
            s,
            client,
            product_id=product,
            questionnaire_id=newest_bank_id(db_url, "nist-800-53-r5-low"),
        ).id
    w.name(org=org, client=client, reviewer=reviewer, product=product, csf=csf, low=low)
    return w


def _answer_csf(w: World, answers: dict[str, str]) -> None:
    with db.transaction(w.url) as s:
        save_answers(s, w["client"], w["csf"], {k: AnswerInput(v) for k, v in answers.items()})


def _links(url: str, key: str = SHIPPED_KEY) -> list[tuple[str, str, str]]:
    with db.reading(url) as s:
        return list(
            s.execute(
                select(MappingLink.source_key, MappingLink.target_key, MappingLink.relationship)
                .join(MappingSet, MappingSet.id == MappingLink.mapping_set_id)
                .where(MappingSet.key == key)
            ).all()
        )


def _busiest_source(url: str) -> str:
    """The CSF question the shipped crosswalk links to the most SP 800-53 LOW questions."""
    sources = [src for src, _, _ in _links(url)]
    return max(sorted(set(sources)), key=sources.count)


def test_init_imports_the_shipped_crosswalk_once(db_url):
    with db.reading(db_url) as s:
        (mapping,) = s.scalars(select(MappingSet)).all()
        assert (mapping.key, mapping.version) == (SHIPPED_KEY, 1)
        assert (mapping.source_bank, mapping.target_bank) == ("nist-csf-2.0", "nist-800-53-r5-low")
        assert mapping.licence == "Public domain (US government work)"
        report = mapping.report
    # NIST gives no relationship type: every link intersects
    assert {r for _, _, r in _links(db_url)} == {"intersects-with"}
    assert report["pairs"] == 746
    # the OLIR quirks: padded ids with newlines resolve, RA-04 is withdrawn, PT/CP/IR families
    assert ("gv.oc-02", "pm-9") not in {(a, b) for a, b, _ in _links(db_url)}  # PM-9 not in LOW
    assert ("gv.oc-01", "pm-11") not in {(a, b) for a, b, _ in _links(db_url)}
    assert report["withdrawn_targets"] == {"RA-04": "RA-3"}
    # whole families: CP and IR are sections of the LOW baseline, PT is not in it at all
    assert report["family_targets"] == {"CP": "cp", "IR": "ir"}
    assert "PT" in report["unresolved_targets"]
    assert report["unresolved_sources"] == ["RS.MA", "RC.RP"]  # categories: not questions
    assert "PM-09" in report["unresolved_targets"]  # zero padded, newline stripped, not in LOW
    assert all(t == t.strip() for t in report["unresolved_targets"])
    with db.transaction(db_url) as s:
        assert import_shipped(s) == 0  # the same file again changes nothing
        assert s.scalar(select(func.count()).select_from(MappingSet)) == 1


def test_import_resolves_ids_and_versions_like_a_bank(db_url):
    data = (MAPPINGS / DEGENARO).read_bytes()
    mapping = read_mapping(DEGENARO, data)
    with db.transaction(db_url) as s:
        plan = plan_mapping(s, mapping)  # the banks are found from the ids
        assert (plan.source_bank.key, plan.target_bank.key) == (
            "nist-csf-2.0",
            "nist-800-53-r5-low",
        )
        assert plan.action == "new mapping"
        row, created = store_mapping(s, SYSTEM, plan)
        assert created and row.version == 1
    links = _links(db_url, row.key)
    assert {r for _, _, r in links} == {"superset-of"}
    assert ("de.ae-02", "au-6") in {(a, b) for a, b, _ in links}  # lower-cased ids resolve
    with db.transaction(db_url) as s:
        again = plan_mapping(s, mapping)
        assert again.action == "unchanged"
        assert store_mapping(s, SYSTEM, again)[1] is False
    edited = data.replace(b'"au-6"', b'"au-2"', 1)
    with db.transaction(db_url) as s:
        plan = plan_mapping(s, read_mapping(DEGENARO, edited))
        assert (plan.action, plan.version) == ("new version", 2)
        store_mapping(s, SYSTEM, plan)
    with db.reading(db_url) as s:
        mine = [m for m in list_mappings(s) if m["key"] == row.key]
    assert [m["version"] for m in mine] == [2]


def test_csv_with_unknown_ids_reports_them_and_a_client_cannot_import(db_url, tmp_path):
    text = "source_id,target_id,relationship\nGV.OC-01,IA-2(1),equal-to\nXX-99,AC-2,subset-of\n"
    mapping = read_mapping("mine.csv", text.encode())
    w = World(db_url, tmp_path)
    client = w.person("client", w.org(), "carla")
    with db.transaction(db_url) as s:
        plan = plan_mapping(
            s, mapping, source_bank="nist-csf-2.0", target_bank="nist-800-53-r5-low"
        )
        assert plan.report["unresolved_sources"] == ["XX-99"]
        assert [(x.source_key, x.target_key) for x in plan.links] == [("gv.oc-01", "ia-2.1")]
        with pytest.raises(AccessDenied):
            store_mapping(s, client, plan)
    with db.transaction(db_url) as s, pytest.raises(ValidationError, match="none of its ids"):
        plan_mapping(s, read_mapping("x.csv", b"source_id,target_id,relationship\nq,r,equal-to\n"))


def test_prefill_carries_with_provenance_through_review_and_snapshots(world):
    w = world
    links = _links(w.url)
    first_source = links[0][0]
    _answer_csf(w, {first_source: "adaptive"})
    with db.reading(w.url) as s:
        sources = prefill_sources(s, w["client"], w["low"])
        assert [o.assessment_id for o in sources] == [w["csf"]]
        plan = plan_prefill(s, w["client"], w["low"], w["csf"])
    # the shipped crosswalk only intersects: nothing carried at once, all proposed
    expected = {t for src, t, _ in links if src == first_source}
    assert plan.carried == ()
    assert {c.target_key for c in plan.proposed} == expected
    assert {c.answer.value for c in plan.proposed} == {"yes"}
    with db.transaction(w.url) as s:
        done = apply_prefill(s, w["client"], w["low"], w["csf"])
    assert done.counts()["proposed"] == len(expected)
    with db.reading(w.url) as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(QuestionnaireResponse)
                .where(QuestionnaireResponse.assessment_id == w["low"])
            )
            == 0
        )  # proposals count nowhere
        proposals = list_proposals(s, w["client"], w["low"])
    assert set(proposals) == expected
    target = sorted(expected)[0]
    with db.transaction(w.url) as s:
        confirm_proposal(s, w["client"], w["low"], target)
    with db.reading(w.url) as s:
        stored = answer_details(s, w["reviewer"], w["low"])[target]
    assert stored.value == "yes"
    assert state_of(stored.value, stored.is_na, stored.origin) == "confirmed"
    assert stored.origin["sources"][0]["question"] == first_source
    assert "Adaptive" in describe(stored.origin) and "overlaps" in describe(stored.origin)
    # the rest answered by hand, then through review: the reviewer sees where it came from
    with db.transaction(w.url) as s:
        bank = load_bank(s, newest_bank_id(w.url, "nist-800-53-r5-low"))
        rest = {k: a for k, a in demo_answers(bank, 0.6, random.Random(3)).items() if k != target}
        save_answers(s, w["client"], w["low"], rest)
    w.submit(w["client"], w["low"])
    w.send_back(w["reviewer"], w["low"], target, "Does this hold for SP 800-53 too?")
    with db.reading(w.url) as s:
        seen = answer_details(s, w["reviewer"], w["low"])
    assert seen[target].origin["kind"] == "confirmed"
    assert all(seen[k].origin is None for k in rest)
    with db.transaction(w.url) as s:
        save_answers(s, w["client"], w["low"], {target: AnswerInput("partial")})
    with db.reading(w.url) as s:
        stored = answer_details(s, w["client"], w["low"])[target]
    assert state_of(stored.value, stored.is_na, stored.origin) == "changed after carrying"
    w.submit(w["client"], w["low"])
    first = w.snapshots(w["low"])[0]
    assert first.question_scores["origins"] == {target: "confirmed"}
    assert w.snapshots(w["low"])[-1].question_scores["origins"] == {
        target: "changed after carrying"
    }


def _equal_mapping(url: str) -> str:
    """A CSV mapping CSF -> SP 800-53 whose first three links are equal-to and superset-of."""
    rows = "GV.OC-01,PM-11,equal-to\nGV.OC-01,AC-1,superset-of\n"
    csv_mapping(url, rows + "GV.OC-02,AC-1,equal-to\nGV.OC-03,AT-1,subset-of\n", key="csf-equal")
    return "csf-equal"


def test_carried_answers_take_the_weakest_source_and_link_evidence(world):
    w = world
    key = _equal_mapping(w.url)
    _answer_csf(w, {"gv.oc-01": "adaptive", "gv.oc-02": "repeatable", "gv.oc-03": "adaptive"})
    evidence = w.evidence(w["client"], w["csf"], "gv.oc-02", "board-minutes.pdf")
    with db.transaction(w.url) as s:
        result = apply_prefill(s, w["client"], w["low"], w["csf"], mapping_key=key)
    assert {c.target_key: c.answer.value for c in result.carried} == {"ac-1": "partial"}
    assert {c.target_key for c in result.proposed} == {"at-1"}
    with db.reading(w.url) as s:
        stored = answer_details(s, w["client"], w["low"])["ac-1"]
        first = stored.origin["sources"][0]
        assert first["question"] == "gv.oc-02" and first["answer"] == "Repeatable"
        assert first["evidence"] == [{"id": evidence, "filename": "board-minutes.pdf"}]
        assert stored.origin["mapping"] == key
    # pre-filling again leaves answered questions alone
    with db.reading(w.url) as s:
        again = plan_prefill(s, w["client"], w["low"], w["csf"], mapping_key=key)
    assert "ac-1" in again.kept and not again.carried


def test_access_is_checked_in_core(world, tmp_path):
    w = world
    other_org = w.org("Other Ltd")
    outsider = w.person("client", other_org, "outsider")
    analyst = w.person("analyst", None, "ana")
    _answer_csf(w, {"gv.oc-01": "adaptive"})
    with db.transaction(w.url) as s:
        with pytest.raises(AccessDenied):
            plan_prefill(s, outsider, w["low"], w["csf"])
        with pytest.raises(AccessDenied):
            apply_prefill(s, analyst, w["low"], w["csf"])  # may read, may not write
        with pytest.raises(AccessDenied):
            coverage_targets(s, outsider, w["csf"])
    # another product's assessment is no source
    product2 = w.product(w["client"], "Mobile App")
    aid = w.start(w["client"], product2)
    with db.transaction(w.url) as s, pytest.raises(ValidationError, match="same product"):
        plan_prefill(s, w["client"], w["low"], aid)
    with db.transaction(w.url) as s, pytest.raises(NotFound):
        plan_prefill(s, w["client"], w["low"], w["csf"], mapping_key="no-such-mapping")
    # a bank the client may not read (retired) refuses the pre-fill
    with db.transaction(w.url) as s:
        s.get(Questionnaire, newest_bank_id(w.url, "nist-csf-2.0")).is_active = False
    with db.transaction(w.url) as s, pytest.raises(AccessDenied, match="question bank"):
        plan_prefill(s, w["client"], w["low"], w["csf"])


def test_proposal_dismissed_and_coverage(world):
    w = world
    source = _busiest_source(w.url)
    _answer_csf(w, {source: "repeatable"})
    with db.transaction(w.url) as s:
        apply_prefill(s, w["client"], w["low"], w["csf"])
        (mapping,) = coverage_targets(s, w["client"], w["csf"])
        view = coverage(s, w["client"], w["csf"], mapping.id)
    targets = {t for src, t, _ in _links(w.url) if src == source}
    assert len(targets) >= 3
    assert sum(sec.proposed for sec in view.sections) == len(targets)
    assert sum(sec.carried for sec in view.sections) == 0
    assert len(view.to_answer) == 149 - len(targets)
    assert abs(view.share("proposed") - len(targets) / 149) < 1e-9
    first = sorted(targets)[0]
    with db.transaction(w.url) as s:
        dismiss_proposal(s, w["client"], w["low"], first)
        with pytest.raises(NotFound):
            dismiss_proposal(s, w["client"], w["low"], first)
    with db.reading(w.url) as s:
        assert first not in list_proposals(s, w["client"], w["low"])
        assert s.scalar(select(func.count()).select_from(AnswerProposal)) == len(targets) - 1


def test_reuse_within_a_client(world):
    w = world
    source = _busiest_source(w.url)
    _answer_csf(w, {source: "adaptive"})
    evidence = w.evidence(w["client"], w["csf"], source, "risk-register.pdf")
    product2 = w.product(w["client"], "Mobile App")
    with db.transaction(w.url) as s:
        aid = start_assessment(
            s,
            w["client"],
            product_id=product2,
            questionnaire_id=newest_bank_id(w.url, "nist-csf-2.0"),
        ).id
    with db.reading(w.url) as s:
        offers = reusable_answers(s, w["client"], aid)
    (offer,) = offers[source]
    assert offer.answer.value == "adaptive" and offer.origin["product"] == "Web Shop"
    files = [{"id": evidence, "filename": "risk-register.pdf"}]
    assert offer.origin["sources"][0]["evidence"] == files  # offered with its evidence
    # the same answer reaches SP 800-53 questions of the second product through the mapping
    with db.transaction(w.url) as s:
        low2 = start_assessment(
            s,
            w["client"],
            product_id=product2,
            questionnaire_id=newest_bank_id(w.url, "nist-800-53-r5-low"),
        ).id
        mapped = reusable_answers(s, w["client"], low2)
    targets = {t for src, t, _ in _links(w.url) if src == source}
    assert targets and targets <= set(mapped)
    assert {o.answer.value for t in targets for o in mapped[t]} == {"yes"}
    with db.transaction(w.url) as s:
        reuse_answer(s, w["client"], aid, source, w["csf"])
    with db.reading(w.url) as s:
        stored = answer_details(s, w["client"], aid)[source]
    assert stored.value == "adaptive" and stored.origin["kind"] == "reused"
    assert stored.origin["sources"][0]["evidence"] == files  # linked, not copied
    with db.reading(w.url) as s:
        assert s.scalar(select(func.count()).select_from(EvidenceFile)) == 1
    outsider = w.person("client", w.org("Other Ltd"), "outsider")
    with db.reading(w.url) as s, pytest.raises(AccessDenied):
        reusable_answers(s, outsider, aid)


def test_provenance_survives_backup_and_restore(world, tmp_path, request):
    w = world
    key = _equal_mapping(w.url)
    _answer_csf(w, {"gv.oc-01": "adaptive", "gv.oc-02": "adaptive", "gv.oc-03": "repeatable"})
    with db.transaction(w.url) as s:
        apply_prefill(s, w["client"], w["low"], w["csf"], mapping_key=key)
    if request.node.callspec.params["db_url"] == "sqlite":
        target = f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        target = cluster.create_database(f"crosswalk_{id(request)}")
        request.addfinalizer(
            lambda: (db.dispose_all(), cluster.drop_database(f"crosswalk_{id(request)}"))
        )
    restore_backup(make_backup(w.url, w.data_dir), target, tmp_path / "restored")
    with db.reading(w.url) as s:
        before = (
            answer_details(s, w["client"], w["low"]),
            list_proposals(s, w["client"], w["low"]),
        )
    with db.reading(target) as s:
        after = (answer_details(s, w["client"], w["low"]), list_proposals(s, w["client"], w["low"]))
        assert s.scalar(select(func.count()).select_from(MappingLink)) == 480 + 3
    assert after == before and before[0]["ac-1"].origin["kind"] == "carried"
    assert set(before[1]) == {"at-1"}
