"""A real SFTP server for offsite tests: Debian's sshd on loopback, key login only, its folder a
temporary directory; rclone reaches it through RCLONE_CONFIG_OFFSITE_* variables."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.layers import skip_layer

SSHD = "/usr/sbin/sshd"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Every descendant of pid (sshd's per-connection processes start their own sessions)."""
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                child = int(stat.parent.name)
                found.append(child)
                frontier.append(child)
    return found


class SftpServer:
    """sshd serving SFTP on 127.0.0.1; ``root`` is the remote folder, start/kill at will."""

    def __init__(self, folder: Path) -> None:
        if not Path(SSHD).exists() or not shutil.which("rclone"):
            skip_layer(
                "needs Debian's sshd and rclone; install with: apt-get install -y openssh-server rclone"
            )
        self.folder, self.port = folder, _free_port()
        self.root = folder / "remote"
        self.root.mkdir(parents=True)
        self.proc: subprocess.Popen[bytes] | None = None
        for name in ("host", "client"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)],
                check=True,
            )
        (folder / "authorized_keys").write_text((folder / "client.pub").read_text())
        (folder / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host'}\n"
            f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPidFile {folder / 'sshd.pid'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
            "PermitRootLogin prohibit-password\nStrictModes no\nSubsystem sftp internal-sftp\n"
        )
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation
        (folder / "rclone.conf").write_text("")

    def env(self) -> dict[str, str]:
        """rclone's configuration of the remote ``offsite`` for this server."""
        return {
            "RCLONE_CONFIG": str(self.folder / "rclone.conf"),
            "RCLONE_CONFIG_OFFSITE_TYPE": "sftp",
            "RCLONE_CONFIG_OFFSITE_HOST": "127.0.0.1",
            "RCLONE_CONFIG_OFFSITE_PORT": str(self.port),
            "RCLONE_CONFIG_OFFSITE_USER": getpass.getuser(),
            "RCLONE_CONFIG_OFFSITE_KEY_FILE": str(self.folder / "client"),
            "RCLONE_CONFIG_OFFSITE_SHELL_TYPE": "none",
            "RCLONE_CONFIG_OFFSITE_DISABLE_HASHCHECK": "true",
        }

    @property
    def remote(self) -> str:
        """SECURESPHERE_OFFSITE_REMOTE for this server."""
        return f"offsite:{self.root}"

    def start(self) -> None:
        """Start sshd and wait until it accepts connections."""
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.folder / "sshd_config")],
            stderr=open(self.folder / "sshd.log", "ab"),  # noqa: SIM115 - lives with the server
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.folder / "sshd.log").read_text()[-2000:])
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start listening")

    def kill(self) -> None:
        """SIGKILL sshd and every connection it serves."""
        if self.proc is None:
            return
        for pid in [*_children(self.proc.pid), self.proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None


@contextlib.contextmanager
def serving(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SftpServer]:
    """A running SFTP server the offsite settings (remote, a fresh key) point at; killed after."""
    from core.offsite_crypto import new_key

    server = SftpServer(folder)
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SECURESPHERE_OFFSITE_REMOTE", server.remote)
    monkeypatch.setenv("SECURESPHERE_OFFSITE_KEY", new_key())
    server.start()
    try:
        yield server
    finally:
        server.kill()
