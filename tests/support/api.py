"""A real API server for tests: uvicorn serving core.api:app on loopback, in its own process,
pointed at a test database, and the databases and tokens the API tests share per module."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from psycopg import sql

from core import db
from core.access import SYSTEM, Actor
from core.tokens import create_token

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiServer:
    """uvicorn core.api:app on 127.0.0.1 (a free port), until stop()."""

    def __init__(self, url: str, data_dir: Path, log: Path, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "SECURESPHERE_DATABASE_URL": url,
            "SECURESPHERE_DATA_DIR": str(data_dir),
            "SECURESPHERE_BCRYPT_ROUNDS": "4",
            "FORWARDED_ALLOW_IPS": "",
            **env,
        }
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "core.api:app", "--host", "127.0.0.1"]
            + ["--port", str(self.port), "--no-access-log"],
            cwd=REPO_ROOT,
            env=environment,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the API exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the API did not answer in time: {self.log.read_text()[-3000:]}")

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=f"{self.base}/api/v1", headers=headers, timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def token_for(url: str, actor: Actor, scope: str = "write", days: int = 30) -> str:
    """A token of the actor's account, issued through core."""
    with db.transaction(url) as s:
        return create_token(
            s,
            SYSTEM,
            name=f"{actor.username} {scope}",
            scope=scope,
            expires_days=days,
            user_id=actor.user_id,
        ).token


def module_database(request, kind: str, tmp: Path) -> str:
    """A migrated database (shipped banks, default settings) of the kind, for one module."""
    if kind == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp / "api.db"
        path.write_bytes(Path(template).read_bytes())
        return f"sqlite:///{path}"
    cluster = request.getfixturevalue("pg_cluster")
    template = request.getfixturevalue("pg_template")
    name = f"api_{os.getpid()}_{free_port()}"
    with cluster._admin_connect() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    request.addfinalizer(lambda: cluster.drop_database(name))
    return cluster.url(name)


def problem(response: httpx.Response, status: int) -> dict:
    """The response's problem document, checked to be one with that status."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    assert body["type"].startswith("/api/problems/"), body
    return body
