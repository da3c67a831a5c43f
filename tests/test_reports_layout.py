"""The reports as a reader sees them: every page drawn by pdftoppm, none blank, nothing running
into the margins; long comments wrap and tables repeat their header on each page; charts are
vector drawings whose labels are text; user text prints as typed; no Chromium, no charts."""

from __future__ import annotations

import re
import time

import pytest

from core import db
from core.access import SYSTEM
from core.report_assessment import assessment_report_pdf
from core.report_charts import RENDERER, TABS, ChartRenderer, report_figure
from core.report_document import build_pdf
from core.report_render import Column, paragraph, table
from tests.support import report_world
from tests.support.pdf import check_pages, flat, read, require_chromium
from tests.support.report_world import LONG_TALK, NOW, long_comment


@pytest.fixture(scope="module")
def world(tmp_path_factory, sqlite_template):
    w = report_world.build(tmp_path_factory.mktemp("layout"), sqlite_template)
    yield w
    RENDERER.close()
    db.dispose_all()


def pdf_of(world, aid: int, renderer: ChartRenderer = RENDERER) -> bytes:
    with db.reading(world.url) as s:
        return assessment_report_pdf(s, SYSTEM, aid, now=NOW, renderer=renderer)


@pytest.mark.parametrize("status", ["not_started", "in_progress", "changes_requested", "approved"])
def test_every_page_is_drawn_and_none_is_blank(world, status, tmp_path):
    pages = check_pages(pdf_of(world, world["ids"][status]), tmp_path)
    assert pages == 1 if status == "not_started" else pages >= 2


def test_long_comments_wrap_and_the_table_header_repeats_on_each_page(world, tmp_path):
    pdf = pdf_of(world, world["long_talk"])
    report = read(pdf)
    # a comment that runs onto the next page goes on under the header row drawn again there
    text = report.flat.replace("WhenWhoOnComment", "")
    for n in range(LONG_TALK):
        assert flat(long_comment(n)) in text, n  # whole, in order, every word kept
    pages = [
        i for i, text in enumerate(report.pages) if "Comment 3:" in text or "Comment 9:" in text
    ]
    spanned = range(min(pages), max(pages) + 1)
    assert len(spanned) >= 3  # the comments run over several pages...
    for i in spanned:  # ...each under the header row again
        assert "WhenWhoOnComment" in flat(report.pages[i]), i
    check_pages(pdf, tmp_path)


def test_charts_are_vector_drawings_whose_labels_are_text(world):
    require_chromium()
    report = read(pdf_of(world, world["ids"]["approved"]))
    # the section chart's axis title and the section table's header, the waterfall's ends
    assert report.words.count("Score (0-100)") >= 2
    waterfall = report.words[report.words.index("What moved since the previous snapshot") :]
    assert "Before" in waterfall and "After" in waterfall and "Overall score" in waterfall


def test_without_chromium_the_report_says_where_its_charts_would_be(world, tmp_path):
    missing = ChartRenderer(path=str(tmp_path / "no-chromium"))
    report = read(pdf_of(world, world["ids"]["approved"], missing))
    assert f"Chart not drawn: Charts need Chromium at {tmp_path / 'no-chromium'}" in report.words
    assert "Questions that cost the most points" in report.words  # the tables are all there
    assert not missing.running


def test_user_text_prints_exactly_as_typed():
    typed = (
        'Tom & Jerry <b>bold</b> <img src="/etc/passwd"/> <a href="https://x.test">link</a>\nnext'
    )
    pdf = build_pdf(
        [
            paragraph(typed),
            table([Column("Name", 0.5), Column("Plain", 0.5, wrap=False)], [(typed, "a<b")]),
        ],
        title="Escapes <i>x</i>",
        subject="test",
        generated=NOW,
    )
    report = read(pdf)
    assert report.words.count(" ".join(typed.split())) == 2  # the paragraph and the table cell
    assert "a<b" in report.words and "Escapes <i>x</i>" in report.pages[0]


def _same_drawing(svg: bytes) -> bytes:
    """The SVG without the random id Plotly gives each graph."""
    uid = re.search(rb'id="defs-(\w+)"', svg)
    assert uid, svg[:200]
    return svg.replace(uid[1], b"UID")


def test_nothing_carries_over_from_one_chart_to_the_next():
    require_chromium()
    import plotly.graph_objects as go

    renderer = ChartRenderer()
    bars = report_figure(go.Figure(go.Bar(x=["a", "b"], y=[1, 2])), height=200)
    other = report_figure(go.Figure(go.Scatter(x=[1, 2], y=[3, 1], name="x")), height=260)
    other.update_layout(showlegend=True, font_size=20, yaxis_range=[0, 10])
    try:
        first = renderer.svgs([bars])[0]
        for _ in range(TABS):  # one at a time, so every tab draws the other figure in between
            renderer.svgs([other])
        assert _same_drawing(first) == _same_drawing(renderer.svgs([bars])[0])
    finally:
        renderer.close()


def test_the_renderer_closes_when_idle_and_starts_again(tmp_path):
    require_chromium()
    import plotly.graph_objects as go

    renderer = ChartRenderer(idle_seconds=0.5)
    figure = report_figure(go.Figure(go.Bar(x=["a"], y=[1])), height=200)
    try:
        assert renderer.svgs([figure])[0].startswith(b"<svg")
        deadline = time.monotonic() + 30
        while renderer.running and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for the idle close, not waiting a fixed time
        assert not renderer.running
        assert renderer.svgs([figure, figure])[1].startswith(b"<svg")
    finally:
        renderer.close()
