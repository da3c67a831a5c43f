"""The questionnaire page folds a control's long help (whole guidance, objectives) under the
question, where a tooltip would hold thousands of characters; short help stays a tooltip."""

from __future__ import annotations

from sqlalchemy import select

from core import assessments, db
from core.access import Actor
from core.banks.store import load_bank
from core.models import Questionnaire, User
from core.products import create_product
from core.text import md_escape
from tests.apptest import signed_in
from ui.questionnaire import LONG_HELP


def _lines(markdown: str) -> tuple[str, ...]:
    # Streamlit drops the trailing spaces of an otherwise blank line; the words stay.
    return tuple(line.strip() for line in markdown.splitlines())


def test_long_help_folds_under_the_question_and_short_help_stays_a_tooltip(app_env):
    url = app_env
    with db.transaction(url) as s:
        user = s.scalar(select(User).where(User.username == "demo_client"))
        client = Actor(user.id, user.username, user.role, user.organization_id)
        product = create_product(
            s, client, organization_id=user.organization_id, name="Low baseline product"
        )
        bank_id = s.scalar(
            select(Questionnaire.id).where(Questionnaire.key == "nist-800-53-r5-low")
        )
        assessment = assessments.start_assessment(
            s, client, product_id=product.id, questionnaire_id=bank_id
        ).id
        questions = load_bank(s, bank_id).sections[0].questions
    at = signed_in(url, "demo_client").run()
    at.query_params["assessment"] = str(assessment)
    at = at.switch_page("pages/questionnaire.py").run()
    assert not at.exception
    long = [q for q in questions if len(q.help or "") > LONG_HELP]
    assert long  # SP 800-53 guidance with its objectives
    folded = [e for e in at.expander if e.label == "Guidance"]
    shown = {_lines(m.value) for e in folded for m in e.markdown}
    assert {_lines(md_escape(q.help, multiline=True)) for q in long} <= shown
    assert all(r.help is None for r in at.radio if r.label.startswith("a. Develop"))
