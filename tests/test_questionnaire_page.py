"""The client's questionnaire page through AppTest: autosave, conditions, N/A, submit refusal,
the gaps list, evidence limits."""

import itertools
import tomllib

from sqlalchemy import func, select

from core import assessments, db, responses, review, submission
from core.access import SYSTEM, Actor
from core.banks.store import load_bank
from core.models import Assessment, AuditLog, EvidenceFile, Product, User
from core.products import create_product
from core.responses import answer_details
from core.settings import SETTINGS, update_setting
from core.text import md_escape
from tests.apptest import ROOT, rerun, signed_in
from tests.factories import baseline_id

_names = itertools.count(1)


def _assessment(url, product, cycle=1):
    with db.reading(url) as s:
        return s.scalar(
            select(Assessment.id)
            .join(Product, Product.id == Assessment.product_id)
            .where(Product.name == product, Assessment.cycle == cycle)
        )


def _open(url, username, assessment_id):
    at = signed_in(url, username).run()
    at.query_params["assessment"] = str(assessment_id)
    return at.switch_page("pages/questionnaire.py").run()


def _stored(url, client_actor, assessment_id):
    with db.reading(url) as s:
        return answer_details(s, client_actor, assessment_id)


def _fresh(url, username="demo_client"):
    """A new product of the user's organisation with a not-started baseline assessment."""
    with db.transaction(url) as s:
        user = s.scalar(select(User).where(User.username == username))
        client = Actor(user.id, user.username, user.role, user.organization_id)
        product = create_product(
            s, client, organization_id=user.organization_id, name=f"Fresh product {next(_names)}"
        )
        return assessments.start_assessment(
            s, client, product_id=product.id, questionnaire_id=baseline_id(url)
        ).id


def _saved_notes(at):
    return [c.value for c in at.caption if "Saved" in c.value]


def test_answering_one_question_stores_that_answer_only_and_says_so(app_env):
    aid = _fresh(app_env)
    at = _open(app_env, "demo_client", aid)
    assert not at.exception
    assert at.title[0].value == "Questionnaire"
    assert not [d for d in at.date_input if d.key.endswith("gov-policy-review:v")]
    at.radio(key=f"ws{aid}:gov-policy:v").set_value("yes")
    rerun(at)
    assert not at.exception
    assert [d for d in at.date_input if d.key.endswith("gov-policy-review:v")]
    assert [n for n in _saved_notes(at) if "Saved 1 change " in n]
    stored = _stored(app_env, at.session_state["actor"], aid)
    # The other questions of the section were untouched: their empty widgets are no answers.
    assert list(stored) == ["gov-policy"] and stored["gov-policy"].value == "yes"
    with db.reading(app_env) as s:
        assert s.get(Assessment, aid).status == "in_progress"
    at.date_input(key=f"ws{aid}:gov-policy-review:v").set_value("2026-01-15")
    rerun(at)
    assert [n for n in _saved_notes(at) if "Saved 1 change " in n]
    assert sorted(_stored(app_env, at.session_state["actor"], aid)) == [
        "gov-policy",
        "gov-policy-review",
    ]


def _defaults_and_stored(at, bank, stored):
    """(question, the widget's own default, the stored answer in the widget's terms) for every
    answer widget on the page: choices (as option positions), justifications and N/A boxes."""
    pairs = []
    for radio in (r for r in at.radio if r.key.endswith(":v")):
        question = radio.key.split(":")[1]
        options = [o.key for o in bank.question(question).options]
        want = stored[question].value if question in stored else None
        default = radio.proto.default if radio.proto.HasField("default") else None
        pairs.append((question, default, options.index(want) if want in options else None))
    for box in (t for t in at.text_area if t.key.endswith(":j")):
        question = box.key.split(":")[1]
        want = stored[question].justification if question in stored else ""
        pairs.append((question, box.proto.default, want))
    for box in (c for c in at.checkbox if c.key.endswith(":na")):
        question = box.key.split(":")[1]
        pairs.append((question, box.proto.default, question in stored and stored[question].is_na))
    return pairs


def test_every_answer_widget_defaults_to_the_stored_answer_on_every_run(app_env):
    """A value Streamlit takes from session state reaches the browser only on the run that put it
    there; when a rerun cuts that run short, the browser shows the widget's default and sends it
    back with the next click, which saved it over the stored answer (seen in Chromium: opening a
    questionnaire and submitting at once rewrote four answers). So each widget's own default must
    be the stored answer, on the first run and on every later one."""
    aid = _assessment(app_env, "Data Warehouse")
    at = _open(app_env, "enterprise_client", aid)
    stored = _stored(app_env, at.session_state["actor"], aid)
    with db.reading(app_env) as s:
        bank = load_bank(s, s.get(Assessment, aid).questionnaire_id)
    for _ in range(2):
        pairs = _defaults_and_stored(at, bank, stored)
        assert len([p for p in pairs if p[1] not in (None, 0, "", False)]) >= 2  # not vacuous
        assert [p for p in pairs if p[1] != p[2]] == []
        rerun(at)


def test_a_change_saves_its_own_question_and_never_another_widgets_state(app_env):
    """Another widget's state can be stale: after a run cut short (Chromium under load showed a
    first answer cleared by the click on the second) or, as here, when a colleague answered
    meanwhile. Each change sends only its own question, so neither is written over."""
    aid = _assessment(app_env, "Data Warehouse")
    at = _open(app_env, "enterprise_client", aid)
    actor = at.session_state["actor"]
    stored = _stored(app_env, actor, aid)
    radios = [r for r in at.radio if r.key.endswith(":v") and r.key.split(":")[1] in stored]
    (first, second), name = radios[:2], (lambda r: r.key.split(":")[1])
    with db.reading(app_env) as s:
        question = load_bank(s, s.get(Assessment, aid).questionnaire_id).question(name(first))
    colleague = next(o.key for o in question.options if o.key != first.value)
    with db.transaction(app_env) as s:  # the page still holds the old answer in its widget
        responses.save_answers(s, actor, aid, {name(first): responses.AnswerInput(colleague)})
    second.set_value(next(o for o in second.options if o != second.value))
    rerun(at)
    assert not at.exception and not at.error
    after = _stored(app_env, actor, aid)
    assert after[name(first)].value == colleague
    assert after[name(second)].value != stored[name(second)].value


def test_hiding_a_question_keeps_it_out_of_the_save(app_env):
    aid = _assessment(app_env, "Internal HR System")
    at = _open(app_env, "demo_client", aid)
    at.radio(key=f"ws{aid}:gov-policy:v").set_value("yes")
    rerun(at)
    at.date_input(key=f"ws{aid}:gov-policy-review:v").set_value("2026-01-15")
    rerun(at)
    at.radio(key=f"ws{aid}:gov-policy:v").set_value("no")
    rerun(at)
    assert not at.exception and not at.error
    stored = _stored(app_env, at.session_state["actor"], aid)
    assert stored["gov-policy"].value == "no"
    assert stored["gov-policy-review"].value == "2026-01-15"  # kept, but hidden: counts nowhere


def test_not_applicable_is_saved_without_a_value(app_env):
    aid = _assessment(app_env, "Internal HR System")
    with db.reading(app_env) as s:
        bank = load_bank(s, s.get(Assessment, aid).questionnaire_id)
    question = next(q for q in bank.questions if q.allow_na and q.condition is None)
    at = _open(app_env, "demo_client", aid)
    at.radio(key=f"ws{aid}:section").set_value(question.section_key)
    rerun(at)
    at.checkbox(key=f"ws{aid}:{question.key}:na").check()
    rerun(at)
    assert not at.exception and not at.error
    stored = _stored(app_env, at.session_state["actor"], aid)
    assert stored[question.key].is_na is True and stored[question.key].value is None


def _gap_buttons(at, aid):
    return [b for b in at.button if b.key and b.key.startswith(f"ws{aid}:gap:")]


def test_submit_with_gaps_lists_them_by_section_and_text_and_each_opens_its_section(app_env):
    aid = _fresh(app_env)
    at = _open(app_env, "demo_client", aid)
    at.radio(key=f"ws{aid}:gov-policy:v").set_value("yes")
    rerun(at)
    next(b for b in at.button if b.label == "Submit for review").click()
    rerun(at)
    assert not at.exception
    with db.reading(app_env) as s:
        a = s.get(Assessment, aid)
        missing, bank = submission.missing_items(s, a), load_bank(s, a.questionnaire_id)
        assert a.status == "in_progress"
    nav = next(c for c in at.columns if any(b.label == "Submit for review" for b in c.button))
    refusal = [e.value for e in nav.error]
    assert len(refusal) == 1 and "required answers or evidence files are missing" in refusal[0]
    assert "gov-" not in refusal[0] and f"{len(missing)} required" in refusal[0]
    buttons = _gap_buttons(at, aid)
    assert len(buttons) == len(missing)
    assert [b.key.split(":gap:")[1] for b in buttons] == [m.key for m in missing]
    for button, item in zip(buttons, missing, strict=False):
        assert button.label.startswith(md_escape(item.text)[:40])
        assert item.key not in button.label
    answers = sum(m.what == "answer" for m in missing)
    heading = next(m.value for m in at.markdown if "Missing before you can submit" in m.value)
    assert f"{len(missing)} items" in heading and f"{answers} answers" in heading
    assert (f"{len(missing) - answers} evidence file" in heading) == (len(missing) > answers)
    per_section = {
        e.label.rsplit(": ", 1)[0]: int(e.label.rsplit(": ", 1)[1].split()[0])
        for e in at.expander
        if e.label.endswith(" missing")
    }
    assert sum(per_section.values()) == len(missing)
    assert list(per_section) == list(
        dict.fromkeys(md_escape(bank.section(m.section).title) for m in missing)
    )
    elsewhere = next(b for b, m in zip(buttons, missing, strict=False) if m.section != "governance")
    target = missing[buttons.index(elsewhere)].section
    elsewhere.click()
    rerun(at)
    assert not at.exception
    assert at.radio(key=f"ws{aid}:section").value == target
    assert at.subheader[0].value == bank.section(target).title
    assert _gap_buttons(at, aid), "the list stays while something is missing"


def test_submitted_assessment_is_read_only(app_env):
    with db.reading(app_env) as s:
        aid = s.scalar(
            select(Assessment.id)
            .join(Product, Product.id == Assessment.product_id)
            .join(User, User.organization_id == Product.organization_id)
            .where(User.username == "demo_client", Assessment.status == "submitted")
            .limit(1)
        )
    at = _open(app_env, "demo_client", aid)
    assert any("read-only" in i.value for i in at.info)
    assert all(
        r.disabled for r in at.radio if r.key.startswith(f"ws{aid}:") and r.key.endswith(":v")
    )
    assert not [b for b in at.button if b.label == "Submit for review"]


def test_another_organisations_assessment_is_not_offered_or_shown(app_env):
    theirs = _assessment(app_env, "Payments Gateway", cycle=3)
    before = max(r.id for r in _audit_rows(app_env))
    at = _open(app_env, "demo_client", theirs)
    assert not at.exception
    offered = at.selectbox[0].options
    assert offered and not any("Payments Gateway" in o for o in offered)
    assert at.query_params["assessment"] != [str(theirs)]
    assert [r for r in _audit_rows(app_env) if r.id > before and r.object_id == str(theirs)] == []


def _audit_rows(url):
    with db.reading(url) as s:
        return s.execute(select(AuditLog.id, AuditLog.action, AuditLog.object_id)).all()


def test_changes_requested_shows_shared_comments_next_to_flagged_answers_only(app_env):
    aid = _assessment(app_env, "Data Warehouse")
    at = _open(app_env, "enterprise_client", aid)
    with db.reading(app_env) as s:
        flagged = review.flagged_keys(s, at.session_state["actor"], aid)
        bank = load_bank(s, s.get(Assessment, aid).questionnaire_id)
    assert flagged
    at.radio(key=f"ws{aid}:section").set_value(bank.question(flagged[0]).section_key)
    rerun(at)
    assert not at.exception
    assert any("asked for changes" in w.value for w in at.warning)
    shown = " ".join(i.value for i in at.info)
    assert "Please describe the control in place" in shown
    assert "looks thin" not in shown  # the reviewer's internal note never reaches the client
    assert at.radio(key=f"ws{aid}:{flagged[0]}:v").disabled is False


def _evidence_count(url, assessment_id):
    with db.reading(url) as s:
        return s.scalar(
            select(func.count())
            .select_from(EvidenceFile)
            .where(EvidenceFile.assessment_id == assessment_id, EvidenceFile.is_active)
        )


def test_a_selection_of_files_past_the_answer_limit_adds_none_of_them(app_env):
    aid = _assessment(app_env, "Internal HR System")
    before = _evidence_count(app_env, aid)
    at = _open(app_env, "demo_client", aid)
    notes = [(f"note {i}.txt", f"note {i}\n".encode(), "text/plain") for i in range(21)]
    at.file_uploader[0].set_value(notes)
    rerun(at)
    assert not at.exception
    assert any("at most 20 evidence files" in e.value for e in at.error)
    assert _evidence_count(app_env, aid) == before
    at.file_uploader[0].set_value(notes[:2])
    rerun(at)
    assert not at.exception and _evidence_count(app_env, aid) == before + 2


def _set_upload_limit(url, mb):
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "upload_max_mb", mb)


def test_the_uploader_states_the_setting_and_a_larger_file_is_refused_beside_it(app_env):
    aid = _fresh(app_env)
    _set_upload_limit(app_env, 2)
    try:
        at = _open(app_env, "demo_client", aid)
        uploader = at.file_uploader[0]
        assert uploader.proto.max_upload_size_mb == 2  # the browser's own "Limit 2MB per file"
        assert "Up to 2 MB per file" in uploader.help and "50" not in uploader.help
        big = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024)
        uploader.set_value([("big.pdf", big, "application/pdf")])
        rerun(at)
        assert not at.exception
        beside = next(e for e in at.expander if e.file_uploader)
        assert any("the limit is 2 MB" in e.value for e in beside.error)
        assert len(at.error) == len(beside.error)  # nowhere else, not at the top of the page
        assert _evidence_count(app_env, aid) == 0
    finally:
        _set_upload_limit(app_env, SETTINGS["upload_max_mb"].default)


def test_the_server_accepts_what_the_largest_setting_allows():
    """Streamlit refuses bigger requests itself, before the uploader or core could say why."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == SETTINGS["upload_max_mb"].high
