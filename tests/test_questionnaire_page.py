"""The client's questionnaire page through AppTest: autosave, conditions, N/A, submit refusal."""
from sqlalchemy import func, select

from core import db, review
from core.assessments import answer_details
from core.banks.store import load_bank
from core.models import Assessment, AuditLog, EvidenceFile, Product
from tests.apptest import rerun, signed_in


def _assessment(url, product, cycle=1):
    with db.reading(url) as s:
        return s.scalar(select(Assessment.id).join(Product, Product.id == Assessment.product_id)
                        .where(Product.name == product, Assessment.cycle == cycle))


def _open(url, username, assessment_id):
    at = signed_in(url, username).run()
    at.query_params["assessment"] = str(assessment_id)
    return at.switch_page("pages/questionnaire.py").run()


def _stored(url, client_actor, assessment_id):
    with db.reading(url) as s:
        return answer_details(s, client_actor, assessment_id)


def test_answering_autosaves_and_reveals_the_conditional_question(app_env):
    aid = _assessment(app_env, "Internal HR System")
    at = _open(app_env, "demo_client", aid)
    assert not at.exception
    assert at.title[0].value == "Questionnaire"
    assert not [d for d in at.date_input if d.key.endswith("gov-policy-review:v")]
    at.radio(key=f"ws{aid}:gov-policy:v").set_value("yes")
    rerun(at)
    assert not at.exception
    assert [d for d in at.date_input if d.key.endswith("gov-policy-review:v")]
    assert any("Saved" in m.value for m in at.success)
    stored = _stored(app_env, at.session_state["actor"], aid)
    assert stored["gov-policy"]["value"] == "yes"
    with db.reading(app_env) as s:
        assert s.get(Assessment, aid).status == "in_progress"


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
    assert stored["gov-policy"]["value"] == "no"
    assert stored["gov-policy-review"]["value"] == "2026-01-15"  # kept, but hidden: counts nowhere


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
    assert stored[question.key]["is_na"] is True and stored[question.key]["value"] is None


def test_incomplete_assessment_is_refused_with_what_is_missing(app_env):
    aid = _assessment(app_env, "Internal HR System")
    at = _open(app_env, "demo_client", aid)
    next(b for b in at.button if b.label == "Submit for review").click()
    rerun(at)
    assert not at.exception
    assert any("required answers or evidence files are missing" in e.value for e in at.error)
    assert any("needs answer" in m.value for m in at.markdown)
    with db.reading(app_env) as s:
        assert s.get(Assessment, aid).status in ("not_started", "in_progress")


def test_submitted_assessment_is_read_only(app_env):
    aid = _assessment(app_env, "Mobile App")
    at = _open(app_env, "demo_client", aid)
    assert any("read-only" in i.value for i in at.info)
    assert all(r.disabled for r in at.radio if r.key.startswith(f"ws{aid}:") and r.key.endswith(":v"))
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
        return s.scalar(select(func.count()).select_from(EvidenceFile).where(
            EvidenceFile.assessment_id == assessment_id, EvidenceFile.is_active))


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
