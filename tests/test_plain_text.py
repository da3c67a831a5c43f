"""User text is plain text: escaped for Markdown and Plotly everywhere it is shown, and refused
when it hides control, bidi or invisible characters (issue 11, items 2 and 3)."""
from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest
from markdown_it import MarkdownIt
from sqlalchemy import func, select, update

from core import assessments, db, review
from core.access import SYSTEM
from core.assessments import AnswerInput
from core.charts import (decisions_figure, heatmap_figure, lost_points_figure, movers_figure,
                         section_box_figure, section_scores_figure, sign_in_figure, trend_figure,
                         waterfall_figure)
from core.errors import ValidationError
from core.models import Assessment, LeadComment, Organization, Product, QuestionnaireResponse, User
from core.organizations import create_organization, update_organization
from core.products import create_product, update_product
from core.text import clean_text, md_escape, name_key, plotly_escape
from core.users import create_user, update_user
from tests.factories import baseline_id, make_actor, make_org, make_product

PAYLOADS = [
    "![pixel](http://evil.test/p.png)",
    "[click](http://evil.test)",
    ":green-badge[Accepted]",
    "**Lee Reviewer** · 3 Mar 2026",
    '<a href="http://evil.test" target="_blank">y</a>',
    "<img src=http://evil.test/p.png>",
    "$x^2$ and $$y$$",
    "# heading\n- item\n> quote\n1. one",
    "| a | b |\n|---|---|\n| c | d |",
    "`code` ~~gone~~ _it_ \\*star\\*",
    "&lt;b&gt; &#60;i&#62; &amp;",
    "<http://evil.test> www.evil.test",
    ":material/check_circle: :red[red]",
    "[ref]: http://evil.test\n[ref]",
]


def _rendered_text(markdown: str) -> str:
    """What a CommonMark renderer shows for markdown, and the tags it would create."""
    out = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    tags = set(re.findall(r"<(\w+)", out)) - {"p", "br"}
    assert not tags, f"{markdown!r} became {out!r}"
    return html.unescape(re.sub(r"<[^>]+>", "", out)).strip()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escaped_markdown_renders_exactly_as_typed(payload):
    assert _rendered_text(md_escape(payload, multiline=True)).replace("\n", "") \
        == payload.replace("\n", "")
    assert _rendered_text(md_escape(payload)) == " ".join(payload.split())


def test_multiline_text_keeps_its_line_breaks():
    out = MarkdownIt("commonmark").render(md_escape("first\nsecond\r\nthird"))
    assert out.count("<br") == 0  # single-line: one label, one line
    out = MarkdownIt("commonmark").render(md_escape("first\nsecond\r\nthird", multiline=True))
    assert out.count("<br") == 2


@pytest.mark.parametrize("text, expected", [
    ('<a href="http://x">y</a>', '&lt;a href="http://x"&gt;y&lt;/a&gt;'),
    ("<b>bold</b><br>", "&lt;b&gt;bold&lt;/b&gt;&lt;br&gt;"),
    ("Tom & Jerry", "Tom &amp; Jerry"),
    (None, ""),
])
def test_plotly_text_is_html_escaped(text, expected):
    assert plotly_escape(text) == expected


EVIL = '<a href="http://x">y</a>'


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _figure_strings(fig) -> list[str]:
    return list(_strings(json.loads(fig.to_json())))


FIGURES = {
    "movers": lambda: movers_figure(pd.DataFrame({
        "product": [EVIL], "organization": [EVIL], "change": [5.0], "start_score": [50.0],
        "end_score": [55.0]})),
    "heatmap": lambda: heatmap_figure(pd.DataFrame({"product": [EVIL], "title": [EVIL], "score": [50.0]})),
    "box": lambda: section_box_figure(
        pd.DataFrame({"title": [EVIL], "q1": [1.0], "median": [2.0], "q3": [3.0], "p05": [0.0],
                      "p95": [4.0], "mean": [2.0]}),
        pd.DataFrame({"title": [EVIL], "score": [2.0], "percentile": [50.0], "standing": ["top half"]}), EVIL),
    "trend": lambda: trend_figure(pd.DataFrame({"group": [EVIL], "month": ["2026-01"], "score": [50.0],
                                                "assessments": [1]})),
    "decisions": lambda: decisions_figure(pd.DataFrame({"reviewer": [EVIL], "month": ["2026-01"],
                                                        "decisions": [2]})),
    "sign_ins": lambda: sign_in_figure(pd.DataFrame({"username": [EVIL], "succeeded": [False]})),
    "sections": lambda: section_scores_figure(pd.DataFrame({
        "section": [EVIL], "score": [50.0], "band": ["Medium"], "answered": [1], "weight": [1.0]})),
    "lost": lambda: lost_points_figure(pd.DataFrame({"question": ["q1"], "section": [EVIL],
                                                     "text": [EVIL], "points_lost": [1.0]})),
    "waterfall": lambda: waterfall_figure(pd.DataFrame({"question": ["q1"], "text": [EVIL],
                                                        "change": [1.0]}), 50.0, 51.0),
}


@pytest.mark.parametrize("name", FIGURES)
def test_chart_labels_show_user_text_as_typed(name):
    shown = _figure_strings(FIGURES[name]())
    assert not [s for s in shown if "<a" in s], shown
    assert any("&lt;a href" in s for s in shown)


def test_a_name_in_a_hover_template_is_not_read_as_a_template():
    fig = trend_figure(pd.DataFrame({"group": ["%{y}"], "month": ["2026-01"], "score": [50.0],
                                     "assessments": [1]}))
    assert "%{y}" not in fig.data[0].hovertemplate.split("<br>")[0]


# --- item 3: hidden characters refused, names normalised ----------------------------------------

BAD = [  # (text, what the message names)
    ("Mobile\u200bApp", "U+200B zero width space"),
    ("Mobile\u200cApp", "U+200C"),
    ("Mobile\u200dApp", "U+200D"),
    ("Mobile\u2060App", "U+2060"),
    ("Mobile\ufeffApp", "U+FEFF"),
    ("Mobile\u00adApp", "U+00AD soft hyphen"),
    ("ppA\u202eMobile", "U+202E right-to-left override"),
    ("Mobile\u202aApp", "U+202A"),
    ("Mobile\u2066App", "U+2066"),
    ("Mobile\u2069App", "U+2069"),
    ("Mobile\u200fApp", "U+200F right-to-left mark"),
    ("Mobile\u061cApp", "U+061C"),
    ("Mobile\x00App", "U+0000"),
    ("Mobile\x1b[31mApp", "U+001B"),
    ("Mobile\x7fApp", "U+007F"),
    ("Mobile\U000e0041App", "U+E0041"),  # a tag character: invisible ASCII smuggling
    ("Mobile\u2028App", "U+2028"),
]
KINDS = {"U+200B": "invisible", "U+202E": "bidirectional", "U+0000": "control"}


@pytest.mark.parametrize("text, named", BAD, ids=[n.split()[0] for _, n in BAD])
def test_clean_text_names_the_hidden_character(text, named):
    with pytest.raises(ValidationError) as err:
        clean_text(text, "The product name", limit=120)
    message = str(err.value)
    assert message.startswith("The product name contains ") and named in message
    assert message.endswith("; remove it.")
    kind = KINDS.get(named.split()[0])
    assert kind is None or kind in message


@pytest.mark.parametrize("text, single, multi", [
    ("  Mobile \u00a0 App  ", "Mobile App", "Mobile \u00a0 App"),  # look-alike spaces collapse
    ("Mobile\tApp", None, "Mobile\tApp"),
    ("Cafe\u0301", "Caf\u00e9", "Caf\u00e9"),  # NFC
    ("a\r\nb", None, "a\nb"),
    ("a\tb\nc", None, "a\tb\nc"),
])
def test_clean_text_normalises(text, single, multi):
    if single is None:
        with pytest.raises(ValidationError, match="control character"):
            clean_text(text, "The name", limit=50)
    else:
        assert clean_text(text, "The name", limit=50) == single
    assert clean_text(text, "The text", limit=50, multiline=True) == multi


def test_name_keys_fold_case_width_and_spaces():
    assert name_key("Mobile App") == name_key(" MOBILE  app ") == name_key("\uff2d\uff4fbile App")
    assert name_key("\u00c9cole") == name_key("\u00e9cole")


@pytest.fixture
def world(db_url):
    org = make_org(db_url)
    client = make_actor(db_url, "client", org)
    reviewer = make_actor(db_url, "lead_reviewer")
    admin = make_actor(db_url, "admin", username="root")
    product = make_product(db_url, client, "Mobile App")
    with db.transaction(db_url) as s:
        a = assessments.start_assessment(s, client, product_id=product,
                                         questionnaire_id=baseline_id(db_url))
        assessments.save_answers(s, client, a.id, {"gov-policy": AnswerInput(value="yes")})
    return {"url": db_url, "org": org, "client": client, "reviewer": reviewer, "admin": admin,
            "product": product, "assessment": a.id}


def _state(url) -> tuple:
    """Everything the refused writes could touch."""
    with db.reading(url) as s:
        return (tuple(s.scalars(select(Product.name).order_by(Product.id))),
                tuple(s.scalars(select(Organization.name).order_by(Organization.id))),
                tuple(s.scalars(select(Organization.industry).order_by(Organization.id))),
                tuple(s.scalars(select(User.name).order_by(User.id))),
                s.scalar(select(func.count()).select_from(LeadComment)),
                tuple(s.execute(select(QuestionnaireResponse.value, QuestionnaireResponse.justification,
                                       QuestionnaireResponse.review_state)
                                .order_by(QuestionnaireResponse.id)).all()))


FIELDS = {  # field -> (what the message calls it, write(session, world, text))
    "new product": ("The product name", lambda s, w, t: create_product(
        s, w["client"], organization_id=w["org"], name=t)),
    "renamed product": ("The product name", lambda s, w, t: update_product(
        s, w["client"], w["product"], name=t, description="", tier="tier_2")),
    "product description": ("The description", lambda s, w, t: create_product(
        s, w["client"], organization_id=w["org"], name="Other", description=t)),
    "new organisation": ("The organisation name", lambda s, w, t: create_organization(
        s, w["admin"], name=t)),
    "renamed organisation": ("The organisation name", lambda s, w, t: update_organization(
        s, w["admin"], w["org"], name=t, industry="Retail", tier="tier_2")),
    "industry": ("The industry", lambda s, w, t: update_organization(
        s, w["admin"], w["org"], name="Acme Ltd", industry=t, tier="tier_2")),
    "new user's name": ("The name", lambda s, w, t: create_user(
        s, w["admin"], username="newbie", name=t, role="analyst", password="plum orchard lantern 7",
        rounds=4)),
    "user's name": ("The name", lambda s, w, t: update_user(
        s, w["admin"], w["reviewer"].user_id, name=t, email="", role="lead_reviewer",
        organization_id=None)),
    "comment": ("The comment", lambda s, w, t: review.add_comment(
        s, w["client"], w["assessment"], t)),
    "text answer": ("The answer to question 'tp-list'", lambda s, w, t: assessments.save_answers(
        s, w["client"], w["assessment"], {"tp-list": AnswerInput(value=t)})),
    "justification": ("The justification of question 'gov-policy'",
                      lambda s, w, t: assessments.save_answers(
                          s, w["client"], w["assessment"],
                          {"gov-policy": AnswerInput(value="no", justification=t)})),
}
CASES = [(f, t, n) for f in FIELDS for t, n in BAD[::4] + [BAD[6], BAD[12]]]


@pytest.mark.parametrize("field, text, named", CASES,
                         ids=[f"{f}-{n.split()[0]}" for f, _, n in CASES])
def test_hidden_characters_are_refused_and_change_nothing(world, field, text, named):
    what, write = FIELDS[field]
    before = _state(world["url"])
    with pytest.raises(ValidationError) as err:
        with db.transaction(world["url"]) as s:
            write(s, world, text)
    assert str(err.value).startswith(f"{what} contains ") and named in str(err.value)
    assert _state(world["url"]) == before


def test_multiline_fields_keep_tabs_and_newlines(world):
    with db.transaction(world["url"]) as s:
        comment = review.add_comment(s, world["client"], world["assessment"], "Line one\n\tLine two\r\n")
        assessments.save_answers(s, world["client"], world["assessment"], {
            "gov-policy": AnswerInput(value="yes", justification="See:\n- policy.pdf")})
        assert comment.body == "Line one\n\tLine two"


def test_flagging_with_a_hidden_character_flags_nothing(world):
    url, aid = world["url"], world["assessment"]
    with db.transaction(url) as s:  # straight to review: only the flag is under test
        s.execute(update(Assessment).where(Assessment.id == aid).values(status="under_review"))
    before = _state(url)
    with pytest.raises(ValidationError, match="U\\+200B"):
        with db.transaction(url) as s:
            review.set_review_state(s, world["reviewer"], aid, "gov-policy", "needs_changes",
                                    comment="Fix\u200b this")
    assert _state(url) == before


@pytest.mark.parametrize("taken, attempt", [
    ("Mobile App", " Mobile App "),
    ("Mobile App", "mobile  APP"),
    ("Mobile App", "\uff2d\uff4f\uff42\uff49\uff4c\uff45 App"),  # fullwidth letters
    ("\u00c9cole", "\u00e9cole"),  # SQL lower() folds only ASCII on SQLite
    ("Cafe\u0301", "Caf\u00e9"),  # the same word, decomposed and composed
])
def test_product_names_that_look_alike_cannot_coexist(world, taken, attempt):
    url, client = world["url"], world["client"]
    if taken != "Mobile App":
        with db.transaction(url) as s:
            create_product(s, client, organization_id=world["org"], name=taken)
    before = _state(url)
    with pytest.raises(ValidationError, match="already exists"):
        with db.transaction(url) as s:
            create_product(s, client, organization_id=world["org"], name=attempt)
    assert _state(url) == before


def test_renaming_a_product_to_its_own_name_in_other_case_is_allowed(world):
    with db.transaction(world["url"]) as s:
        product = update_product(s, world["client"], world["product"], name="MOBILE app",
                                 description="", tier="tier_2")
        assert product.name == "MOBILE app"


@pytest.mark.parametrize("attempt", ["acme ltd", " ACME  LTD", "\uff21cme Ltd"])
def test_organisation_names_that_look_alike_cannot_coexist(world, attempt):
    before = _state(world["url"])
    with pytest.raises(ValidationError, match="already exists"):
        with db.transaction(world["url"]) as s:
            create_organization(s, SYSTEM, name=attempt)
    assert _state(world["url"]) == before
