"""Crosswalks on the pages through AppTest: the client's pre-fill panel with its counts, proposed
answers confirmed and dismissed, where an answer came from, answers reused within a client, the
reviewer's provenance filters, and another organisation kept out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import db
from core.assessments import start_assessment
from core.banks.store import load_bank
from core.errors import AccessDenied
from core.mappings.prefill import apply_prefill, plan_prefill, prefill_sources
from core.mappings.proposals import confirm_proposal, dismiss_proposal, list_proposals
from core.mappings.reuse import reusable_answers, reuse_answer
from core.models import AnswerProposal, Question, QuestionnaireResponse
from core.responses import AnswerInput, save_answers
from core.text import md_escape
from tests.apptest import rerun, signed_in
from tests.factories import World, csv_mapping, newest_bank_id
from tests.support.words import page_problems

CSF, LOW = "nist-csf-2.0", "nist-800-53-r5-low"
MAPPING_KEY = "csf-to-low-reviewed"
MAPPING_TITLE = "CSF 2.0 to SP 800-53 LOW, reviewed"
# One link of each kind: two carried (ac-1, ac-2), two proposed (at-1, at-2), one to a question
# answered already (ac-3) and one unrelated (au-1).
MAPPING_CSV = """GV.OC-01,AC-1,equal-to
GV.OC-02,AC-2,superset-of
GV.OC-03,AT-1,subset-of
GV.OC-04,AT-2,intersects-with
GV.OC-05,AC-3,equal-to
GV.RM-01,AU-1,no-relationship
"""
SOURCE_ANSWERS = {
    "gv.oc-01": "adaptive",  # -> Yes
    "gv.oc-02": "repeatable",  # -> Partially
    "gv.oc-03": "adaptive",
    "gv.oc-04": "partial",  # -> No
    "gv.oc-05": "adaptive",
}
TIERS = ("partial", "risk-informed", "repeatable", "adaptive")
COUNTS = "2 answers carried, 2 proposed for you to confirm, 1 already answered, 144 not covered"


def store_test_mapping(url: str) -> None:
    """A mapping of every relationship, newer than the shipped one (so the page offers it)."""
    csv_mapping(url, MAPPING_CSV, key=MAPPING_KEY, title=MAPPING_TITLE)


def build(w: World) -> World:
    """An organisation whose product has an approved CSF 2.0 assessment (with evidence on one
    answer) and an SP 800-53 LOW one with one answer (and its file) given by hand, its client
    and a lead reviewer."""
    store_test_mapping(w.url)
    org = w.org("Acme Ltd")
    client = w.person("client", org, "acme")
    reviewer = w.person("lead_reviewer", None, "lee")
    product = w.product(client, "Web Shop")
    with db.transaction(w.url) as s:
        csf = start_assessment(
            s, client, product_id=product, questionnaire_id=newest_bank_id(w.url, CSF)
        )
        bank = load_bank(s, csf.questionnaire_id)
        csf = csf.id
    answers = {q.key: AnswerInput(TIERS[i % 4]) for i, q in enumerate(bank.questions)}
    answers |= {k: AnswerInput(v) for k, v in SOURCE_ANSWERS.items()}
    w.answer(client, csf, answers)
    w.evidence(client, csf, "gv.oc-01", "mission-statement.pdf")
    w.submit(client, csf)
    w.decide(reviewer, csf)
    with db.transaction(w.url) as s:
        low = start_assessment(
            s, client, product_id=product, questionnaire_id=newest_bank_id(w.url, LOW)
        )
        save_answers(s, client, low.id, {"ac-3": AnswerInput("no")})  # answered by hand
        low = low.id
    w.evidence(client, low, "ac-3", "access-policy.pdf")
    w.name(org=org, client=client, reviewer=reviewer, product=product, csf=csf, low=low)
    return w


@pytest.fixture
def world(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SECURESPHERE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SECURESPHERE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SECURESPHERE_BCRYPT_ROUNDS", "4")
    return build(World(sqlite_url, tmp_path / "data"))


def _open(w: World, username: str, aid: int, page: str = "pages/questionnaire.py", section=None):
    at = signed_in(w.url, username).run()
    at.query_params["assessment"] = str(aid)
    at = at.switch_page(page).run()
    assert not at.exception
    if section is not None:
        key = f"ws{aid}:section" if page.endswith("questionnaire.py") else f"rsec{aid}"
        widget = at.radio(key=key) if page.endswith("questionnaire.py") else at.selectbox(key=key)
        widget.set_value(section)
        rerun(at)
        assert not at.exception
    return at


def _prefill(w: World) -> None:
    with db.transaction(w.url) as s:
        apply_prefill(s, w["client"], w["low"], w["csf"], mapping_key=MAPPING_KEY)


def _rows(w: World, aid: int) -> dict[str, QuestionnaireResponse]:
    with db.reading(w.url) as s:
        return dict(
            s.execute(
                select(Question.key, QuestionnaireResponse)
                .join(Question, Question.id == QuestionnaireResponse.question_id)
                .where(QuestionnaireResponse.assessment_id == aid)
            ).all()
        )


def _proposal_rows(w: World) -> set[str]:
    with db.reading(w.url) as s:
        return set(
            s.scalars(
                select(Question.key)
                .join(AnswerProposal, AnswerProposal.question_id == Question.id)
                .where(AnswerProposal.assessment_id == w["low"])
            )
        )


def _texts(at) -> str:
    """The page's Markdown, captions and successes as read (Markdown escapes dropped)."""
    shown = (e.value for kind in (at.markdown, at.caption, at.success) for e in kind if e.value)
    return "\n".join(shown).replace("\\", "")


def _value(at, question: str):
    return next(r for r in at.radio if r.key and r.key.endswith(f":{question}:v")).value


def test_the_panel_previews_the_counts_and_pre_fill_stores_answers_and_proposals(world):
    w = world
    at = _open(w, "acme", w["low"])
    (panel,) = [e for e in at.expander if e.label == "Pre-fill from another framework"]
    (picker,) = panel.selectbox
    assert picker.label == "Pre-fill from"
    assert picker.options == [
        f"NIST Cybersecurity Framework 2.0, cycle 1 (Approved) through '{MAPPING_TITLE}'"
    ]
    shown = "\n".join(m.value for m in panel.markdown)
    assert f"**What it would give:** {COUNTS}." in shown
    assert "count nowhere until you confirm them" in shown and "**weakest**" in shown
    assert "unrelated" in shown and "**linked, not copied**" in shown
    assert _rows(w, w["low"]).keys() == {"ac-3"}  # the preview wrote nothing
    panel.button(key=f"ws{w['low']}:prefill-go").click()
    rerun(at)
    assert not at.exception and not at.error
    assert f"Pre-filled from NIST Cybersecurity Framework 2.0: {COUNTS}." in _texts(at)
    rows = _rows(w, w["low"])
    assert {k: (r.value, r.origin and r.origin["kind"]) for k, r in rows.items()} == {
        "ac-1": ("yes", "carried"),
        "ac-2": ("partial", "carried"),
        "ac-3": ("no", None),  # answered already: left alone
    }
    assert rows["ac-1"].origin["mapping"] == MAPPING_KEY
    assert _proposal_rows(w) == {"at-1", "at-2"}
    # the inputs show the carried answers, each with where it came from and the source's file
    assert (_value(at, "ac-1"), _value(at, "ac-2"), _value(at, "ac-3")) == ("yes", "partial", "no")
    texts = _texts(at)
    assert "Carried from NIST Cybersecurity Framework 2.0 (cycle 1) of Web Shop" in texts
    assert 'GV.OC-01 answered "Adaptive"' in texts
    assert "Evidence of the source answer (linked, not copied):" in texts
    files = [d for d in at.get("download_button") if "mission" in d.proto.label]
    assert len(files) == 1 and files[0].proto.label == md_escape("mission-statement.pdf")


def test_a_proposal_confirmed_becomes_an_answer_and_one_dismissed_disappears(world):
    w = world
    _prefill(w)
    aid = w["low"]
    at = _open(w, "acme", aid, section="at")
    texts = _texts(at)
    assert "**Proposed: Yes** — Proposed from NIST Cybersecurity Framework 2.0" in texts
    assert "**Proposed: No** — " in texts
    assert texts.count("A proposed answer does not count until you confirm it.") == 2
    assert _value(at, "at-1") is None  # counts nowhere yet
    at.button(key=f"ws{aid}:proposal:at-1:confirm").click()
    rerun(at)
    assert not at.exception and not at.error
    row = _rows(w, aid)["at-1"]
    assert (row.value, row.origin["kind"]) == ("yes", "confirmed")
    assert _proposal_rows(w) == {"at-2"}
    assert _value(at, "at-1") == "yes"
    assert "Confirmed from NIST Cybersecurity Framework 2.0" in _texts(at)
    assert "Confirmed: Yes." in _texts(at)
    at.button(key=f"ws{aid}:proposal:at-2:dismiss").click()
    rerun(at)
    assert not at.exception and not at.error
    assert _proposal_rows(w) == set() and "at-2" not in _rows(w, aid)
    assert "Proposal dismissed." in _texts(at)
    assert "Proposed:" not in _texts(at)
    assert not [b for b in at.button if b.key and ":proposal:" in b.key]


def test_confirm_all_confirms_every_proposal_of_the_section(world):
    w = world
    _prefill(w)
    aid = w["low"]
    at = _open(w, "acme", aid, section="at")
    at.button(key=f"ws{aid}:confirm-all:at").click()
    rerun(at)
    assert not at.exception and not at.error
    rows = _rows(w, aid)
    assert {k: (rows[k].value, rows[k].origin["kind"]) for k in ("at-1", "at-2")} == {
        "at-1": ("yes", "confirmed"),
        "at-2": ("no", "confirmed"),
    }
    assert _proposal_rows(w) == set()
    assert not [b for b in at.button if b.key and ":confirm-all:" in b.key]


def _cards(at) -> list[str]:
    """The question keys of the answer cards on the review page, in order."""
    return [m.value.split("`")[1] for m in at.markdown if m.value.startswith("`")]


def test_the_reviewer_sees_where_answers_came_from_and_filters_by_it(world):
    w = world
    _prefill(w)
    with db.transaction(w.url) as s:
        confirm_proposal(s, w["client"], w["low"], "at-1")
        save_answers(s, w["client"], w["low"], {"ac-2": AnswerInput("no")})  # changed
    at = _open(w, "lee", w["low"], page="pages/review.py", section="ac")
    assert _cards(at) == ["ac-1", "ac-2", "ac-3"]
    texts = _texts(at)
    assert "Carried from NIST Cybersecurity Framework 2.0 (cycle 1) of Web Shop" in texts
    assert ":orange-badge[Changed after carrying] it was “Partially”. Carried from" in texts
    assert "Evidence of the source answer (linked, not copied):" in texts
    assert not [e for e in at.expander if e.label == "Pre-fill from another framework"]
    show = at.radio(key=f"filter{w['low']}")
    for wanted, section, cards in [
        ("Carried", "ac", ["ac-1"]),
        ("Changed after carrying", "ac", ["ac-2"]),
        ("Confirmed", "at", ["at-1"]),
        ("Reused", "at", []),
    ]:
        show.set_value(wanted)
        at.selectbox(key=f"rsec{w['low']}").set_value(section)
        rerun(at)
        assert not at.exception
        assert _cards(at) == cards, wanted
        show = at.radio(key=f"filter{w['low']}")


def test_an_earlier_answer_of_the_organisation_is_offered_and_reused(world):
    w = world
    _prefill(w)
    second = w.product(w["client"], "Mobile App")
    with db.transaction(w.url) as s:
        aid = start_assessment(
            s, w["client"], product_id=second, questionnaire_id=newest_bank_id(w.url, LOW)
        ).id
    at = _open(w, "acme", aid)
    assert not [e for e in at.expander if e.label == "Pre-fill from another framework"]
    offers = [c for c in _texts(at).splitlines() if "Answered before for Web Shop" in c]
    assert any(": No" in o and "through" not in o for o in offers)  # ac-3, the same question
    assert any(
        "of NIST Cybersecurity Framework 2.0 answered “" in o and ", through “" in o for o in offers
    )  # through a mapping, from the other framework's answers
    button = at.button(key=f"ws{aid}:reuse:ac-3:{w['low']}")
    assert button.label == "Use this answer"
    button.click()
    rerun(at)
    assert not at.exception and not at.error
    row = _rows(w, aid)["ac-3"]
    assert (row.value, row.origin["kind"], row.origin["product"]) == ("no", "reused", "Web Shop")
    assert _value(at, "ac-3") == "no"
    assert "Reused from" in _texts(at) and "Answer reused from Web Shop." in _texts(at)
    assert not [b for b in at.button if b.key and b.key.startswith(f"ws{aid}:reuse:ac-3:")]


def test_a_client_of_another_organisation_sees_nothing_and_core_refuses(world):
    w = world
    _prefill(w)
    other = w.org("Other Ltd")
    outsider = w.person("client", other, "outsider")
    theirs = w.product(outsider, "Their App")
    with db.transaction(w.url) as s:
        own = start_assessment(
            s, outsider, product_id=theirs, questionnaire_id=newest_bank_id(w.url, LOW)
        ).id
    at = _open(w, "outsider", w["low"])  # asks for ours, gets shown their own
    assert at.query_params["assessment"] in (str(own), [str(own)])
    assert not [e for e in at.expander if e.label == "Pre-fill from another framework"]
    assert not [b for b in at.button if b.label in ("Use this answer", "Confirm", "Dismiss")]
    assert "Web Shop" not in _texts(at)
    low, csf = w["low"], w["csf"]
    forced = [
        lambda s: prefill_sources(s, outsider, low),
        lambda s: plan_prefill(s, outsider, low, csf),
        lambda s: apply_prefill(s, outsider, low, csf),
        lambda s: apply_prefill(s, outsider, own, csf),  # our answers into their assessment
        lambda s: list_proposals(s, outsider, low),
        lambda s: confirm_proposal(s, outsider, low, "at-1"),
        lambda s: dismiss_proposal(s, outsider, low, "at-1"),
        lambda s: reusable_answers(s, outsider, low),
        lambda s: reuse_answer(s, outsider, low, "ac-3", csf),
    ]
    for call in forced:
        with db.transaction(w.url) as s, pytest.raises(AccessDenied):
            call(s)
    with db.reading(w.url) as s:  # nothing of ours reaches their assessment either
        assert reusable_answers(s, outsider, own) == {}
        assert prefill_sources(s, outsider, own) == []
    assert _proposal_rows(w) == {"at-1", "at-2"}


def test_the_crosswalk_words_are_plain(world):
    """Panel, proposals, captions, offers and filters: no keys, JSON or raw dates on screen."""
    w = world
    _prefill(w)
    with db.transaction(w.url) as s:
        save_answers(s, w["client"], w["low"], {"ac-2": AnswerInput("no")})
    second = w.product(w["client"], "Mobile App")
    with db.transaction(w.url) as s:
        aid = start_assessment(
            s, w["client"], product_id=second, questionnaire_id=newest_bank_id(w.url, LOW)
        ).id
    seen = [
        _open(w, "acme", w["low"], section="ac"),
        _open(w, "acme", w["low"], section="at"),
        _open(w, "acme", aid),
        _open(w, "lee", w["low"], page="pages/review.py", section="ac"),
    ]
    assert "Pre-fill from another framework" in [e.label for e in seen[0].expander]
    assert "Proposed:" in _texts(seen[1]) and "Answered before" in _texts(seen[2])
    for at in seen:
        problems = page_problems(at, user_data={"acme", "lee"})
        assert not problems, "\n".join(sorted(set(problems)))
