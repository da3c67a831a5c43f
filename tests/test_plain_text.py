"""User text is plain text: escaped for Markdown and Plotly everywhere it is shown, and refused
when it hides control, bidi or invisible characters (issue 11, items 2 and 3)."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest
import streamlit as st
from markdown_it import MarkdownIt
from sqlalchemy import String, func, select, update

from core import comments, db, responses, review
from core.access import SYSTEM
from core.activity_charts import sign_in_figure
from core.charts import lost_points_figure, section_scores_figure, waterfall_figure
from core.dashboard_charts import heatmap_figure, section_box_figure
from core.errors import ValidationError
from core.models import (
    Assessment,
    EvidenceFile,
    LeadComment,
    Organization,
    Product,
    Question,
    Questionnaire,
    QuestionnaireResponse,
    Section,
    SignInAttempt,
    User,
)
from core.organizations import create_organization, update_organization
from core.products import create_product, update_product
from core.responses import AnswerInput
from core.review_charts import decisions_figure
from core.text import clean_text, md_escape, name_key, plotly_escape
from core.trend_charts import movers_figure, trend_figure
from core.users import create_user, update_user
from tests.apptest import signed_in
from tests.factories import World
from ui.navigation import PAGES

PAYLOADS = [
    "![pixel](http://evil.test/p.png)",
    "[click](http://evil.test)",
    ":green-badge[Planted]",
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
    assert _rendered_text(md_escape(payload, multiline=True)).replace("\n", "") == payload.replace(
        "\n", ""
    )
    assert _rendered_text(md_escape(payload)) == " ".join(payload.split())


def test_multiline_text_keeps_its_line_breaks():
    out = MarkdownIt("commonmark").render(md_escape("first\nsecond\r\nthird"))
    assert out.count("<br") == 0  # single-line: one label, one line
    out = MarkdownIt("commonmark").render(md_escape("first\nsecond\r\nthird", multiline=True))
    assert out.count("<br") == 2


@pytest.mark.parametrize(
    "text, expected",
    [
        ('<a href="http://x">y</a>', '&lt;a href="http://x"&gt;y&lt;/a&gt;'),
        ("<b>bold</b><br>", "&lt;b&gt;bold&lt;/b&gt;&lt;br&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        (None, ""),
    ],
)
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
    "movers": lambda: movers_figure(
        pd.DataFrame(
            {
                "product": [EVIL],
                "organization": [EVIL],
                "change": [5.0],
                "start_score": [50.0],
                "end_score": [55.0],
            }
        )
    ),
    "heatmap": lambda: heatmap_figure(
        pd.DataFrame({"product": [EVIL], "title": [EVIL], "score": [50.0]})
    ),
    "box": lambda: section_box_figure(
        pd.DataFrame(
            {
                "title": [EVIL],
                "q1": [1.0],
                "median": [2.0],
                "q3": [3.0],
                "p05": [0.0],
                "p95": [4.0],
                "mean": [2.0],
            }
        ),
        pd.DataFrame(
            {"title": [EVIL], "score": [2.0], "percentile": [50.0], "standing": ["top half"]}
        ),
        EVIL,
    ),
    "trend": lambda: trend_figure(
        pd.DataFrame({"group": [EVIL], "month": ["2026-01"], "score": [50.0], "assessments": [1]})
    ),
    "decisions": lambda: decisions_figure(
        pd.DataFrame({"reviewer": [EVIL], "month": ["2026-01"], "decisions": [2]})
    ),
    "sign_ins": lambda: sign_in_figure(pd.DataFrame({"username": [EVIL], "succeeded": [False]})),
    "sections": lambda: section_scores_figure(
        pd.DataFrame(
            {
                "section": [EVIL],
                "score": [50.0],
                "band": ["Medium"],
                "answered": [1],
                "weight": [1.0],
            }
        )
    ),
    "lost": lambda: lost_points_figure(
        pd.DataFrame({"question": ["q1"], "section": [EVIL], "text": [EVIL], "points_lost": [1.0]})
    ),
    "waterfall": lambda: waterfall_figure(
        pd.DataFrame({"question": ["q1"], "text": [EVIL], "change": [1.0]}), 50.0, 51.0
    ),
}


@pytest.mark.parametrize("name", FIGURES)
def test_chart_labels_show_user_text_as_typed(name):
    shown = _figure_strings(FIGURES[name]())
    assert not [s for s in shown if "<a" in s], shown
    assert any("&lt;a href" in s for s in shown)


def test_a_name_in_a_hover_template_is_not_read_as_a_template():
    fig = trend_figure(
        pd.DataFrame({"group": ["%{y}"], "month": ["2026-01"], "score": [50.0], "assessments": [1]})
    )
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


@pytest.mark.parametrize(
    "text, single, multi",
    [
        ("  Mobile \u00a0 App  ", "Mobile App", "Mobile \u00a0 App"),  # look-alike spaces collapse
        ("Mobile\tApp", None, "Mobile\tApp"),
        ("Cafe\u0301", "Caf\u00e9", "Caf\u00e9"),  # NFC
        ("a\r\nb", None, "a\nb"),
        ("a\tb\nc", None, "a\tb\nc"),
    ],
)
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
def world(db_url, tmp_path):
    w = World(db_url, tmp_path)
    org = w.org()
    client = w.person("client", org)
    w.name(org=org, client=client, reviewer=w.person("lead_reviewer"))
    w.name(admin=w.person("admin", username="root"), product=w.product(client, "Mobile App"))
    w.name(assessment=w.start(client, w["product"]))
    w.answer(client, w["assessment"], {"gov-policy": AnswerInput(value="yes")})
    return w


def _state(url) -> tuple:
    """Everything the refused writes could touch."""
    with db.reading(url) as s:
        return (
            tuple(s.scalars(select(Product.name).order_by(Product.id))),
            tuple(s.scalars(select(Organization.name).order_by(Organization.id))),
            tuple(s.scalars(select(Organization.industry).order_by(Organization.id))),
            tuple(s.scalars(select(User.name).order_by(User.id))),
            s.scalar(select(func.count()).select_from(LeadComment)),
            tuple(
                s.execute(
                    select(
                        QuestionnaireResponse.value,
                        QuestionnaireResponse.justification,
                        QuestionnaireResponse.review_state,
                    ).order_by(QuestionnaireResponse.id)
                ).all()
            ),
        )


FIELDS = {  # field -> (what the message calls it, write(session, world, text))
    "new product": (
        "The product name",
        lambda s, w, t: create_product(s, w["client"], organization_id=w["org"], name=t),
    ),
    "renamed product": (
        "The product name",
        lambda s, w, t: update_product(
            s, w["client"], w["product"], name=t, description="", tier="tier_2"
        ),
    ),
    "product description": (
        "The description",
        lambda s, w, t: create_product(
            s, w["client"], organization_id=w["org"], name="Other", description=t
        ),
    ),
    "new organisation": (
        "The organisation name",
        lambda s, w, t: create_organization(s, w["admin"], name=t),
    ),
    "renamed organisation": (
        "The organisation name",
        lambda s, w, t: update_organization(
            s, w["admin"], w["org"], name=t, industry="Retail", tier="tier_2"
        ),
    ),
    "industry": (
        "The industry",
        lambda s, w, t: update_organization(
            s, w["admin"], w["org"], name="Acme Ltd", industry=t, tier="tier_2"
        ),
    ),
    "new user's name": (
        "The name",
        lambda s, w, t: create_user(
            s,
            w["admin"],
            username="newbie",
            name=t,
            role="analyst",
            password="plum orchard lantern 7",
            rounds=4,
        ),
    ),
    "user's name": (
        "The name",
        lambda s, w, t: update_user(
            s,
            w["admin"],
            w["reviewer"].user_id,
            name=t,
            email="",
            role="lead_reviewer",
            organization_id=None,
        ),
    ),
    "comment": (
        "The comment",
        lambda s, w, t: comments.add_comment(s, w["client"], w["assessment"], t),
    ),
    "text answer": (
        "The answer to question 'tp-list'",
        lambda s, w, t: responses.save_answers(
            s, w["client"], w["assessment"], {"tp-list": AnswerInput(value=t)}
        ),
    ),
    "justification": (
        "The justification of question 'gov-policy'",
        lambda s, w, t: responses.save_answers(
            s,
            w["client"],
            w["assessment"],
            {"gov-policy": AnswerInput(value="no", justification=t)},
        ),
    ),
}
CASES = [(f, t, n) for f in FIELDS for t, n in BAD[::4] + [BAD[6], BAD[12]]]


@pytest.mark.parametrize(
    "field, text, named", CASES, ids=[f"{f}-{n.split()[0]}" for f, _, n in CASES]
)
def test_hidden_characters_are_refused_and_change_nothing(world, field, text, named):
    what, write = FIELDS[field]
    before = _state(world.url)
    with pytest.raises(ValidationError) as err, db.transaction(world.url) as s:
        write(s, world, text)
    assert str(err.value).startswith(f"{what} contains ") and named in str(err.value)
    assert _state(world.url) == before


def test_multiline_fields_keep_tabs_and_newlines(world):
    with db.transaction(world.url) as s:
        comment = comments.add_comment(
            s, world["client"], world["assessment"], "Line one\n\tLine two\r\n"
        )
        responses.save_answers(
            s,
            world["client"],
            world["assessment"],
            {"gov-policy": AnswerInput(value="yes", justification="See:\n- policy.pdf")},
        )
        assert comment.body == "Line one\n\tLine two"


def test_flagging_with_a_hidden_character_flags_nothing(world):
    url, aid = world.url, world["assessment"]
    with db.transaction(url) as s:  # straight to review: only the flag is under test
        s.execute(update(Assessment).where(Assessment.id == aid).values(status="under_review"))
    before = _state(url)
    with pytest.raises(ValidationError, match="U\\+200B"), db.transaction(url) as s:
        review.set_review_state(
            s, world["reviewer"], aid, "gov-policy", "needs_changes", comment="Fix\u200b this"
        )
    assert _state(url) == before


@pytest.mark.parametrize(
    "taken, attempt",
    [
        ("Mobile App", " Mobile App "),
        ("Mobile App", "mobile  APP"),
        ("Mobile App", "\uff2d\uff4f\uff42\uff49\uff4c\uff45 App"),  # fullwidth letters
        ("\u00c9cole", "\u00e9cole"),  # SQL lower() folds only ASCII on SQLite
        ("Cafe\u0301", "Caf\u00e9"),  # the same word, decomposed and composed
    ],
)
def test_product_names_that_look_alike_cannot_coexist(world, taken, attempt):
    url, client = world.url, world["client"]
    if taken != "Mobile App":
        with db.transaction(url) as s:
            create_product(s, client, organization_id=world["org"], name=taken)
    before = _state(url)
    with pytest.raises(ValidationError, match="already exists"), db.transaction(url) as s:
        create_product(s, client, organization_id=world["org"], name=attempt)
    assert _state(url) == before


def test_renaming_a_product_to_its_own_name_in_other_case_is_allowed(world):
    with db.transaction(world.url) as s:
        product = update_product(
            s, world["client"], world["product"], name="MOBILE app", description="", tier="tier_2"
        )
        assert product.name == "MOBILE app"


@pytest.mark.parametrize("attempt", ["acme ltd", " ACME  LTD", "\uff21cme Ltd"])
def test_organisation_names_that_look_alike_cannot_coexist(world, attempt):
    before = _state(world.url)
    with pytest.raises(ValidationError, match="already exists"):
        with db.transaction(world.url) as s:
            create_organization(s, SYSTEM, name=attempt)
    assert _state(world.url) == before


# --- item 2 through the pages: a database whose user text is all Markdown and HTML payload --------

PAYLOAD = (
    "![p](http://evil.test/p.png)[c](http://evil.test):green-badge[Planted]"
    '**Lee Reviewer** <a href="http://evil.test">y</a>$m$'
)
# Each payload part as it would take effect: not preceded by the backslash that escapes it.
RAW = re.compile(r"(?<!\\)(!\[|\]\(|:green-badge\[Planted|\*\*Lee|<a |\$m)")
MARKDOWN_FIELDS = {"body", "label", "help", "title", "captions", "content"}
PLAIN_MESSAGES = {
    "Text",
    "Code",
    "Json",
    "Exception",
    "Selectbox",
    "MultiSelect",
    "TextInput",
    "TextArea",
    "PlotlyChart",
    "Arrow",
    "DataFrame",
}


def _markdown_strings(message, inside: str = "") -> list[str]:
    """Every string Streamlit renders as Markdown in a proto: bodies, labels, help, radio options."""
    found = []
    name = message.DESCRIPTOR.name
    if name in PLAIN_MESSAGES:
        return found
    for field, value in message.ListFields():
        values = value if isinstance(value, (list, tuple)) or hasattr(value, "extend") else [value]
        for item in values:
            if isinstance(item, str):
                if field.name in MARKDOWN_FIELDS or (name == "Radio" and field.name == "options"):
                    found.append(item)
            elif hasattr(item, "DESCRIPTOR"):
                found += _markdown_strings(item, name)
    return found


def _nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def _shown(at) -> tuple[list[str], list[str]]:
    """(Markdown strings, Plotly strings) of everything on the page, toasts included."""
    markdown, plotly = [], []
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None or not hasattr(proto, "DESCRIPTOR"):
            continue
        markdown += _markdown_strings(proto)
        if proto.DESCRIPTOR.name == "PlotlyChart":
            plotly += list(_strings(json.loads(proto.spec)))
    return markdown, plotly


def _fill_with_payload(url: str) -> None:
    """Every user-text field of the demo database holds the payload (written as SQL: the payload
    is what an attacker could have typed, and what rows stored before this check may hold)."""
    names = lambda column, tail: func.substr(PAYLOAD, 1, 100) + " " + tail  # noqa: E731
    with db.transaction(url) as s:
        s.execute(update(Product).values(name=names(Product.name, Product.id.cast(String))))
        s.execute(
            update(Organization).values(name=names(Organization.name, Organization.id.cast(String)))
        )
        s.execute(update(User).values(name=PAYLOAD + " " + User.username))
        s.execute(update(LeadComment).values(body=PAYLOAD + "\nsecond line"))
        s.execute(update(QuestionnaireResponse).values(justification=PAYLOAD))
        s.execute(update(EvidenceFile).values(filename=PAYLOAD + ".pdf"))
        s.execute(
            update(Questionnaire).values(
                title=PAYLOAD + " " + Questionnaire.key,
                content_sha256=func.substr(Questionnaire.content_sha256, 2) + "x",
            )
        )
        s.execute(update(Section).values(title=PAYLOAD + " " + Section.key))
        s.execute(update(Question).values(text=PAYLOAD + " " + Question.key, help=PAYLOAD))
        for rid, aid, qtype in s.execute(
            select(
                QuestionnaireResponse.id, QuestionnaireResponse.assessment_id, Question.type
            ).join(Question)
        ).all():
            if qtype == "text":
                s.get(QuestionnaireResponse, rid).value = PAYLOAD
            s.add(
                LeadComment(assessment_id=aid, response_id=rid, body=PAYLOAD, visibility="shared")
            )
        for aid in s.scalars(select(Assessment.id)):
            s.add(LeadComment(assessment_id=aid, body=PAYLOAD, visibility="shared"))
        s.add(SignInAttempt(username=PAYLOAD[:64], succeeded=False))  # what a stranger typed


@pytest.fixture(scope="module")
def payload_db(demo_url):
    _fill_with_payload(demo_url[0])
    return demo_url[0]


@pytest.fixture
def shown_env(payload_db, app_env):
    # Aggregates are cached per scope and data version, not per database: start clean.
    st.cache_data.clear()
    st.cache_resource.clear()
    return app_env


USERS = {
    "admin": "admin",
    "lead_reviewer": "lead_reviewer",
    "security_manager": "security_manager",
    "analyst": "analyst",
    "client": "demo_client",
}
ALLOWED = [(role, spec.path) for spec in PAGES for role in spec.roles]


def _assert_plain(at) -> int:
    """No payload part takes effect anywhere on the page; returns how often it is shown escaped."""
    markdown, plotly = _shown(at)
    raw = [m for m in markdown if RAW.search(m)]
    assert not raw, f"unescaped user text reaches Markdown: {raw[:3]}"
    assert not [p for p in plotly if "<a " in p], "unescaped user text reaches a Plotly label"
    start = PAYLOAD[:40]  # names are cut to fit their columns
    return sum(md_escape(start) in m for m in markdown) + sum(
        plotly_escape(start) in p for p in plotly
    )


# Pages that show user text only in tables and select boxes, which render plain text, or none
# at all (the sidebar, checked on every home page, still holds some).
NO_USER_TEXT = {
    "pages/admin_settings.py",
    "pages/extracts.py",
    "pages/profile.py",
    "pages/admin_audit.py",
    "pages/portfolio_home.py",
    "pages/analytics_overview.py",
    "pages/analytics_activity.py",
    "pages/admin_users.py",
    "pages/admin_organizations.py",
    "pages/admin_banks.py",
    "pages/admin_operations.py",
    "pages/admin_notifications.py",  # subjects in its table and select box only
    "pages/colleagues.py",  # invitations in its table and select box only
}


@pytest.mark.parametrize("role, path", ALLOWED, ids=[f"{r}-{p.split('/')[-1]}" for r, p in ALLOWED])
def test_no_page_renders_user_text_as_markdown(shown_env, role, path):
    at = signed_in(shown_env, USERS[role]).run()
    assert not at.exception and _assert_plain(at)  # home page and sidebar (name, organisation)
    at.switch_page(path).run()
    assert not at.exception
    shown = _assert_plain(at)
    assert shown or path in NO_USER_TEXT, (
        "the payload never reached this page: the test proves nothing"
    )


def _open(url, username, page, product):
    with db.reading(url) as s:
        aid = s.scalar(
            select(Assessment.id)
            .join(Product)
            .where(Product.name.endswith(f" {product}"))
            .order_by(Assessment.cycle.desc())
        )
    at = signed_in(url, username).run()
    at.query_params["assessment"] = str(aid)
    return at.switch_page(page).run()


def _under_review(url) -> int:
    with db.reading(url) as s:
        return s.scalar(
            select(Product.id).join(Assessment).where(Assessment.status == "under_review")
        )


def test_review_cards_threads_and_files_show_user_text_as_typed(shown_env):
    at = _open(shown_env, "lead_reviewer", "pages/review.py", _under_review(shown_env))
    assert not at.exception
    markdown, _ = _shown(at)
    assert sum(md_escape(PAYLOAD) in m for m in markdown) >= 4  # title, answer, comments, file
    _assert_plain(at)


def test_questionnaire_shows_comments_labels_and_sections_as_typed(shown_env):
    with db.reading(shown_env) as s:
        product = s.scalar(
            select(Product.id)
            .join(Assessment)
            .join(Organization)
            .where(Assessment.status == "changes_requested", Organization.id == 1)
        )
    at = _open(shown_env, "demo_client", "pages/questionnaire.py", product)
    assert not at.exception
    labels = [w.label for w in (*at.radio, *at.text_area)]
    assert any(label.startswith(md_escape(PAYLOAD)) for label in labels)
    assert any(md_escape(PAYLOAD) in i.value for i in at.info)
    _assert_plain(at)


def test_a_refusal_quoting_the_input_is_shown_as_typed(shown_env):
    at = signed_in(shown_env, "demo_client").run()
    with db.reading(shown_env) as s:
        taken = s.scalar(select(Product.name).join(Organization).where(Organization.id == 1))
    field = next(t for t in at.text_input if t.label == "Product name")
    field.input(taken)
    next(b for b in at.button if b.label == "Add product").click().run()
    assert any("already exists" in e.value for e in at.error)
    assert not [e.value for e in at.error if RAW.search(e.value)]
