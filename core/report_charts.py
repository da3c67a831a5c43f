"""The pages' Plotly figures as vector SVG for the PDF reports, through kaleido and Debian's Chromium.

Starting Chromium and loading plotly.js costs about 3 s, a chart then about 0.1 s, so one headless
Chromium per process is started at the first chart (with two tabs, so two charts draw at once),
kept while reports are being made and closed after IDLE_SECONDS without one (and at exit). It
lives on an event loop of its own in a daemon thread: Streamlit's script threads and the CLI only
wait on it. A renderer that fails is closed and started once more; a missing Chromium raises
ChartsUnavailable, and the report then says so where its charts would be.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import plotly.graph_objects as go

from core.errors import SecureSphereError

CHROMIUM = "/usr/bin/chromium"
TABS = 2  # two charts render at once (this machine has two cores)
IDLE_SECONDS = 600.0
START_TIMEOUT = 60.0
RENDER_TIMEOUT = 60.0
CHART_WIDTH = 760  # CSS pixels; the PDF scales the vector drawing to the text width
MAX_CHARTS = 500  # charts one browser draws before it is restarted
CHART_FONT = "DejaVu Sans"  # the report's own font, so text measured in Chromium fits in the PDF

T = TypeVar("T")


class ChartsUnavailable(SecureSphereError):
    """Charts cannot be drawn here (no Chromium, or it failed twice)."""


def report_figure(
    fig: go.Figure, *, height: int | None = None, width: int = CHART_WIDTH
) -> go.Figure:
    """A copy of a page's figure laid out for paper: the report's font, a white page, its size in
    CSS pixels (a half-width chart gets half the pixels, so its text prints at the same size)."""
    copy = go.Figure(fig)  # figures may be shared through the pages' cache: never change them
    # Plotly's own template, not the default in force: importing Streamlit makes that its
    # "streamlit" template, which is made for the browser's theme and draws bare on paper.
    # The report's heading names the chart, so the figure's own title would say it twice.
    copy.update_layout(
        template="plotly",
        font_family=CHART_FONT,
        paper_bgcolor="white",
        title_text="",
        margin=dict(t=16),
    )
    copy.update_layout(width=width, height=height or copy.layout.height or 340)
    return copy


def _kaleido_class() -> Any:
    """kaleido's renderer, keeping each tab's page loaded from one chart to the next."""
    import kaleido  # type: ignore[import-untyped]  # imported only when a chart is drawn

    class KeepLoaded(kaleido.Kaleido):  # type: ignore[misc]
        # kaleido reloads a tab's page after every chart, parsing plotly.js again: four fifths
        # of a chart's time here (6 charts: 1.7 s against 0.4 s). Its page draws each figure
        # with Plotly.toImage, which makes and purges a graph of its own, so nothing carries
        # over; the browser is restarted after MAX_CHARTS all the same.
        async def _return_kaleido_tab(self, tab: Any) -> None:
            await self.tabs_ready.put(tab)

    return KeepLoaded


class ChartRenderer:
    """One headless Chromium through kaleido, started on first use and closed when idle."""

    def __init__(self, path: str = CHROMIUM, idle_seconds: float = IDLE_SECONDS) -> None:
        self._path = path
        self._idle = idle_seconds
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido: Any = None
        self._last_used = 0.0
        self._drawn = 0  # charts drawn by the browser now open
        self._idle_timer: asyncio.TimerHandle | None = None

    def _run(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _ensure_loop(self) -> None:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            threading.Thread(target=self._loop.run_forever, daemon=True, name="charts").start()

    def _start(self) -> None:
        path = self._path
        if not os.access(path, os.X_OK):
            raise ChartsUnavailable(
                f"Charts need Chromium at {path} (apt-get install -y chromium)."
            )

        async def start() -> Any:
            # mathjax=False: its default is a CDN script, which a server without internet waits on
            renderer = _kaleido_class()(n=TABS, mathjax=False, path=path, timeout=RENDER_TIMEOUT)
            await renderer.open()
            return renderer

        self._ensure_loop()
        self._kaleido = self._run(start(), START_TIMEOUT)

    def _stop(self) -> None:
        renderer, self._kaleido, self._drawn = self._kaleido, None, 0
        if renderer is not None and self._loop is not None:
            # a browser that already died leaves nothing to close
            with contextlib.suppress(Exception):
                self._run(renderer.close(), START_TIMEOUT)

    def _render(self, figures: Sequence[go.Figure]) -> list[bytes]:
        def opts(fig: go.Figure) -> dict[str, Any]:
            width, height = fig.layout.width or CHART_WIDTH, fig.layout.height or 340
            return {"format": "svg", "width": width, "height": height}

        async def draw() -> list[bytes]:
            calls = (self._kaleido.calc_fig(fig, opts=opts(fig)) for fig in figures)
            return list(await asyncio.gather(*calls))

        return self._run(draw(), RENDER_TIMEOUT * len(figures))

    def svgs(self, figures: Sequence[go.Figure]) -> list[bytes]:
        """Each figure as SVG bytes at its layout's width and height (CSS pixels), in order."""
        if not figures:
            return []
        with self._lock:
            for attempt in (1, 2):
                if self._kaleido is None:
                    self._start()
                try:
                    drawn = self._render(figures)
                    break
                except Exception as exc:
                    self._stop()
                    if attempt == 2:
                        raise ChartsUnavailable(
                            f"Chromium could not draw the charts: {exc}"
                        ) from exc
            self._last_used = time.monotonic()
            self._drawn += len(figures)
            if self._drawn >= MAX_CHARTS:
                self._stop()
            else:
                self._schedule_idle_close()
            return drawn

    def _schedule_idle_close(self) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._arm_idle_timer)

    def _arm_idle_timer(self) -> None:
        # runs on the loop's thread, so the timer is only ever touched there
        assert self._loop is not None
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._idle_timer = self._loop.call_later(self._idle, self._close_when_idle)

    def _close_when_idle(self) -> None:
        # runs on the loop's thread: close in another so the loop can run the close coroutine
        threading.Thread(target=self.close_if_idle, daemon=True).start()

    def close_if_idle(self) -> None:
        """Close Chromium if no chart was drawn for idle_seconds."""
        with self._lock:
            if time.monotonic() - self._last_used >= self._idle:
                self._stop()

    def close(self) -> None:
        """Close Chromium now (the next chart starts it again)."""
        with self._lock:
            self._stop()

    @property
    def running(self) -> bool:
        """True while a Chromium is open."""
        return self._kaleido is not None


RENDERER = ChartRenderer()
atexit.register(RENDERER.close)


def draw(
    figures: Sequence[go.Figure], renderer: ChartRenderer = RENDERER
) -> tuple[list[bytes | None], str]:
    """The figures as SVG, or (when charts cannot be drawn here) nothing for each and why."""
    try:
        return list(renderer.svgs(figures)), ""
    except ChartsUnavailable as exc:
        return [None] * len(figures), f"Chart not drawn: {exc} The table holds its figures."
