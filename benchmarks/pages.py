"""Analytics pages in Chromium: python -m benchmarks.pages [--products N] [--url URL] [--json]
[--screenshots DIR].

Serves the synthetic benchmark data set (benchmarks.dashboard.data_set: 10 000 products, 1M
answers; or --url, an existing database) with a real ``streamlit run app.py``, as the browser
tests do, signs in through the form as the bench admin, then opens each analytics page (and the
Portfolio home) and measures the seconds from the start of the navigation to a quiet page: the
moment after which Streamlit's script is idle, every component frame has loaded and the DOM does
not change for 400 ms (tests/support/browser.wait_stable). Per page:

* cold: the first page.goto of the page after the app started (Streamlit's caches hold only what
  the pages before it in the list already computed);
* reload: page.goto again, median of RUNS. A page load resumes the session from the remember-me
  cookie, which writes a ``session_resumed`` audit row; the aggregate caches are keyed by the
  data version (the newest audit row id), so a reload recomputes the aggregates;
* warm: the page's link in the sidebar clicked (the same session, no new audit row), median of
  RUNS after one click that fills the caches at the current data version.

Timings are printed, not checked. The 1-, 5- and 15-minute load averages before and after are
printed too: on a shared machine the wall times swing with the load. The server's log is
tests/artifacts/benchmark-pages.log.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.dashboard import ADMIN, data_set
from core import db, migrate
from tests.support import browser as b

PASSWORD = "benchmark admin password"  # benchmarks.dashboard.data_set gives ADMIN this one
RUNS = 3
TIMEOUT_MS = 300_000  # a cold page over 1M answers on a loaded 2-core machine
PAGES = (  # (title, URL path); the admin's home page, Portfolio, is the root
    ("Portfolio", ""),
    ("Overview", "analytics_overview"),
    ("Trends", "analytics_trends"),
    ("Benchmarking", "analytics_benchmarks"),
    ("Review operations", "analytics_reviews"),
    ("User activity", "analytics_activity"),
)
SCROLL_HEIGHT = """Math.max(document.documentElement.scrollHeight, ...Array.from(
  document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]'),
  (element) => element.scrollHeight))"""
QUIET_SINCE = "Math.max(window.__lastChange || 0, window.__stableSince || 0) / 1000"


def quiet_after_goto(page, url: str) -> float:
    """Seconds from the navigation's start to the quiet page (performance.now() of the document)."""
    page.goto(url)
    b.wait_stable(page, timeout_ms=TIMEOUT_MS)
    return page.evaluate(QUIET_SINCE)


def quiet_after_click(page, path: str) -> float:
    """Seconds from clicking the page's sidebar link to the quiet page."""
    link = page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]')
    start = page.evaluate("performance.now() / 1000")
    link.click()
    b.wait_stable(page, timeout_ms=TIMEOUT_MS)
    return page.evaluate(QUIET_SINCE) - start


def shown(page) -> dict:
    """What the page shows: its heading and the text of any exception or error box."""
    main = page.locator('[data-testid="stMain"]')
    heading = main.locator("h1").first
    return {
        "heading": heading.inner_text() if heading.count() else "",
        "errors": main.locator(
            '[data-testid="stException"], [data-testid="stAlertContentError"]'
        ).all_inner_texts(),
    }


def full_screenshot(page, path: Path) -> None:
    """A PNG of the whole page: Streamlit scrolls inside its main element, so the window grows to
    fit that."""
    viewport = page.viewport_size
    height = page.evaluate(SCROLL_HEIGHT)
    page.set_viewport_size({"width": viewport["width"], "height": max(height, viewport["height"])})
    b.wait_stable(page, timeout_ms=TIMEOUT_MS)  # the charts redraw for the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(viewport)


def measure(url: str, screenshots: Path | None) -> tuple[list[dict], list[str]]:
    """Per page: cold, reload and warm seconds, heading and errors; and the browser's page errors."""
    rows = {path: {"page": title, "path": path} for title, path in PAGES}
    page_errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="securesphere-pages-") as root:
        (Path(root) / "data").mkdir()
        env = b.app_env(Path(root), PASSWORD, SECURESPHERE_DATABASE_URL=url)
        env["SECURESPHERE_DEMO_PASSWORD"] = None
        port = b.free_port()
        base = b.base_url(port)
        proc = b.start_streamlit(env, port, log_name="benchmark-pages")
        try:
            with sync_playwright() as pw:
                chromium = b.launch_chromium(pw)
                page = b.new_page(chromium)
                page.on("pageerror", lambda exc: page_errors.append(str(exc)))
                # Sign in on a cheap page (a deep link survives signing in), so that the home
                # page, Portfolio, is measured cold too. The root first: until a session has run
                # app.py (st.navigation), Streamlit serves a deep link from the pages/ folder.
                for path in ("", "profile"):
                    page.goto(base + path)
                    b.wait_stable(page)
                b.sign_in_form(page, ADMIN, PASSWORD)
                for _, path in PAGES:
                    rows[path]["cold_s"] = quiet_after_goto(page, base + path)
                    rows[path].update(shown(page))
                    if screenshots:
                        full_screenshot(page, screenshots / f"{path or 'portfolio_home'}.png")
                for _ in range(RUNS):
                    for _, path in PAGES:
                        rows[path].setdefault("reload_runs", []).append(
                            quiet_after_goto(page, base + path)
                        )
                for run in range(RUNS + 1):
                    for _, path in PAGES:
                        seconds = quiet_after_click(page, path)
                        if run:
                            rows[path].setdefault("warm_runs", []).append(seconds)
                chromium.close()
        finally:
            b.stop_streamlit(proc)
    for row in rows.values():
        row["reload_s"] = statistics.median(row["reload_runs"])
        row["warm_s"] = statistics.median(row["warm_runs"])
    return list(rows.values()), page_errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--url", help="an existing database instead of the synthetic data set")
    parser.add_argument("--fresh", action="store_true", help="rebuild the synthetic data set")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--screenshots", type=Path, help="save a full-page PNG per page here")
    args = parser.parse_args(argv)
    if not b.chromium_available():
        sys.exit(f"Chromium not found at {b.CHROMIUM_PATH}; {b.CHROMIUM_INSTALL_HINT}")
    url = args.url or data_set(args.products, args.fresh)[0]
    at, head = migrate.current_revision(url), migrate.head_revision()
    db.dispose_all()
    if at != head:  # the app would only show "The database is not at the current schema"
        sys.exit(f"{url} is at migration {at}, the code at {head}: rebuild it with --fresh")
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    started = time.perf_counter()
    rows, page_errors = measure(url, args.screenshots)
    result = {
        "url": url,
        "products": None if args.url else args.products,
        "runs": RUNS,
        "pages": rows,
        "page_errors": page_errors,
        "seconds": round(time.perf_counter() - started, 1),
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{url}: cold, reload and warm seconds to a quiet page (median of {RUNS})")
    print(f"{'page':<20} {'cold s':>7} {'reload s':>9} {'warm s':>7}  shown")
    for row in rows:
        problems = f"  ERRORS: {row['errors']}" if row["errors"] else ""
        print(
            f"{row['page']:<20} {row['cold_s']:>7.2f} {row['reload_s']:>9.2f} "
            f"{row['warm_s']:>7.2f}  {row['heading']!r}{problems}"
        )
    for error in page_errors:
        print(f"browser page error: {error}")
    print(
        f"load average before {result['load_before']}, after {result['load_after']} "
        f"({result['cpus']} CPUs); {result['seconds']} s in all"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
