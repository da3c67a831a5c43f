"""REST API benchmark: python -m benchmarks.api [--json] [--products N] [--fresh] [--walks N]
[--url URL].

Builds (or reuses, like benchmarks.dashboard) the synthetic data set, or seeds the database at
--url (PostgreSQL) once, starts the API as it is deployed (uvicorn core.api:app in its own
process, on loopback) and measures over real HTTP:

* list_p50_ms / list_p95_ms: GET /api/v1/assessments?limit=100, walking the cursor through every
  page, as an admin (who sees all N assessments);
* hello_p50_ms / hello_p95_ms: a bare ASGI "hello" app under the same uvicorn, requested in turn
  with the listing: the floor this machine puts under any endpoint (list_to_hello_p50: the ratio);
* naive_list_ms: the same page cut from core.assessments.client_overview (every assessment read,
  then sliced), in this process: what an endpoint without keyset paging would pay;
* csv_rows_per_s: GET /api/v1/extracts/answers.csv (one row per answer: N x 100 rows), streamed;
* inprocess_rows_per_s: core.extracts.extract_chunks in this process (no HTTP);
* floor_rows_per_s: the answers statement's rows fetched from the driver and dropped, nothing
  else done (csv_ratio_to_floor: how close the endpoint comes to the database alone);
* rss_start_mb / rss_peak_mb: the API process's resident memory before and during the stream
  (read from /proc every 50 ms);
* load_before / load_after: the 1-minute load average (the machines are shared).

Figures are printed, never asserted; the ratios show how the API compares with its floors.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from benchmarks.dashboard import ADMIN, data_set
from core import db, migrate
from core.access import SYSTEM
from core.assessments import client_overview
from core.auth import actor_for
from core.extract_answers import row_batches
from core.extract_queries import QUERIES
from core.extracts import extract_chunks
from core.filters import Filters
from core.models import QuestionnaireResponse, User
from core.synthetic import seed_synthetic
from core.tokens import create_token
from core.users import create_user

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"list_p95_ms": ("<=", 50), "csv_rows_per_s": (">=", 200_000), "rss_peak_mb": ("<=", 250)}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI app that answers every request with a small JSON body: the floor."""
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})


def _seeded(url: str, products: int) -> tuple[str, dict[str, Any]]:
    """The database at url (PostgreSQL, say), given the synthetic data set the first time."""
    migrate.upgrade(url)
    with db.reading(url) as s:
        if s.scalar(select(User.id).where(User.username == ADMIN)) is not None:
            answers = s.scalar(select(func.count()).select_from(QuestionnaireResponse))
            return url, {"questionnaire_responses": answers, "reused": True}
    report = seed_synthetic(url, products=products)
    with db.transaction(url) as s:
        create_user(
            s,
            SYSTEM,
            username=ADMIN,
            name="Benchmark admin",
            role="admin",
            password="benchmark admin password",  # no password: must choose one, no token use
            rounds=4,
        )
    return url, {**report.counts, "reused": False}


def _token(url: str) -> str:
    with db.transaction(url) as s:
        admin = s.scalar(select(User.id).where(User.username == ADMIN))
        return create_token(
            s, SYSTEM, name="benchmark", scope="read", expires_days=1, user_id=admin
        ).token


def _serve(
    url: str, data_dir: str, port: int, app: str = "core.api:app"
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SECURESPHERE_DATABASE_URL": url, "SECURESPHERE_DATA_DIR": data_dir}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port"]
        + [str(port), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the API did not start")


def _ms(call: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = call()
    return (time.perf_counter() - started) * 1000, response.raise_for_status()


def listing(client: httpx.Client, floor: httpx.Client, walks: int) -> tuple[list[float], ...]:
    """Milliseconds per page of 100, walking the cursor through every page `walks` times, and
    of a request to the hello floor after each page."""
    times, hellos = [], []
    for _ in range(walks):
        cursor = None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            took, response = _ms(lambda p=params: client.get("/assessments", params=p))
            times.append(took)
            hellos.append(_ms(lambda: floor.get("/"))[0])
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
    return times, hellos


def naive_listing(url: str) -> float:
    """Median ms of one page cut from the full list, as an endpoint without paging would."""
    with db.reading(url) as s:
        actor = actor_for(s, ADMIN)
    assert actor is not None
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        with db.reading(url) as s:
            client_overview(s, actor)[100:200]
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def stream_csv(client: httpx.Client, pid: int) -> dict[str, float]:
    """Rows per second of the answers extract over HTTP, and the server's memory meanwhile."""
    peak, done = [_rss_mb(pid)], threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak.append(_rss_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rows, size, started = 0, 0, time.perf_counter()
    with client.stream("GET", "/extracts/answers.csv", timeout=600) as response:
        for chunk in response.raise_for_status().iter_bytes():
            rows += chunk.count(b"\n")  # a CRLF may fall across two chunks
            size += len(chunk)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return {
        "csv_rows": rows - 1,
        "csv_mb": size / 1e6,
        "csv_seconds": seconds,
        "csv_rows_per_s": (rows - 1) / seconds,
        "rss_start_mb": peak[0],
        "rss_peak_mb": max(peak),
    }


def in_process(url: str) -> float:
    """Rows per second of the answers extract as core.extracts.extract_chunks makes it."""
    with db.reading(url) as s:
        actor = actor_for(s, ADMIN)
    assert actor is not None
    rows, started = 0, time.perf_counter()
    with db.reading(url) as s:
        for chunk in extract_chunks(s, actor, "answers", Filters()):
            rows += chunk.count(b"\n")
    return (rows - 1) / (time.perf_counter() - started)


def floor_rows(url: str) -> float:
    """Rows per second of the answers statement fetched from the driver and dropped."""
    rows, started = 0, time.perf_counter()
    with db.reading(url) as s:
        for batch in row_batches(s, QUERIES["answers"](SYSTEM).statement):
            rows += len(batch)
    return rows / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--walks", type=int, default=2, help="times to walk every page")
    parser.add_argument("--fresh", action="store_true", help="rebuild the data set")
    parser.add_argument("--url", help="a database to seed once and use instead of SQLite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    url, load = (
        _seeded(args.url, args.products) if args.url else data_set(args.products, args.fresh)
    )
    migrate.upgrade(url)  # a data set built before the tokens table exists
    token = _token(url)
    port = 8000 + os.getpid() % 1000
    with tempfile.TemporaryDirectory() as data_dir:
        server = _serve(url, data_dir, port)
        floor = _serve(url, data_dir, port + 1, "benchmarks.api:hello")
        try:
            base = f"http://127.0.0.1:{port}/api/v1"
            auth = {"Authorization": f"Bearer {token}"}
            with (
                httpx.Client(base_url=base, headers=auth) as c,
                httpx.Client(base_url=f"http://127.0.0.1:{port + 1}") as h,
            ):
                listing(c, h, 1)  # warm: imports, caches, the first touch of the token
                times, hellos = listing(c, h, args.walks)
                figures: dict[str, float] = {
                    "assessments": args.products,
                    "answers": load.get("questionnaire_responses", 0),
                    "pages": len(times),
                    "list_p50_ms": statistics.median(times),
                    "list_p95_ms": statistics.quantiles(times, n=20)[18],
                    "hello_p50_ms": statistics.median(hellos),
                    "hello_p95_ms": statistics.quantiles(hellos, n=20)[18],
                    **stream_csv(c, server.pid),
                }
        finally:
            for proc in (server, floor):
                proc.terminate()
                proc.wait(timeout=20)
    figures["naive_list_ms"] = naive_listing(url)
    figures["inprocess_rows_per_s"] = in_process(url)
    figures["floor_rows_per_s"] = floor_rows(url)
    figures["list_speedup_vs_naive"] = figures["naive_list_ms"] / figures["list_p50_ms"]
    figures["list_to_hello_p50"] = figures["list_p50_ms"] / figures["hello_p50_ms"]
    figures["csv_ratio_to_floor"] = figures["csv_rows_per_s"] / figures["floor_rows_per_s"]
    figures["load_before"] = load_before
    figures["load_after"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(figures))
        return 0
    for name, value in figures.items():
        target = TARGETS.get(name)
        mark = f"  (target {target[0]} {target[1]:,})" if target else ""
        print(f"{name:24} {value:>14,.1f}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
