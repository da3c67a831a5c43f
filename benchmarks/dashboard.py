"""Dashboard benchmark: python -m benchmarks.dashboard [--json] [--products N] [--fresh].

Builds (or reuses, from the system temp folder) the synthetic data set in a SQLite database, then
measures side by side:

* aggregate_ms: every overview, trends and benchmarking aggregate through core (median of RUNS);
* naive_ms: SELECT * of the raw tables into pandas, then merges and groupbys computing the same
  numbers (benchmarks/naive.py, which is also the tests' reference);
* floor_ms: the very SQL statements core ran, replayed through sqlite3 (no ORM, no pandas),
  interleaved run by run with the core runs so both meet the same machine load;
* rerun_cold_ms / rerun_warm_ms: the Overview page's server-side run through AppTest with the data
  and figure caches cleared (modules already imported) and with them warm (medians of RUNS);
* max_chart_kb: the largest Plotly payload (len of fig.to_json()) of those pages' charts;
* load_rows_per_s: answer rows per second while seeding (measured when the set was built).

Targets read wall-clock medians. On a shared machine those swing with the load, so the CPU times
(*_cpu_ms), calibration_ms (a fixed pure-Python loop of 2 million additions) and the
load average are printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select

from benchmarks import naive
from core import charts, dashboard_charts, db, trend_charts
from core.access import SYSTEM, Actor
from core.analytics import overview
from core.attention import DROP_POINTS, attention
from core.auth import actor_for, open_session
from core.filters import Filters
from core.models import Product, utcnow
from core.movers import movers_frame
from core.peer_benchmarks import peer_distribution, product_scores, rank_against, versions
from core.peer_groups import peer_groups_frame
from core.product_history import product_history_frame
from core.section_heatmap import heatmap_frame
from core.synthetic import seed_synthetic
from core.trends import trend_frame
from core.users import create_user

RUNS = 5
ADMIN = "bench-admin"
PAGE = "pages/analytics_overview.py"
TARGETS = {
    "aggregate_ms": ("<=", 150),
    "speedup_vs_naive": (">=", 20),
    "ratio_to_floor": ("<=", 1.3),
    "rerun_warm_ms": ("<=", 50),
    "rerun_cold_ms": ("<=", 400),
    "max_chart_kb": ("<=", 150),
    "load_rows_per_s": (">=", 100_000),
}


def data_set(products: int, fresh: bool) -> tuple[str, dict]:
    """The benchmark database (built once per size, then reused) and its load report."""
    path = Path(tempfile.gettempdir()) / f"securesphere-dashboard-{products}.db"
    meta = path.with_suffix(".json")
    url = f"sqlite:///{path}"
    if fresh or not (path.exists() and meta.exists()):
        for stale in (path, meta, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        report = seed_synthetic(url, products=products)
        with db.transaction(url) as session:
            create_user(
                session,
                SYSTEM,
                username=ADMIN,
                name="Benchmark admin",
                role="admin",
                password="benchmark admin password",
                rounds=4,
            )
        flat = {**report.counts, **{k: v for k, v in asdict(report).items() if k != "counts"}}
        meta.write_text(json.dumps(flat))
        return url, {**flat, "reused": False}
    return url, {**json.loads(meta.read_text()), "reused": True}


def _filters() -> tuple[Filters, Filters]:
    today = utcnow().date()
    return Filters(), Filters(start=today - timedelta(days=730), end=today)


def aggregates(session, actor: Actor, questionnaire_id: int, product_id: int, now) -> dict:
    """Everything the Overview, Trends and Benchmarking pages compute, through core."""
    everything, period = _filters()
    out = {
        "overview": overview(session, actor, everything, now=now),
        "attention": attention(session, actor, everything, now=now),
        "trend": trend_frame(session, actor, period, today=now.date()),
        "movers": movers_frame(session, actor, period),
        "history": product_history_frame(session, actor, product_id),
        "versions": versions(session, actor),
        "peers": peer_distribution(session, actor, everything, questionnaire_id),
    }
    out["position"] = rank_against(
        product_scores(session, actor, product_id, questionnaire_id), out["peers"]
    )
    out["heatmap"] = heatmap_frame(session, actor, everything, questionnaire_id).frame
    out["groups"] = peer_groups_frame(session, actor, questionnaire_id)
    return out


def _timed(fn) -> tuple[float, float]:
    """(wall ms, CPU ms) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _capture(url: str, run) -> list:
    """The SQL statements (with parameters) that one run sends to the database."""
    statements: list = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append((statement, parameters))

    engine = db.get_engine(url)
    event.listen(engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return statements


def time_core_and_floor(url: str, actor: Actor, qid: int, pid: int, now) -> tuple[dict, list, dict]:
    """Medians over RUNS of every aggregate through core (a read transaction per run, as a page
    opens) and of the very same SQL replayed through sqlite3, runs interleaved so both meet the
    same machine load; wall and CPU time of each."""

    def once() -> dict:
        with db.reading(url) as session:
            return aggregates(session, actor, qid, pid, now)

    results = once()  # warm SQLAlchemy's statement cache and SQLite's page cache
    statements = _capture(url, once)
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))

    def replay():
        for statement, parameters in statements:
            conn.execute(statement, parameters).fetchall()

    replay()
    core, floor = [], []
    for _ in range(RUNS):
        core.append(_timed(once))
        floor.append(_timed(replay))

    def median(samples, i):
        return statistics.median(s[i] for s in samples)

    return (
        {
            "core_ms": median(core, 0),
            "core_cpu_ms": median(core, 1),
            "floor_ms": median(floor, 0),
            "floor_cpu_ms": median(floor, 1),
        },
        statements,
        results,
    )


def time_naive(path: str, qid: int, now) -> tuple[float, float]:
    """(wall, CPU) ms of SELECT * into pandas and the same numbers there (one run: it is slow)."""

    def run():
        with sqlite3.connect(path) as conn:
            frames = naive.load(conn)
        everything, period = _filters()
        naive.all_numbers(frames, everything, period, qid, now, 10, DROP_POINTS)

    return _timed(run)


def chart_kb(results: dict) -> float:
    """The largest chart payload of the three pages, in KB."""
    figures = [
        dashboard_charts.funnel_figure(results["overview"].funnel),
        dashboard_charts.status_figure(results["overview"].statuses),
        dashboard_charts.band_figure(results["overview"].bands),
        trend_charts.trend_figure(results["trend"], "score"),
        trend_charts.trend_figure(results["trend"], "completion"),
        trend_charts.movers_figure(results["movers"]),
        charts.score_history_figure(results["history"]),
        dashboard_charts.section_box_figure(
            results["peers"].sections, results["position"], "product"
        ),
        dashboard_charts.heatmap_figure(results["heatmap"]),
    ]
    return max(len(fig.to_json()) for fig in figures) / 1024


def time_reruns(url: str) -> tuple[float, float]:
    """Median ms of the Overview page's run through AppTest, data cache cleared, then warm."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["SECURESPHERE_DATABASE_URL"] = url
    os.environ.setdefault(
        "SECURESPHERE_DATA_DIR", str(Path(tempfile.gettempdir()) / "securesphere-bench-data")
    )
    with db.transaction(url) as session:
        actor = open_session(session, ADMIN)
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / PAGE), default_timeout=120)
    at.session_state["actor"] = actor
    at.run()  # imports and first compilation are not part of a rerun
    cold, warm = [], []
    for _ in range(RUNS):
        st.cache_data.clear()
        st.cache_resource.clear()
        cold.append(_timed(at.run)[0])
        warm.append(_timed(at.run)[0])
    if at.exception:
        raise RuntimeError(f"{PAGE} failed: {at.exception[0].value}")
    return statistics.median(cold), statistics.median(warm)


def calibration_ms() -> float:
    """A fixed pure-Python loop: how fast this machine is right now."""
    started = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    return (time.perf_counter() - started) * 1000


def measure(products: int, fresh: bool) -> dict:
    """Every figure of the benchmark as one dict."""
    url, load = data_set(products, fresh)
    path = url.removeprefix("sqlite:///")
    with db.reading(url) as session:
        actor = actor_for(session, ADMIN)
        qid = versions(session, actor)[0].id
        pid = session.scalar(select(Product.id).order_by(Product.id).limit(1))
    now = utcnow()
    timing, statements, results = time_core_and_floor(url, actor, qid, pid, now)
    naive_ms, naive_cpu_ms = time_naive(path, qid, now)
    cold, warm = time_reruns(url)
    core_ms, floor_ms = timing["core_ms"], timing["floor_ms"]
    return {
        "products": products,
        "answers": load["questionnaire_responses"],
        "aggregate_ms": round(core_ms, 1),
        "naive_ms": round(naive_ms, 1),
        "floor_ms": round(floor_ms, 1),
        "speedup_vs_naive": round(naive_ms / core_ms, 1),
        "ratio_to_floor": round(core_ms / floor_ms, 2),
        "rerun_cold_ms": round(cold, 1),
        "rerun_warm_ms": round(warm, 1),
        "max_chart_kb": round(chart_kb(results), 1),
        "load_rows_per_s": round(load["answer_rows_per_s"]),
        "load_all_rows_per_s": round(load["rows_per_s"]),
        "data_set_reused": load["reused"],
        "aggregate_cpu_ms": round(timing["core_cpu_ms"], 1),
        "floor_cpu_ms": round(timing["floor_cpu_ms"], 1),
        "naive_cpu_ms": round(naive_cpu_ms, 1),
        "sql_statements": len(statements),
        "calibration_ms": round(calibration_ms(), 1),
        "load_average": round(os.getloadavg()[0], 2),
    }


def _met(key: str, value: float) -> str:
    op, target = TARGETS[key]
    ok = value <= target if op == "<=" else value >= target
    return f"{op} {target:,}  {'ok' if ok else 'MISSED'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dashboard",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--products", type=int, default=10_000, help="products (x100 answers)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the data set")
    args = parser.parse_args(argv)
    figures = measure(args.products, args.fresh)
    if args.json:
        print(json.dumps(figures))
        return 0
    for key, value in figures.items():
        print(f"{key:<22}{value!s:>14}   {_met(key, value) if key in TARGETS else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
