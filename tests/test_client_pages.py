"""The client's pages through AppTest: refusals beside their controls, and the reviewer's
decisions with their notes and the status timeline, on My products and the Questionnaire."""

import itertools
import random

from sqlalchemy import select

from core import assessments, comments, db, responses, review, submission
from core.access import Actor
from core.banks.store import load_bank
from core.demo_content import attach_evidence, demo_answers
from core.models import Product, User
from core.products import create_product
from core.timelines import timelines
from tests.apptest import rerun, signed_in
from tests.factories import baseline_id

_names = itertools.count(1)
NOTE = "The incident plan names nobody on call; add the rota."
INTERNAL = "Internal only: this vendor looked shaky last year."


def _actor(url, username):
    with db.reading(url) as s:
        u = s.scalar(select(User).where(User.username == username))
        return Actor(u.id, u.username, u.role, u.organization_id)


def _decided(url, data_dir, decision):
    """A new Demo Corp product whose baseline assessment was answered, submitted, commented on
    internally and then decided (rejected or changes requested) with NOTE; its assessment id."""
    client, reviewer = _actor(url, "demo_client"), _actor(url, "lead_reviewer")
    name = f"Decided product {next(_names)}"
    with db.transaction(url) as s:
        product = create_product(s, client, organization_id=client.organization_id, name=name)
        a = assessments.start_assessment(
            s, client, product_id=product.id, questionnaire_id=baseline_id(url)
        )
        bank = load_bank(s, baseline_id(url))
        answers = demo_answers(bank, 0.8, random.Random(3))
        responses.save_answers(s, client, a.id, answers)
        attach_evidence(s, client, a.id, bank, answers, data_dir)
        submission.submit(s, client, a.id)
    with db.transaction(url) as s:
        review.claim(s, reviewer, a.id)
        comments.add_comment(s, reviewer, a.id, INTERNAL, visibility="internal")
        if decision == "rejected":
            review.decide(s, reviewer, a.id, "rejected", note=NOTE)
        else:
            key = next(iter(answers))
            review.set_review_state(s, reviewer, a.id, key, "needs_changes", comment="Say more.")
            review.request_changes(s, reviewer, a.id, note=NOTE)
    return a.id, name


def _texts(at):
    return [
        e.value for kind in (at.error, at.warning, at.success, at.info, at.markdown) for e in kind
    ]


def test_a_rejection_and_its_note_reach_the_clients_home_with_the_timeline(app_env, demo_url):
    _aid, name = _decided(app_env, demo_url[1] / "data", "rejected")
    at = signed_in(app_env, "demo_client").run()
    assert not at.exception and at.title[0].value == "My products"
    decision = [e.value for e in at.error if name in e.value]
    assert (
        len(decision) == 1
        and "Rejected" in decision[0]
        and NOTE[:30] in decision[0].replace("\\", "")
    )
    timeline = next(
        e
        for e in at.expander
        if e.label.startswith("Status timeline")
        and any(NOTE[:30] in m.value.replace("\\", "") for m in e.markdown)
    )
    events = [m.value for m in timeline.markdown]
    assert [e.split("**")[1] for e in events] == [
        "Rejected",
        "Review started",
        "Submitted for review",
        "Answering started",
    ]
    assert "UTC" in events[0]
    assert not any(INTERNAL[:20] in t for t in _texts(at))
    other = signed_in(app_env, "enterprise_client").run()
    assert not any(name in t or NOTE[:30] in t.replace("\\", "") for t in _texts(other))


def test_a_change_request_and_its_note_reach_the_questionnaire_page(app_env, demo_url):
    aid, _name = _decided(app_env, demo_url[1] / "data", "changes_requested")
    at = signed_in(app_env, "demo_client").run()
    at.query_params["assessment"] = str(aid)
    at.switch_page("pages/questionnaire.py").run()
    assert not at.exception
    notes = [w.value for w in at.warning if "Changes requested" in w.value]
    assert len(notes) == 1 and NOTE[:30] in notes[0].replace("\\", "")
    assert "submit again" in notes[0]
    timeline = next(e for e in at.expander if e.label.startswith("Status timeline"))
    assert "Changes requested" in timeline.markdown[0].value
    assert not any(INTERNAL[:20] in t for t in _texts(at))


def test_core_gives_a_decision_only_to_those_who_may_read_the_assessment(app_env, demo_url):
    aid, _ = _decided(app_env, demo_url[1] / "data", "rejected")
    with db.reading(app_env) as s:
        mine = timelines(s, _actor(app_env, "demo_client"), [aid])
        theirs = timelines(s, _actor(app_env, "enterprise_client"), [aid])
    assert mine[aid][-1].note == NOTE and theirs == {}


def _refusals(at):
    """Refusals and confirmations of actions (decisions are alerts too, with their own icons)."""
    return [e.value for e in at.error if e.icon == ":material/error:"]


def _confirmations(at):
    return [e.value for e in at.success if e.icon == ":material/check_circle:"] + list(at.toast)


def _in_expander(at, label):
    return next(e for e in at.expander if e.label == label)


def _click(at, label):
    next(b for b in at.button if b.label == label).click()
    return rerun(at)


def test_refused_product_names_are_said_inside_the_add_form(app_env):
    at = signed_in(app_env, "demo_client").run()
    existing = _actor(app_env, "demo_client")
    with db.reading(app_env) as s:
        taken = s.scalar(
            select(Product.name).where(Product.organization_id == existing.organization_id)
        )
    for name, refusal in (("", "name is required"), (taken, "already exists")):
        next(t for t in at.text_input if t.label == "Product name").input(name)
        _click(at, "Add product")
        assert not at.exception
        form = _in_expander(at, "Add a product")
        assert [e.value for e in form.error if refusal in e.value], refusal
        assert len(_refusals(at)) == 1 and not _confirmations(at)
    fresh = f"Brand new product {next(_names)}"
    next(t for t in at.text_input if t.label == "Product name").input(fresh)
    _click(at, "Add product")
    assert [m.value for m in _in_expander(at, "Add a product").success if "added" in m.value]
    assert not _refusals(at)


def test_starting_the_same_assessment_twice_is_refused_beside_the_start_button(app_env):
    client = _actor(app_env, "demo_client")
    name = f"Unstarted product {next(_names)}"
    with db.transaction(app_env) as s:
        create_product(s, client, organization_id=client.organization_id, name=name)
    at = signed_in(app_env, "demo_client").run()
    product = next(s for s in at.selectbox if s.label == "Product")
    product.select_index(product.options.index(name))
    _click(at, "Start")
    start = _in_expander(at, "Start an assessment")
    assert [m.value for m in start.success if "Assessment started" in m.value]  # survives the rerun
    _click(at, "Start")
    assert not at.exception
    start = _in_expander(at, "Start an assessment")
    assert [e.value for e in start.error if "already has an open assessment" in e.value]
    assert not _confirmations(at) and len(_refusals(at)) == 1
