"""Throw-away PostgreSQL clusters for tests.

Typical use from a session-scoped fixture::

    from tests.support.postgres import require_cluster

    @pytest.fixture(scope="session")
    def pg_cluster():
        cluster = require_cluster()          # skips/fails via skip_layer if no binaries
        yield cluster
        cluster.stop()

    def test_x(pg_cluster):
        pg_cluster.create_database("t1")
        engine = sqlalchemy.create_engine(pg_cluster.url("t1"))

The cluster lives in a fresh temporary directory, listens on 127.0.0.1 on a
free port (and on a Unix socket inside the temp dir), trusts every local
connection and runs with ``fsync=off``.  When running as root the server runs
as the ``postgres`` system user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import atexit
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

PG_LIB_GLOB = "/usr/lib/postgresql/*/bin/initdb"
INSTALL_HINT = "install with: apt-get install -y postgresql"
SUPERUSER = "postgres"


def find_pg_bin() -> Path | None:
    """Directory holding ``initdb``/``pg_ctl`` of the newest installed PostgreSQL.

    Searches Debian's ``/usr/lib/postgresql/<major>/bin``; falls back to an
    ``initdb`` on ``PATH``.  Returns ``None`` when none is found.
    """
    candidates: list[tuple[tuple[int, ...], Path]] = []
    for initdb in Path("/").glob(PG_LIB_GLOB.lstrip("/")):
        major = initdb.parent.parent.name
        key = tuple(int(p) for p in re.findall(r"\d+", major)) or (0,)
        if os.access(initdb, os.X_OK) and (initdb.parent / "pg_ctl").exists():
            candidates.append((key, initdb.parent))
    if candidates:
        return max(candidates)[1]
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl", path=str(Path(on_path).parent)):
        return Path(on_path).parent
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _as_server_user(argv: list[str]) -> list[str]:
    """Wrap ``argv`` so it runs as the ``postgres`` user when we are root."""
    if not _is_root():
        return argv
    runuser = shutil.which("runuser") or next(
        (p for p in ("/usr/sbin/runuser", "/sbin/runuser") if os.path.exists(p)), None
    )
    if runuser:
        return [runuser, "-u", SUPERUSER, "--", *argv]
    return ["su", SUPERUSER, "-s", "/bin/sh", "-c", shlex.join(argv)]


class PgClusterError(RuntimeError):
    pass


class PgCluster:
    """A running throw-away cluster.  Create with :func:`start_cluster`."""

    host = "127.0.0.1"
    user = SUPERUSER

    def __init__(
        self, bin_dir: Path, base_dir: Path, port: int, settings: dict[str, str] | None = None
    ) -> None:
        self.bin_dir = bin_dir
        self.settings = settings or {}
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.socket_dir = base_dir / "sock"
        self.log_file = base_dir / "postgres.log"
        self.port = port
        self.running = False

    # -- connection helpers -------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) for database ``dbname``."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{quote(dbname, safe='')}"

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq connection string, for ``psycopg.connect``."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def _admin_connect(self):
        import psycopg

        return psycopg.connect(self.dsn("postgres"), autocommit=True, connect_timeout=10)

    def create_database(self, name: str) -> str:
        """``CREATE DATABASE name``; returns :meth:`url` for it."""
        from psycopg import sql

        with self._admin_connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """``DROP DATABASE IF EXISTS name WITH (FORCE)``."""
        from psycopg import sql

        with self._admin_connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    # -- lifecycle ------------------------------------------------------------
    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"

    def _pg_ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        argv = _as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args])
        return subprocess.run(
            argv,
            cwd=self.base_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def _start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses={self.host} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        ) + "".join(f" -c {name}={value}" for name, value in self.settings.items())
        res = self._pg_ctl("-w", "-t", "30", "-l", str(self.log_file), "-o", opts, "start")
        if res.returncode != 0:
            raise PgClusterError(
                f"pg_ctl start failed (port {self.port}):\n{res.stdout}{res.stderr}\n"
                f"--- server log ---\n{self.log_tail()}"
            )
        self.running = True

    def stop(self) -> None:
        """Stop the server (``-m fast``) and delete the temp directory. Idempotent."""
        if self.running:
            try:
                self._pg_ctl("-w", "-t", "30", "-m", "fast", "stop")
            except subprocess.TimeoutExpired:
                self._pg_ctl("-m", "immediate", "stop")
            self.running = False
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<PgCluster {self.bin_dir} port={self.port} dir={self.base_dir}>"


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid)


def start_cluster(
    bin_dir: Path | None = None, attempts: int = 3, settings: dict[str, str] | None = None
) -> PgCluster:
    """initdb + start a fresh cluster; returns the running :class:`PgCluster`.

    ``settings`` are further server settings (name -> value, given as ``-c name=value``).

    Raises :class:`PgClusterError` when the binaries are missing or the
    server does not come up.  The cluster is also stopped at interpreter exit
    if the caller forgets to.
    """
    bin_dir = bin_dir or find_pg_bin()
    if bin_dir is None:
        raise PgClusterError(f"PostgreSQL binaries not found (initdb); {INSTALL_HINT}")

    root = _is_root()
    owner: tuple[int, int] | None = None
    if root:
        import pwd

        try:
            pw = pwd.getpwnam(SUPERUSER)
        except KeyError as exc:
            raise PgClusterError(
                f"running as root but there is no '{SUPERUSER}' system user to run the "
                f"server as; {INSTALL_HINT}"
            ) from exc
        owner = (pw.pw_uid, pw.pw_gid)

    # /tmp explicitly as root: $TMPDIR might sit below a 0700 home the
    # postgres user cannot traverse.
    base = Path(tempfile.mkdtemp(prefix="securesphere-pg-", dir="/tmp" if root else None))
    cluster: PgCluster | None = None
    try:
        base.chmod(0o755)
        (base / "data").mkdir(mode=0o700)
        (base / "sock").mkdir(mode=0o755)
        if owner:
            _chown_tree(base, *owner)

        initdb = _as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(base / "data"),
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]
        )
        res = subprocess.run(
            initdb, cwd=base, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )
        if res.returncode != 0 and "--no-instructions" in (res.stderr or ""):
            # very old initdb without --no-instructions
            initdb.remove("--no-instructions")
            res = subprocess.run(
                initdb,
                cwd=base,
                capture_output=True,
                text=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
            )
        if res.returncode != 0:
            raise PgClusterError(f"initdb failed:\n{res.stdout}{res.stderr}")

        last_error: Exception | None = None
        for _ in range(attempts):  # retry in case another process grabbed the port
            cluster = PgCluster(bin_dir, base, free_port(), settings)
            try:
                cluster._start()
                break
            except PgClusterError as exc:
                last_error = exc
                time.sleep(0.2)
        else:
            raise last_error or PgClusterError("pg_ctl start failed")
    except BaseException:
        if cluster is not None and cluster.running:
            cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
        raise

    atexit.register(cluster.stop)
    return cluster


def require_cluster() -> PgCluster:
    """:func:`start_cluster`, or ``skip_layer`` (skip / fail under REQUIRE_ALL)."""
    from .layers import skip_layer

    if find_pg_bin() is None:
        skip_layer(f"PostgreSQL binaries not found (initdb); {INSTALL_HINT}")
    return start_cluster()
