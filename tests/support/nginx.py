"""Run the shipped deploy/nginx.conf for real: Debian's nginx on loopback, a self-signed
certificate made here, in front of app processes started by tests/support/browser.py.

The tested file is the shipped one with a few literal substitutions (:func:`site_config`),
each of which must match exactly, so an edit to the shipped file cannot slip past the test:
listen addresses and ports, certificate paths and the upstream ports. Everything nginx writes
(pid, logs, temp files) goes to a temp dir through the wrapping main config, which includes
the site file inside ``http {}`` as ``/etc/nginx/conf.d/`` would.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from .browser import REPO_ROOT
from .layers import skip_layer

SHIPPED = REPO_ROOT / "deploy" / "nginx.conf"
INSTALL_HINT = "install with: apt-get install -y nginx openssl"
START_TIMEOUT = 20.0
# The browser reaches nginx on IPv6 loopback and nginx reaches the apps on IPv4 loopback, so
# the browser's address (::1) differs from the proxy's (127.0.0.1): only then can a test tell
# "believed the proxy" from "believed the client".
LISTEN_HOST = "[::1]"
ACCESS_LOG_FORMAT = '$remote_addr "$request" $status "$http_x_forwarded_for" $upstream_addr'


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


def require_nginx() -> str:
    """The nginx and openssl binaries, or ``skip_layer``."""
    binary = nginx_binary()
    if binary is None or shutil.which("openssl") is None:
        skip_layer(f"nginx or openssl not found; {INSTALL_HINT}")
    return binary


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, 127.0.0.1 and ::1: (certificate, key)."""
    cert, key = directory / "test.crt", directory / "test.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _replace(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise AssertionError(
            f"deploy/nginx.conf no longer contains exactly one {old!r}; "
            "update tests/support/nginx.py with the shipped file"
        )
    return text.replace(old, new)


def site_config(
    *, http_port: int, https_port: int, app_ports: tuple[int, int], cert: Path, key: Path
) -> str:
    """The shipped file, with only addresses, ports and certificate paths replaced."""
    text = SHIPPED.read_text()
    for old, new in [
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen {LISTEN_HOST}:{https_port} ssl http2;"),
        ("server 127.0.0.1:8501;", f"server 127.0.0.1:{app_ports[0]};"),
        ("server 127.0.0.1:8502;", f"server 127.0.0.1:{app_ports[1]};"),
        ("/etc/ssl/certs/securesphere.crt", str(cert)),
        ("/etc/ssl/private/securesphere.key", str(key)),
    ]:
        text = _replace(text, old, new)
    return text


def write_config(prefix: Path, site: str) -> Path:
    """The main config around the site file; returns its path."""
    (prefix / "site.conf").write_text(site)
    temp = "\n".join(
        f"    {name}_temp_path {prefix / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root the workers would otherwise run as nobody and could not use the private temp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = prefix / "nginx.conf"
    main.write_text(f"""{user}worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections 256; }}
http {{
    log_format test '{ACCESS_LOG_FORMAT}';
    access_log {prefix / "access.log"} test;
{temp}
    include {prefix / "site.conf"};
}}
""")
    return main


def _argv(binary: str, prefix: Path, config: Path) -> list[str]:
    return [binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(config)]


def check_config(binary: str, prefix: Path, config: Path) -> subprocess.CompletedProcess:
    """``nginx -t`` on the config; output in stderr."""
    return subprocess.run(
        _argv(binary, prefix, config) + ["-t"], capture_output=True, text=True, timeout=30
    )


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("::1", port), timeout=1):
            return True
    except OSError:
        return False


def start_nginx(binary: str, prefix: Path, config: Path, https_port: int) -> subprocess.Popen:
    """Run nginx in the foreground until it accepts connections on the HTTPS port."""
    proc = subprocess.Popen(
        _argv(binary, prefix, config) + ["-g", "daemon off;"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while not _accepts(https_port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_nginx(proc)
            raise RuntimeError(
                f"nginx did not start: {proc.stderr.read().decode(errors='replace')}"
                f"\n{_tail(prefix / 'error.log')}"
            )
        time.sleep(0.1)
    return proc


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def stop_nginx(proc: subprocess.Popen) -> None:
    """Fast shutdown (SIGTERM to the master, which stops its workers). Idempotent."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if proc.stderr:
        proc.stderr.close()
