"""REST API benchmark: python -m benchmarks.api [--json] [--products N] [--fresh] [--pages N].

Builds (or reuses, like benchmarks.dashboard) the synthetic data set, starts the API as it is
deployed (uvicorn core.api:app in its own process, on loopback) and measures over real HTTP:

* list_p50_ms / list_p95_ms: GET /api/v1/assessments?limit=100, walking the cursor through every
  page twice, as an admin (who sees all N assessments);
* naive_list_ms: the same page cut from core.assessments.client_overview (every assessment read,
  then sliced), in this process: what an endpoint without keyset paging would pay;
* csv_rows_per_s: GET /api/v1/extracts/answers.csv (one row per answer: N x 100 rows), streamed;
* floor_rows_per_s: the same rows from core.extracts.extract_rows written by csv in this process;
* rss_start_mb / rss_peak_mb: the API process's resident memory before and during the stream
  (read from /proc every 50 ms).

Figures are printed, never asserted; the ratios show how the API compares with its floor.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from benchmarks.dashboard import ADMIN, data_set
from core import db, migrate
from core.access import SYSTEM
from core.assessments import client_overview
from core.auth import actor_for
from core.exports import safe_cell
from core.extract_columns import EXTRACTS
from core.extracts import extract_rows
from core.filters import Filters
from core.models import User
from core.tokens import create_token

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"list_p95_ms": ("<=", 50), "csv_rows_per_s": (">=", 200_000), "rss_peak_mb": ("<=", 250)}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _token(url: str) -> str:
    with db.transaction(url) as s:
        admin = s.scalar(select(User.id).where(User.username == ADMIN))
        return create_token(
            s, SYSTEM, name="benchmark", scope="read", expires_days=1, user_id=admin
        ).token


def _serve(url: str, data_dir: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SECURESPHERE_DATABASE_URL": url, "SECURESPHERE_DATA_DIR": data_dir}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "core.api:app", "--host", "127.0.0.1", "--port"]
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


def listing(client: httpx.Client, walks: int) -> list[float]:
    """Milliseconds per page of 100, walking the cursor through every page `walks` times."""
    times = []
    for _ in range(walks):
        cursor = None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            started = time.perf_counter()
            response = client.get("/assessments", params=params)
            times.append((time.perf_counter() - started) * 1000)
            cursor = response.raise_for_status().json()["next_cursor"]
            if cursor is None:
                break
    return times


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
            rows += chunk.count(b"\r\n")
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


def floor_csv(url: str) -> float:
    """Rows per second of the same extract written by csv in this process (no HTTP)."""
    with db.reading(url) as s:
        actor = actor_for(s, ADMIN)
    assert actor is not None
    columns = [c.name for c in EXTRACTS["answers"].columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    rows, started = 0, time.perf_counter()
    with db.reading(url) as s:
        for row in extract_rows(s, actor, "answers", Filters()):
            writer.writerow([safe_cell(row.get(c)) for c in columns])
            rows += 1
            if buffer.tell() > 256 * 1024:
                buffer.seek(0)
                buffer.truncate()
    return rows / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--walks", type=int, default=2, help="times to walk every page")
    parser.add_argument("--fresh", action="store_true", help="rebuild the data set")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    url, load = data_set(args.products, args.fresh)
    migrate.upgrade(url)  # a data set built before the tokens table exists
    token = _token(url)
    port = 8000 + os.getpid() % 1000
    with tempfile.TemporaryDirectory() as data_dir:
        server = _serve(url, data_dir, port)
        try:
            base = f"http://127.0.0.1:{port}/api/v1"
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
                listing(c, 1)  # warm: imports, caches, the first touch of the token
                times = listing(c, args.walks)
                figures: dict[str, float] = {
                    "assessments": args.products,
                    "answers": load.get("questionnaire_responses", 0),
                    "pages": len(times),
                    "list_p50_ms": statistics.median(times),
                    "list_p95_ms": statistics.quantiles(times, n=20)[18],
                    **stream_csv(c, server.pid),
                }
        finally:
            server.terminate()
            server.wait(timeout=20)
    figures["naive_list_ms"] = naive_listing(url)
    figures["floor_rows_per_s"] = floor_csv(url)
    figures["list_speedup_vs_naive"] = figures["naive_list_ms"] / figures["list_p50_ms"]
    figures["csv_ratio_to_floor"] = figures["csv_rows_per_s"] / figures["floor_rows_per_s"]
    figures["load_average"] = os.getloadavg()[0]
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
