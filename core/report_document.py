"""The reports' pages: A4, the document's properties, and a footer on every page with the
document's title, "Page 2 of 9", the time of generation and SecureSphere's version."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from core.labels import format_datetime
from core.report_render import (
    GREY,
    MARGIN,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    RULE,
    TEXT_WIDTH,
    register_fonts,
)
from core.version import VERSION


def _canvas_class(title: str, generated: datetime) -> type[Canvas]:
    """A canvas that holds every page until the end, so each footer can say "Page 2 of 9"."""
    stamp = f"Generated {format_datetime(generated)} · SecureSphere {VERSION}"

    class Numbered(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._held.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # ReportLab's own page reset

        def save(self) -> None:
            for state in self._held:
                self.__dict__.update(state)
                self._footer(len(self._held))
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, MARGIN - 2 * mm, PAGE_WIDTH - MARGIN, MARGIN - 2 * mm)
            self.setFillColor(GREY)
            self.setFont("DejaVuSans", 7.5)
            page = f"Page {self.getPageNumber()} of {total}"
            room = TEXT_WIDTH - self.stringWidth(page, "DejaVuSans", 7.5) - 8 * mm
            self.drawString(MARGIN, MARGIN - 6 * mm, _fit(title, room, 7.5))
            self.drawRightString(PAGE_WIDTH - MARGIN, MARGIN - 6 * mm, page)
            self.drawString(MARGIN, MARGIN - 10 * mm, stamp)
            self.restoreState()

    return Numbered


def _fit(text: str, width: float, size: float) -> str:
    """The text, cut with an ellipsis where it would run past the width."""
    if pdfmetrics.stringWidth(text, "DejaVuSans", size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", "DejaVuSans", size) > width:
        text = text[:-1]
    return text + "…"


def build_pdf(story: list[Flowable], *, title: str, subject: str, generated: datetime) -> bytes:
    """The story as PDF bytes on A4, with the title in the document's properties and footers."""
    register_fonts()
    out = io.BytesIO()
    bottom = MARGIN + 8 * mm  # room for the footer
    # A frame without padding: the text width is exactly TEXT_WIDTH, which tables and charts fill.
    frame = Frame(
        MARGIN,
        bottom,
        TEXT_WIDTH,
        PAGE_HEIGHT - MARGIN - bottom,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        pageTemplates=[PageTemplate("page", [frame])],
        title=title,
        subject=subject,
        author="SecureSphere",
        creator=f"SecureSphere {VERSION}",
    )
    doc.build(story, canvasmaker=_canvas_class(title, generated))
    return out.getvalue()
