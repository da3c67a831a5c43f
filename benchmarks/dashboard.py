"""Dashboard benchmark: python -m benchmarks.dashboard [--json] [--products N[,N...]] [--fresh]
[--url postgresql+psycopg://... | --postgres].

Builds (or reuses) the synthetic data set of each size (10 000 products = 1,000,000 answers) in
SQLite, a file per size in the system temp folder (rebuilt when its schema revision is not the
code's head migration or its tables differ from the models), and with --url or --postgres in
PostgreSQL too, then measures on each engine:

* aggregate_ms: every overview, trends and benchmarking aggregate through core (median of RUNS);
* naive_ms: SELECT * of the raw tables into pandas, then merges and groupbys computing the same
  numbers (benchmarks/naive.py, which is also the tests' reference), read through sqlite3 on
  SQLite and through pandas.read_sql on the engine's SQLAlchemy connection on PostgreSQL;
* floor_ms: the very SQL statements core ran, as the dialect compiled them and with their
  parameters, replayed through the bare driver (sqlite3; psycopg on PostgreSQL, whose statements
  carry %(name)s placeholders and dict parameters), interleaved run by run with the core runs so
  both meet the same machine load
* engine_ms / engine_to_floor: the same statement objects core executed, executed again through
  SQLAlchemy's Connection with nothing around them (what SQLAlchemy itself adds to the floor:
  its compiled-statement cache, parameters and result rows), and that over floor_ms;
* rerun_cold_ms / rerun_warm_ms: the Overview page's server-side run through AppTest (pointed at
  the engine's database by SECURESPHERE_DATABASE_URL) with the data and figure caches cleared
  (modules already imported) and with them warm (medians of RUNS);
* max_chart_kb: the largest Plotly payload (len of fig.to_json()) of those pages' charts;
* load_rows_per_s: answer rows per second while seeding (measured when the set was built:
  executemany on SQLite, COPY on PostgreSQL);
* growth_3x, given several sizes: aggregate_ms at the largest over the smallest, per engine.

PostgreSQL: --url names the database for the first size; each further size gets a database of
its own on the same server, named <database>_<products> (created when missing). --postgres
starts a throw-away cluster (tests/support/postgres.py) for the run, with shared_buffers a
quarter of the machine's memory as for a dedicated server (server_memory), and stops it at the
end. A
database is reused when it holds the set of that size: its comment (COMMENT ON DATABASE) records
the load report, its products count must match and its schema be at head and agree with the
models. A benchmark database of another size or schema, or any with --fresh, is dropped and
built again; one holding other data is refused.

The figures print as one table per size (figure | SQLite | PostgreSQL | target, each value marked
ok or MISSED); --json prints one object instead: {"sqlite": {"<products>": {figure: value}},
"postgresql": {...}, "growth_3x": {engine: ratio}, "missed": ["engine/products/figure", ...]}.

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
from contextlib import closing, contextmanager
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, func, inspect, make_url, select

from benchmarks import naive
from core import charts, dashboard_charts, db, migrate, trend_charts
from core.access import SYSTEM, Actor
from core.analytics import overview
from core.assurance_view import portfolio_assurance
from core.attention import DROP_POINTS, attention
from core.auth import actor_for, open_session
from core.filters import Filters
from core.models import Organization, Product, utcnow
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
ENGINES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
MARKER = "securesphere-dashboard"  # the key of a benchmark database's comment
# figure -> (comparison, target); a dict target depends on the size (products, up to) or engine.
TARGETS: dict[str, tuple[str, float | dict]] = {
    "aggregate_ms": ("<=", {10_000: 60, 30_000: 90}),  # 1M answers, 3M answers
    "growth_3x": ("<=", 1.5),
    "speedup_vs_naive": (">=", 60),
    "ratio_to_floor": ("<=", 1.3),
    "rerun_cold_ms": ("<=", 250),
    "rerun_warm_ms": ("<=", 30),
    "max_chart_kb": ("<=", 150),
    "load_rows_per_s": (">=", {"sqlite": 100_000, "postgresql": 150_000}),
}


def _seed(url: str, products: int) -> dict:
    """Seed the set and the benchmark admin; the flat load report."""
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
    return {**report.counts, **{k: v for k, v in asdict(report).items() if k != "counts"}}


def _sqlite_revision(path: Path) -> str | None:
    """The migration a SQLite file is at (alembic_version), None when it has none."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _drift(url: str) -> bool:
    """Whether the database's tables differ from the models (a migration edited in place)."""
    try:
        return bool(migrate.drift(url))
    finally:
        db.dispose_all()


def data_set(products: int, fresh: bool) -> tuple[str, dict]:
    """The SQLite benchmark database (built once per size and schema, then reused) and its load
    report."""
    path = Path(tempfile.gettempdir()) / f"securesphere-dashboard-{products}.db"
    meta = path.with_suffix(".json")
    url = f"sqlite:///{path}"
    stale = path.exists() and (_sqlite_revision(path) != migrate.head_revision() or _drift(url))
    if stale:
        print(
            f"{path}: schema is not the code's ({migrate.head_revision()}); rebuilding",
            file=sys.stderr,
        )
    if fresh or stale or not (path.exists() and meta.exists()):
        db.dispose_all()  # no pooled connection may keep the old file open
        for old in (path, meta, Path(f"{path}-wal"), Path(f"{path}-shm")):
            old.unlink(missing_ok=True)
        flat = _seed(url, products)
        meta.write_text(json.dumps(flat))
        return url, {**flat, "reused": False}
    return url, {**json.loads(meta.read_text()), "reused": True}


def _server(url: str):
    """An autocommit psycopg connection to the maintenance database of the URL's server."""
    import psycopg

    return psycopg.connect(**_connect_args(url, "postgres"), autocommit=True)


def _connect_args(url: str, dbname: str | None = None) -> dict:
    """psycopg.connect() keywords for a SQLAlchemy PostgreSQL URL (or another database there)."""
    parsed = make_url(url)
    args = parsed.translate_connect_args(username="user", database="dbname")
    return {**parsed.query, **args, "dbname": dbname or args.get("dbname", "postgres")}


def _marker(url: str) -> dict | None:
    """The load report a benchmark database's comment holds; None for any other database (one
    that does not exist yet is created)."""
    from psycopg import sql

    name = make_url(url).database
    with _server(url) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
        if row is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        return json.loads(row[0]).get(MARKER) if row and row[0] else None
    except (ValueError, AttributeError):  # someone else's comment
        return None


def pg_data_set(url: str, products: int, fresh: bool) -> tuple[str, dict]:
    """The PostgreSQL database at `url` holding the set of `products` (seeded unless it already
    holds it; see the module docstring) and its load report."""
    from psycopg import sql

    marker, head = _marker(url), migrate.head_revision()
    count = orgs = 0
    with db.reading(url) as session:
        if inspect(session.connection()).has_table("products"):
            count = session.scalar(select(func.count(Product.id)))
            orgs = session.scalar(select(func.count(Organization.id)))
    current = marker and not fresh and marker.get("products") == products == count
    at_head = current and marker.get("revision") == head == migrate.current_revision(url)
    if at_head and not _drift(url):
        return url, {**marker, "reused": True}
    name = sql.Identifier(make_url(url).database)
    if marker:  # a benchmark database: build it again from nothing
        db.dispose_all()
        with _server(url) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    elif count or orgs:
        safe = make_url(url).render_as_string(hide_password=True)
        raise SystemExit(f"{safe} holds data that is not this benchmark's: give another database")
    flat = {**_seed(url, products), "products": products, "revision": head}
    with _server(url) as conn:
        comment = sql.Literal(json.dumps({MARKER: flat}))
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(name, comment))
    return url, {**flat, "reused": False}


def pg_urls(url: str, sizes: list[int]) -> dict[int, str]:
    """The database of each size: the URL's own for the first, <database>_<products> beside it
    for the others."""
    base = make_url(url)
    return {
        n: url if i == 0 else base.set(database=f"{base.database}_{n}").render_as_string(False)
        for i, n in enumerate(sizes)
    }


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
        "assurance": portfolio_assurance(session, actor, everything),
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
    """The SQL statements (with parameters) that one run sends to the database, as the dialect
    compiled them (qmark tuples for sqlite3, %(name)s dicts for psycopg)."""
    statements: list = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append((statement, parameters))

    _listening(url, "before_cursor_execute", capture, run)
    return statements


def _listening(url: str, name: str, listener, run) -> None:
    """run() with `listener` on the engine's event `name`."""
    engine = db.get_engine(url)
    event.listen(engine, name, listener)
    try:
        run()
    finally:
        event.remove(engine, name, listener)


@contextmanager
def _replayer(url: str, statements: list):
    """A function replaying the statements through the bare driver, one transaction a run."""
    if make_url(url).get_backend_name() == "sqlite":
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as lite:

            def replay_sqlite():
                for statement, parameters in statements:
                    lite.execute(statement, parameters).fetchall()

            yield replay_sqlite
        return
    import psycopg

    with psycopg.connect(**{**db.PG_CONNECT_ARGS, **_connect_args(url)}) as conn:  # as core's

        def replay_pg():
            with conn.cursor() as cursor:
                for statement, parameters in statements:
                    cursor.execute(statement, parameters)
                    if cursor.description is not None:
                        cursor.fetchall()
            conn.rollback()

        yield replay_pg


def _capture_elements(url: str, run) -> list:
    """The statement objects (with their parameters) that one run executes through SQLAlchemy."""
    elements: list = []

    def capture(conn, clauseelement, multiparams, params, execution_options):
        elements.append((clauseelement, multiparams[0] if multiparams else params or None))

    _listening(url, "before_execute", capture, run)
    return elements


def _engine_replayer(url: str, elements: list):
    """A function executing those statement objects again through SQLAlchemy's Connection (its
    compiled cache, parameters and result rows), in a read transaction, with nothing around."""

    def replay():
        with db.reading(url) as session:
            conn = session.connection()
            for element, parameters in elements:
                result = conn.execute(element, parameters)
                if result.returns_rows:
                    result.all()

    return replay


def time_core_and_floor(url: str, actor: Actor, qid: int, pid: int, now) -> tuple[dict, list, dict]:
    """Medians over RUNS of every aggregate through core (a read transaction per run, as a page
    opens), of the same statement objects executed again through SQLAlchemy alone, and of the very
    same SQL replayed through the bare driver, runs interleaved so all meet the same machine load;
    wall and CPU time of each."""

    def once() -> dict:
        with db.reading(url) as session:
            return aggregates(session, actor, qid, pid, now)

    results = once()  # warm SQLAlchemy's statement cache and the database's page cache
    statements = _capture(url, once)
    engine_replay = _engine_replayer(url, _capture_elements(url, once))
    core, engine, floor = [], [], []
    with _replayer(url, statements) as replay:
        replay()
        engine_replay()
        for _ in range(RUNS):
            core.append(_timed(once))
            engine.append(_timed(engine_replay))
            floor.append(_timed(replay))

    def median(samples, i):
        return statistics.median(s[i] for s in samples)

    return (
        {
            "core_ms": median(core, 0),
            "core_cpu_ms": median(core, 1),
            "engine_ms": median(engine, 0),
            "floor_ms": median(floor, 0),
            "floor_cpu_ms": median(floor, 1),
        },
        statements,
        results,
    )


def time_naive(url: str, qid: int, now) -> tuple[float, float]:
    """(wall, CPU) ms of SELECT * into pandas and the same numbers there (one run: it is slow):
    through sqlite3 on SQLite, pandas.read_sql on a SQLAlchemy connection on PostgreSQL."""

    def run():
        if make_url(url).get_backend_name() == "sqlite":
            with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
                frames = naive.load(conn)
        else:
            with db.get_engine(url).connect() as conn:
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
    st.cache_data.clear()  # the caches are per process: another engine's run may have filled them
    st.cache_resource.clear()
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


def server_memory() -> dict[str, str]:
    """The throw-away cluster's memory as PostgreSQL's manual starts a dedicated server: shared
    buffers a quarter of the machine's memory (capped at 8 GB), the planner told the rest is
    cache. The tests' default of 128 MB holds a fifth of the 1M set (235 MB)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20  # MB
    return {
        "shared_buffers": f"{min(total // 4, 8192)}MB",
        "effective_cache_size": f"{max(total * 3 // 4, 128)}MB",
    }


def calibration_ms() -> float:
    """A fixed pure-Python loop: how fast this machine is right now."""
    started = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    return (time.perf_counter() - started) * 1000


def measure(url: str, load: dict) -> dict:
    """Every figure of the benchmark on the database at `url` (holding the set `load` reports)."""
    with db.reading(url) as session:
        actor = actor_for(session, ADMIN)
        qid = versions(session, actor)[0].id
        pid = session.scalar(select(Product.id).order_by(Product.id).limit(1))
        products = session.scalar(select(func.count(Product.id)))
    now = utcnow()
    timing, statements, results = time_core_and_floor(url, actor, qid, pid, now)
    naive_ms, naive_cpu_ms = time_naive(url, qid, now)
    cold, warm = time_reruns(url)
    core_ms, floor_ms = timing["core_ms"], timing["floor_ms"]
    figures = {
        "products": products,
        "answers": load["questionnaire_responses"],
        "aggregate_ms": round(core_ms, 1),
        "naive_ms": round(naive_ms, 1),
        "floor_ms": round(floor_ms, 1),
        "engine_ms": round(timing["engine_ms"], 1),
        "speedup_vs_naive": round(naive_ms / core_ms, 1),
        "ratio_to_floor": round(core_ms / floor_ms, 2),
        "engine_to_floor": round(timing["engine_ms"] / floor_ms, 2),
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
    db.dispose_all()
    return figures


def target(key: str, engine: str, products: int) -> tuple[str, float] | None:
    """The (comparison, target) of a figure on an engine at a size, None when it has none."""
    if key not in TARGETS:
        return None
    op, goal = TARGETS[key]
    if not isinstance(goal, dict):
        return op, goal
    if key == "load_rows_per_s":
        return op, goal[engine]
    fitting = [n for n in sorted(goal) if products <= n]  # the target of the next size up
    return (op, goal[fitting[0]]) if fitting else None


def _met(value: float, goal: tuple[str, float]) -> bool:
    op, limit = goal
    return value <= limit if op == "<=" else value >= limit


def run(sizes: list[int], fresh: bool, pg_url: str | None) -> dict:
    """{"figures": {engine: {products: figures}}, "growth_3x": {engine: ratio}} (the growth only
    given several sizes); each size is measured on SQLite, then on PostgreSQL."""
    figures: dict[str, dict[int, dict]] = {"sqlite": {}}
    pg = pg_urls(pg_url, sizes) if pg_url else {}
    for n in sizes:
        figures["sqlite"][n] = measure(*data_set(n, fresh))
        if n in pg:
            figures.setdefault("postgresql", {})[n] = measure(*pg_data_set(pg[n], n, fresh))
    growth = {
        engine: round(by_size[sizes[-1]]["aggregate_ms"] / by_size[sizes[0]]["aggregate_ms"], 2)
        for engine, by_size in figures.items()
        if len(sizes) > 1
    }
    return {"figures": figures, "growth_3x": growth}


def missed(result: dict) -> list[str]:
    """engine/products/figure of every target missed."""
    out = []
    for engine, by_size in result["figures"].items():
        for n, figures in by_size.items():
            for key, value in figures.items():
                goal = target(key, engine, n)
                if goal and not _met(value, goal):
                    out.append(f"{engine}/{n}/{key}")
    for engine, value in result["growth_3x"].items():
        if not _met(value, target("growth_3x", engine, 0) or ("<=", float("inf"))):
            out.append(f"{engine}/growth_3x")
    return out


def _cell(value, goal: tuple[str, float] | None) -> str:
    text = f"{value:,}" if isinstance(value, int | float) and not isinstance(value, bool) else value
    return f"{text!s} {'' if goal is None else 'ok' if _met(value, goal) else 'MISSED'}".strip()


def _target_text(key: str, engines: list[str], products: int) -> str:
    goals = {target(key, e, products) for e in engines} - {None}
    return " / ".join(f"{op} {limit:,}" for op, limit in sorted(goals, key=lambda g: g[1]))


def table(result: dict) -> str:
    """One table per size (figure | SQLite | PostgreSQL | target), then the growth."""
    figures = result["figures"]
    engines = list(figures)
    head = f"{'figure':<22}" + "".join(f"{ENGINES[e]:>18}" for e in engines) + "   target"

    def line(key: str, values: dict, products: int) -> str:
        cells = "".join(f"{_cell(values[e], target(key, e, products)):>18}" for e in engines)
        return f"{key:<22}{cells}   {_target_text(key, engines, products)}"

    lines = []
    for n, first in figures["sqlite"].items():
        lines += ["", f"{n:,} products ({first['answers']:,} answers)", head]
        lines += [line(key, {e: figures[e][n][key] for e in engines}, n) for key in first]
    if result["growth_3x"]:
        sizes = list(figures["sqlite"])
        lines += ["", f"aggregate_ms growth from {sizes[0]:,} to {sizes[-1]:,} products", head]
        lines.append(line("growth_3x", result["growth_3x"], 0))
    return "\n".join(lines[1:])


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("give one or more positive product counts: 10000,30000")
    return sizes


def _pg(text: str) -> str:
    if make_url(text).get_backend_name() != "postgresql":
        raise argparse.ArgumentTypeError("give a postgresql+psycopg:// URL")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dashboard",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--products",
        type=_sizes,
        default=[10_000],
        help="products (x100 answers), e.g. 10000,30000",
    )
    parser.add_argument("--fresh", action="store_true", help="rebuild the data sets")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", type=_pg, help="also on this PostgreSQL database (see above)")
    where.add_argument("--postgres", action="store_true", help="also on a throw-away cluster")
    args = parser.parse_args(argv)
    cluster = None
    if args.postgres:
        from tests.support.postgres import start_cluster

        cluster = start_cluster(settings=server_memory())
    try:
        result = run(args.products, args.fresh, cluster.url("dashboard") if cluster else args.url)
    finally:
        db.dispose_all()
        if cluster is not None:
            cluster.stop()
    if args.json:
        figures = {e: {str(n): f for n, f in s.items()} for e, s in result["figures"].items()}
        print(json.dumps({**figures, "growth_3x": result["growth_3x"], "missed": missed(result)}))
        return 0
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
