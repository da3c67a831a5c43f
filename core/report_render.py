"""The reports' PDF toolkit over ReportLab: Debian's DejaVu fonts, styles, tables that split across
pages with their header row repeated, KPI tiles, vector charts, and a footer on every page with
the page number of the total, the time of generation and SecureSphere's version.

Everything a user typed reaches ReportLab's paragraph markup through pdf_text (escaped, so a
name like "<b>x</b>" or an "<img src>" prints as typed); plain table cells are never parsed.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle
from svglib.svglib import register_font, svg2rlg

from core.errors import SecureSphereError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core
FONTS = {
    "DejaVuSans": "DejaVuSans.ttf",
    "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique": "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono": "DejaVuSansMono.ttf",
}
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 16 * mm
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
NAVY = colors.HexColor("#1f4e79")
GREY = colors.HexColor("#5f6368")
STRIPE = colors.HexColor("#f2f5f9")
RULE = colors.HexColor("#c9d3df")


def _style(name: str, size: float, **extra: Any) -> ParagraphStyle:
    options: dict[str, Any] = {"fontName": "DejaVuSans", "leading": size * 1.3, **extra}
    return ParagraphStyle(name, fontSize=size, **options)


STYLES = {
    "title": _style("title", 20, fontName="DejaVuSans-Bold", textColor=NAVY, spaceAfter=2 * mm),
    "subtitle": _style("subtitle", 12, textColor=GREY, spaceAfter=4 * mm),
    "h1": _style(
        "h1", 13, fontName="DejaVuSans-Bold", textColor=NAVY, spaceBefore=5 * mm, keepWithNext=1
    ),
    "h2": _style(
        "h2",
        10.5,
        fontName="DejaVuSans-Bold",
        spaceBefore=3 * mm,
        spaceAfter=1 * mm,
        keepWithNext=1,
    ),
    "label": _style("label", 9, fontName="DejaVuSans-Bold"),
    "body": _style("body", 9, spaceAfter=1.5 * mm),
    "note": _style("note", 8.5, textColor=GREY, spaceAfter=1.5 * mm),
    "alert": _style(
        "alert",
        9,
        textColor=colors.HexColor("#8a1c1c"),
        backColor=colors.HexColor("#fdecea"),
        borderPadding=2 * mm,
        spaceBefore=2 * mm,
        spaceAfter=3 * mm,
    ),
    "cell": _style("cell", 8),
    "mono": _style("mono", 6.5, fontName="DejaVuSansMono"),
    "head": _style("head", 8, fontName="DejaVuSans-Bold", textColor=colors.white),
    "head_right": _style(
        "head_right", 8, fontName="DejaVuSans-Bold", textColor=colors.white, alignment=TA_RIGHT
    ),
    "tile_value": _style("tile_value", 15, fontName="DejaVuSans-Bold", textColor=NAVY),
    "tile_label": _style("tile_label", 7.5, textColor=GREY),
}
_registered = False


def register_fonts() -> None:
    """Register the DejaVu fonts with ReportLab (text) and svglib (chart labels), once."""
    global _registered
    if _registered:
        return
    missing = [name for name in FONTS.values() if not (FONT_DIR / name).is_file()]
    if missing:
        raise SecureSphereError(
            f"Reports need the DejaVu fonts in {FONT_DIR} (apt-get install -y fonts-dejavu-core)."
        )
    for name, filename in FONTS.items():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
    pdfmetrics.registerFontFamily(
        "DejaVuSans",
        normal="DejaVuSans",
        bold="DejaVuSans-Bold",
        italic="DejaVuSans-Oblique",
        boldItalic="DejaVuSans-BoldOblique",
    )
    for weight, font in (("normal", "DejaVuSans"), ("bold", "DejaVuSans-Bold")):
        register_font("DejaVu Sans", weight=weight, rlgFontName=font)
    _registered = True


def pdf_text(value: object) -> str:
    """User text as paragraph markup that prints exactly as typed (line breaks kept)."""
    return html.escape(str(value), quote=False).replace("\n", "<br/>")


def paragraph(text: object, style: str = "body") -> Paragraph:
    """A paragraph of plain text."""
    register_fonts()
    return Paragraph(pdf_text(text), STYLES[style])


def heading(text: str, level: int = 1) -> Paragraph:
    """A section heading (level 1) or a sub-heading (level 2)."""
    return paragraph(text, "h1" if level == 1 else "h2")


def gap(height_mm: float = 3) -> Spacer:
    """Vertical space."""
    return Spacer(1, height_mm * mm)


@dataclass(frozen=True)
class Column:
    """A table column: its title, its share of the text width and how its cells are drawn."""

    title: str
    width: float
    wrap: bool = True  # False: short text (numbers, dates) drawn as is, a little faster
    align: str = "LEFT"
    mono: bool = False


def table(columns: Sequence[Column], rows: Sequence[Sequence[object]]) -> Table:
    """Rows under a header row that repeats on every page the table runs onto; long cells wrap,
    and a row taller than a page splits."""
    register_fonts()
    head: list[object] = [
        Paragraph(pdf_text(c.title), STYLES["head_right" if c.align == "RIGHT" else "head"])
        for c in columns
    ]
    data: list[list[object]] = [head]
    for row in rows:
        data.append(
            [
                Paragraph(pdf_text(value), STYLES["mono" if col.mono else "cell"])
                if col.wrap
                else str(value)
                for col, value in zip(columns, row, strict=True)
            ]
        )
    style: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), NAVY),
        ("FONT", (0, 1), (-1, -1), "DejaVuSans", 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE]),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    style += [("ALIGN", (i, 1), (i, -1), c.align) for i, c in enumerate(columns) if not c.wrap]
    return Table(
        data,
        colWidths=[TEXT_WIDTH * c.width for c in columns],
        repeatRows=1,
        splitInRow=1,
        hAlign="LEFT",
        style=TableStyle(style),
    )


def facts(pairs: Sequence[tuple[str, object]]) -> Table:
    """Label and value pairs, one a line (the values wrap)."""
    register_fonts()
    data = [
        [Paragraph(pdf_text(label), STYLES["label"]), Paragraph(pdf_text(value), STYLES["body"])]
        for label, value in pairs
    ]
    return Table(
        data,
        colWidths=[TEXT_WIDTH * 0.26, TEXT_WIDTH * 0.74],
        hAlign="LEFT",
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )


def tiles(items: Sequence[tuple[str, str]]) -> Table:
    """A row of KPI tiles: a large figure over its label."""
    register_fonts()
    cells = [
        [
            Paragraph(pdf_text(value), STYLES["tile_value"]),
            Paragraph(pdf_text(label), STYLES["tile_label"]),
        ]
        for label, value in items
    ]
    return Table(
        [cells],
        colWidths=[TEXT_WIDTH / len(items)] * len(items),
        hAlign="LEFT",
        style=TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.5, RULE),
                ("INNERGRID", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (-1, -1), STRIPE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        ),
    )


def chart(svg: bytes | None, note: str, width: float = TEXT_WIDTH) -> Flowable:
    """A chart as a vector drawing (text stays text) scaled to the width; without a drawing,
    the note saying why, in its place."""
    drawing = svg2rlg(io.BytesIO(svg)) if svg else None
    if drawing is None:
        return paragraph(note, "note")
    scale = width / drawing.width
    drawing.width, drawing.height = drawing.width * scale, drawing.height * scale
    drawing.scale(scale, scale)
    drawing.hAlign = "LEFT"
    return drawing
