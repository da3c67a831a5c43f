"""Reading a PDF report back as a person would: its text with pypdf, its pages as pictures with
Debian's pdftoppm (poppler-utils), and the words a reader should never meet in it."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image
from pypdf import PdfReader

from core.report_render import MARGIN, PAGE_HEIGHT, PAGE_WIDTH
from tests.support.layers import skip_layer
from tests.support.words import PROBLEMS

PDFTOPPM = "pdftoppm"
CHROMIUM = "/usr/bin/chromium"
INK = 235  # a pixel darker than this (0-255 grey) is ink, not paper
# The text frame as fractions of the page; the footer sits below FOOTER_TOP.
LEFT, RIGHT = MARGIN / PAGE_WIDTH, 1 - MARGIN / PAGE_WIDTH
FOOTER_TOP = 1 - (MARGIN + 8) / PAGE_HEIGHT  # 8 points above the frame's bottom edge
_PAGE = re.compile(r"Page (\d+) of (\d+)")


FOOTER_LINES = 3  # the title, "Page i of n", and the time and version, drawn last on each page


@dataclass(frozen=True)
class Report:
    """A PDF and its text: per page, and the pages' bodies (their footers left out, so a table
    row split across two pages reads whole) with every run of white space made one space
    (words) or removed (flat, so a word a narrow cell split still reads whole)."""

    pdf: bytes
    pages: list[str]

    @property
    def bodies(self) -> list[str]:
        return [text.rstrip("\n").rsplit("\n", FOOTER_LINES)[0] for text in self.pages]

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.bodies).split())

    @property
    def flat(self) -> str:
        return flat(" ".join(self.bodies))


def flat(text: object) -> str:
    """The text without any white space."""
    return re.sub(r"\s+", "", str(text))


def read(pdf: bytes) -> Report:
    """The report's text, page by page."""
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    return Report(pdf, [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages])


def require_pdftoppm() -> None:
    if shutil.which(PDFTOPPM) is None:
        skip_layer("pdftoppm not found; install with: apt-get install -y poppler-utils")


def require_chromium() -> None:
    if not Path(CHROMIUM).is_file():
        skip_layer(f"Chromium not found at {CHROMIUM}; install with: apt-get install -y chromium")


def render(pdf: bytes, folder: Path, dpi: int = 40) -> list[Image.Image]:
    """Every page as a greyscale picture, drawn by pdftoppm."""
    require_pdftoppm()
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [PDFTOPPM, "-png", "-r", str(dpi), str(source), str(folder / "page")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pngs = sorted(folder.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return [Image.open(p).convert("L") for p in pngs]


def inked(image: Image.Image, box: tuple[float, float, float, float]) -> bool:
    """True when anything is drawn inside the box (fractions of the page: left, top, right, bottom)."""
    w, h = image.size
    region = image.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
    return region.point(lambda v: 255 if v < INK else 0).getbbox() is not None


def page_numbers(report: Report) -> list[tuple[int, int]]:
    """The "Page i of n" of each page's footer."""
    found = []
    for text in report.pages:
        match = _PAGE.search(text)
        assert match, text[-300:]
        found.append((int(match[1]), int(match[2])))
    return found


def word_problems(text: str, user_data: list[str]) -> dict[str, list[str]]:
    """Keys, None, JSON and dates in another format than the app's, outside what users typed."""
    for value in sorted(user_data, key=len, reverse=True):
        text = text.replace(value, "")
    return {name: found for name, rx in PROBLEMS.items() if (found := rx.findall(text))}


def check_pages(pdf: bytes, folder) -> int:
    """pdftoppm draws as many pages as the footers count, each with content above its footer
    and nothing in the side margins (a cell or a chart running off the text frame)."""
    images, report = render(pdf, folder), read(pdf)
    assert len(images) == len(report.pages) == page_numbers(report)[-1][1]
    for number, image in enumerate(images, start=1):
        assert inked(image, (LEFT, 0, RIGHT, FOOTER_TOP)), f"page {number} is blank"
        assert not inked(image, (0, 0, LEFT - 0.005, 1)), f"page {number}: ink in the left margin"
        assert not inked(image, (RIGHT + 0.005, 0, 1, 1)), f"page {number}: ink right of the text"
    return len(images)
