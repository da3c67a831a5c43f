"""The Scores page's view of what an assessment gives on other frameworks, through AppTest: the
shares and the counts per section follow the credit rules (worked out here from the stored links,
not by core), the questions left to answer are listed, and another organisation is kept out."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core import db
from core.assessments import start_assessment
from core.banks.store import load_bank
from core.errors import AccessDenied
from core.mappings.coverage import coverage, coverage_targets
from core.models import MappingLink, MappingSet
from core.responses import AnswerInput
from tests.apptest import rerun, signed_in
from tests.factories import World, csv_mapping, newest_bank_id
from tests.support.words import page_problems, plain

CSF, LOW, BASELINE = "nist-csf-2.0", "nist-800-53-r5-low", "securesphere-baseline"
SECTION = "What this assessment gives on other frameworks"
# Every rule once: several sources that all carry (ac-1), a carried and a proposed source
# (ac-2), an unanswered source (ac-3), proposed only (at-1), no-relationship (at-2), an N/A
# source (au-1), an unanswered and an answered source (au-2).
TO_LOW = """GV.OC-01,AC-1,equal-to
GV.OC-02,AC-1,superset-of
GV.OC-03,AC-2,equivalent-to
GV.OC-04,AC-2,subset-of
GV.OC-05,AC-3,equal-to
GV.OC-01,AT-1,intersects-with
GV.OC-02,AT-2,no-relationship
GV.RM-01,AU-1,equal-to
GV.OC-05,AU-2,superset-of
GV.OC-03,AU-2,equal-to
"""
TO_BASELINE = "GV.OC-01,gov-owner,equal-to\n"
ANSWERS = {
    "gv.oc-01": AnswerInput("adaptive"),
    "gv.oc-02": AnswerInput("repeatable"),
    "gv.oc-03": AnswerInput("partial"),
    "gv.oc-04": AnswerInput("risk-informed"),
    "gv.rm-01": AnswerInput(None, is_na=True),
}
CARRIES = {"equal-to", "equivalent-to", "superset-of"}
PROPOSES = {"subset-of", "intersects-with"}


def _store(url: str, name: str, text: str, target: str, title: str) -> int:
    return csv_mapping(url, text, key=name.removesuffix(".csv"), title=title, target=target)


@pytest.fixture
def world(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SECURESPHERE_BCRYPT_ROUNDS", "4")
    w = World(sqlite_url, tmp_path / "data")
    low = _store(sqlite_url, "to-low.csv", TO_LOW, LOW, "CSF to LOW, every rule")
    baseline = _store(sqlite_url, "to-baseline.csv", TO_BASELINE, BASELINE, "CSF to baseline")
    client = w.person("client", w.org("Acme Ltd"), "acme")
    other = w.person("client", w.org("Other Ltd"), "other")
    product = w.product(client, "Web Shop")
    spare = w.product(client, "Spare Shop")
    with db.transaction(sqlite_url) as s:
        aid = start_assessment(
            s, client, product_id=product, questionnaire_id=newest_bank_id(sqlite_url, CSF)
        ).id
        empty = start_assessment(
            s, client, product_id=spare, questionnaire_id=newest_bank_id(sqlite_url, CSF)
        ).id
    w.answer(client, aid, ANSWERS)
    w.person("analyst", None, "ana")
    w.name(client=client, other=other, csf=aid, empty=empty, to_low=low, to_baseline=baseline)
    return w


def _expected(url: str, mapping_id: int, target_key: str) -> dict[str, tuple[int, int, int]]:
    """Carried, proposed and uncovered per section of the target bank, by the rules: a target
    gets credit from each answered source linked by a carrying or proposing relationship (N/A
    only where the target allows it); it is carried when every such source carries."""
    with db.reading(url) as s:
        links = s.execute(
            select(MappingLink.source_key, MappingLink.target_key, MappingLink.relationship).where(
                MappingLink.mapping_set_id == mapping_id
            )
        ).all()
        bank = load_bank(s, newest_bank_id(url, target_key))
    kinds: dict[str, set[str]] = {}
    for source, target, relationship in links:
        answer = ANSWERS.get(source)
        if answer is None or relationship not in CARRIES | PROPOSES:
            continue
        if answer.is_na and not bank.question(target).allow_na:
            continue
        kinds.setdefault(target, set()).add("carried" if relationship in CARRIES else "proposed")
    counts = {}
    for section in bank.sections:
        got = [kinds.get(q.key, set()) for q in section.questions]
        carried = sum(k == {"carried"} for k in got)
        proposed = sum("proposed" in k for k in got)
        counts[section.title] = (carried, proposed, len(got) - carried - proposed)
    return counts


def _open(w: World, username: str, aid: int):
    at = signed_in(w.url, username).run()
    at.query_params["assessment"] = str(aid)
    at = at.switch_page("pages/scores.py").run()
    assert not at.exception
    return at


def _chart(at) -> dict:
    return next(
        json.loads(c.proto.spec)
        for c in at.get("plotly_chart")
        if json.loads(c.proto.spec)["layout"]["title"]["text"].startswith("Per section of")
    )


def _shown(at) -> dict[str, tuple[int, int, int]]:
    traces = {t["name"]: t for t in _chart(at)["data"]}
    sections = traces["Carried"]["y"]
    return {
        section: tuple(traces[name]["x"][i] for name in ("Carried", "Proposed", "Still to answer"))
        for i, section in enumerate(sections)
    }


def _still_to_answer(at):
    return next(
        df.value for df in at.dataframe if list(df.value.columns) == ["section", "question", "text"]
    )


@pytest.mark.parametrize("username", ["acme", "ana"])
def test_the_coverage_follows_the_rules_per_section(world, username):
    w = world
    at = _open(w, username, w["csf"])
    assert not at.error
    assert SECTION in [h.value for h in at.subheader]
    (choice,) = [s for s in at.selectbox if s.label == "Framework"]
    assert choice.options == [  # the newest mapping first
        "SecureSphere Product Security Baseline (through CSF to baseline)",
        "NIST SP 800-53 Rev. 5 LOW Baseline (through CSF to LOW, every rule)",
    ]
    choice.set_value(w["to_low"])
    rerun(at)
    assert not at.exception and not at.error
    expected = _expected(w.url, w["to_low"], LOW)
    assert _shown(at) == expected
    assert not page_problems(at, user_data=set())
    by_key = {
        "ac": (1, 1, 9),  # ac-1 carried, ac-2 proposed (one source subset-of), ac-3 unanswered
        "at": (0, 1, 4),  # at-1 proposed; at-2 no-relationship
        "au": (2, 0, 8),  # au-1 from an N/A, au-2 from its answered source
    }
    titles = {"ac": "Access Control (AC)", "at": "Awareness and Training (AT)"}
    titles["au"] = "Audit and Accountability (AU)"
    for key, counts in by_key.items():
        assert expected[titles[key]] == counts
    total = sum(sum(c) for c in expected.values())
    shares = {m.label: m.value for m in at.metric if m.label in ("Carried", "Proposed")}
    assert shares == {"Carried": f"{3 / total:.0%}", "Proposed": f"{2 / total:.0%}"}
    still = _still_to_answer(at)
    assert len(still) == total - 5
    assert {"ac-3", "at-2", "ac-14"} <= set(still["question"])
    assert not {"ac-1", "ac-2", "at-1", "au-1", "au-2"} & set(still["question"])
    assert any(
        f"Still to answer on NIST SP 800-53 Rev. 5 LOW Baseline: {total - 5}" in plain(m.value)
        for m in at.markdown
    )

    choice = next(s for s in at.selectbox if s.label == "Framework")
    choice.set_value(w["to_baseline"])
    rerun(at)
    assert _shown(at) == _expected(w.url, w["to_baseline"], BASELINE)
    assert sum(c[0] for c in _shown(at).values()) == 1  # gov-owner, from Adaptive -> Yes


def test_nothing_reached_shows_the_empty_state(world):
    at = _open(world, "acme", world["empty"])
    assert not at.error
    assert any("None of this assessment's answers reaches" in plain(m.value) for m in at.info)
    assert {m.label: m.value for m in at.metric}["Still to answer"] == "100%"


def test_another_organisation_cannot_reach_the_coverage(world):
    w = world
    at = _open(w, "other", w["csf"])  # a foreign id in the URL: nothing of it is shown
    assert SECTION not in [h.value for h in at.subheader]
    assert not at.get("plotly_chart")
    with db.reading(w.url) as s, pytest.raises(AccessDenied):
        coverage_targets(s, w["other"], w["csf"])
    with db.reading(w.url) as s, pytest.raises(AccessDenied):
        coverage(s, w["other"], w["csf"], w["to_low"])
    with db.reading(w.url) as s:  # the mappings are there: only access keeps them out
        assert s.get(MappingSet, w["to_low"]).source_bank == CSF
        assert len(coverage_targets(s, w["client"], w["csf"])) == 2
