"""Review desk and review page through AppTest on the demo database."""

import hashlib
import os
from datetime import date
from pathlib import Path

from sqlalchemy import select

from core import db
from core.banks.store import load_bank
from core.models import (
    Assessment,
    EvidenceFile,
    LeadComment,
    Product,
    Question,
    QuestionnaireResponse,
    utcnow,
)
from core.text import md_escape
from tests.apptest import rerun, signed_in


def _assessment(url, product, cycle=1):
    with db.reading(url) as s:
        return s.scalar(
            select(Assessment)
            .join(Product, Product.id == Assessment.product_id)
            .where(Product.name == product, Assessment.cycle == cycle)
        )


def _review(url, username, assessment_id):
    at = signed_in(url, username).run()
    at.query_params["assessment"] = str(assessment_id)
    return at.switch_page("pages/review.py").run()


def test_review_desk_lists_the_queue_with_notices(app_env):
    at = signed_in(app_env, "lead_reviewer").run()
    assert not at.exception and at.title[0].value == "Review desk"
    assert int(at.metric[0].value) >= 1
    queue = at.dataframe[-1].value  # after the resubmissions' list, which the demo has too
    assert {"Mobile App"} <= set(queue["product"])


def test_claim_flag_and_request_changes_from_the_review_page(app_env):
    mobile = _assessment(app_env, "Mobile App")
    at = _review(app_env, "lead_reviewer", mobile.id)
    assert not at.exception
    next(b for b in at.button if b.label == "Claim for review").click()
    rerun(at)
    assert _assessment(app_env, "Mobile App").status == "under_review"
    assert md_escape("You are reviewing this assessment.") in [m.value for m in at.success]
    first = next(t for t in at.text_input if t.key and t.key.startswith("ctext"))
    key = first.key.removeprefix("ctext")
    first.input("Please attach the signed policy.")
    next(
        b for b in at.button if b.label == "Flag: needs changes" and key in (b.form_id or "")
    ).click()
    rerun(at)
    assert not at.exception
    with db.reading(app_env) as s:
        state = s.scalar(
            select(QuestionnaireResponse.review_state)
            .join(Question, Question.id == QuestionnaireResponse.question_id)
            .where(QuestionnaireResponse.assessment_id == mobile.id, Question.key == key)
        )
        assert state == "needs_changes"
        assert (
            s.scalar(
                select(LeadComment.visibility).where(
                    LeadComment.assessment_id == mobile.id, LeadComment.body.like("Please attach%")
                )
            )
            == "shared"
        )
    at.button(key=f"changes{mobile.id}").click()  # "Yes, request changes" in its popover
    rerun(at)
    assert not at.exception
    assert _assessment(app_env, "Mobile App").status == "changes_requested"


def test_reject_needs_a_reason_and_confirmation(app_env):
    gateway = _assessment(app_env, "Payments Gateway", cycle=3)
    at = _review(app_env, "lead_reviewer", gateway.id)
    assert gateway.status == "under_review"
    at.button(key=f"reject{gateway.id}").click()
    rerun(at)
    assert any("reason" in e.value for e in at.error)
    assert _assessment(app_env, "Payments Gateway", cycle=3).status == "under_review"
    at.text_area(key=f"note{gateway.id}").input("Critical controls missing.")
    at.button(key=f"approve{gateway.id}").click()
    rerun(at)
    assert _assessment(app_env, "Payments Gateway", cycle=3).status == "approved"


def test_timeline_tab_shows_the_status_history(app_env):
    warehouse = _assessment(app_env, "Data Warehouse")
    at = _review(app_env, "admin", warehouse.id)
    assert not at.exception
    history = at.dataframe[-1].value
    assert list(history["to"])[-1] == "Changes requested"


def test_client_home_shows_changes_requested_and_reviewer_comments(app_env):
    at = signed_in(app_env, "enterprise_client").run()
    assert not at.exception
    assert any("Data Warehouse" in w.value and "2 answer(s)" in w.value for w in at.warning)
    assert any("Please describe the control" in m.value for m in at.markdown)
    assert not any("looks thin" in m.value for m in at.markdown)


def _legacy_evidence(url, assessment, filename, data, stored=True) -> int:
    """An evidence row and blob written directly, as data stored before uploads were decoded."""
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest[:2]}/{digest}"
    if stored:
        blob = Path(os.environ["SECURESPHERE_DATA_DIR"]) / "evidence" / key
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
    with db.transaction(url) as s:
        first = load_bank(s, assessment.questionnaire_id).sections[0].questions[0].key
        question_id = s.scalar(
            select(Question.id).where(
                Question.questionnaire_id == assessment.questionnaire_id, Question.key == first
            )
        )
        row = EvidenceFile(
            assessment_id=assessment.id,
            question_id=question_id,
            filename=filename,
            content_type="image/png",
            size_bytes=len(data),
            sha256=digest,
            storage_key=key,
            is_active=True,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        s.add(row)
        s.flush()
        return row.id


def _preview(url, evidence_id, assessment):
    at = _review(url, "lead_reviewer", assessment.id)
    at.toggle(key=f"pv{evidence_id}").set_value(True)
    return rerun(at)


def test_a_stored_garbage_image_previews_as_a_plain_message(app_env):
    mobile = _assessment(app_env, "Mobile App")
    fake = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
    at = _preview(app_env, _legacy_evidence(app_env, mobile, "shot.png", fake), mobile)
    assert not at.exception
    assert "This file cannot be previewed; download it to open it." in [i.value for i in at.info]


def test_a_missing_file_previews_as_the_storage_message(app_env):
    mobile = _assessment(app_env, "Mobile App")
    eid = _legacy_evidence(app_env, mobile, "gone.png", b"never stored", stored=False)
    at = _preview(app_env, eid, mobile)
    assert not at.exception
    assert "The evidence file is missing from storage." in [e.value for e in at.error]


def test_each_file_says_beside_its_name_until_when_it_is_valid(app_env):
    mobile = _assessment(app_env, "Mobile App")
    lapsed = _legacy_evidence(app_env, mobile, "old-pentest.png", b"lapsed")
    undated = _legacy_evidence(app_env, mobile, "policy.png", b"undated")
    with db.transaction(app_env) as s:
        s.get(EvidenceFile, lapsed).valid_until = date(2020, 3, 31)
    at = _review(app_env, "lead_reviewer", mobile.id)
    assert not at.exception
    labels = [p.proto.popover.label for p in at.get("popover")]
    assert md_escape("old-pentest.png") + " · Expired after 31 Mar 2020" in labels
    assert md_escape("policy.png") in labels and undated
