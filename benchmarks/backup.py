"""Backup benchmarks: python -m benchmarks.backup [--json] [--evidence-mb N] [--url URL].

Builds the demo database (``init --demo``) in a temporary folder, adds N MB of incompressible
evidence, then times one backup (database online copy, evidence, manifest), its encryption for
offsite (AES-256-GCM), and its upload, read back and check through rclone: to
SECURESPHERE_OFFSITE_REMOTE when set, else to a folder on local disk through rclone's local
backend (the floor: what encryption and checking cost without a network).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from core import db
from core.backup import make_backup
from core.cli import main as cli
from core.offsite import Offsite, from_env, upload
from core.offsite_crypto import encrypt_file, new_key, parse_key


def run(evidence_mb: int, url: str | None) -> dict[str, Any]:
    """The figures, from a fresh demo database (or ``url``) and its data dir."""
    with tempfile.TemporaryDirectory(prefix="securesphere-bench-") as tmp:
        folder = Path(tmp)
        data = folder / "data"
        url = url or f"sqlite:///{folder / 'bench.db'}"
        os.environ.update(
            SECURESPHERE_DATABASE_URL=url,
            SECURESPHERE_DATA_DIR=str(data),
            SECURESPHERE_BCRYPT_ROUNDS="4",
        )
        with contextlib.redirect_stdout(io.StringIO()):  # the demo passwords are of no use here
            assert cli(["init", "--demo"]) == 0
        extra = data / "evidence" / "ff"
        extra.mkdir(parents=True, exist_ok=True)
        for n in range(evidence_mb):  # content-named like real evidence; 1 MB each
            (extra / f"{n:064x}").write_bytes(base64.b64encode(os.urandom(786_432)))
        started = time.perf_counter()
        archive = make_backup(url, data)
        backup_s = time.perf_counter() - started
        started = time.perf_counter()
        sealed = encrypt_file(archive, folder / "sealed.enc", parse_key(new_key()))
        encrypt_s = time.perf_counter() - started
        target = from_env() or Offsite(str(folder / "remote"), parse_key(new_key()))
        started = time.perf_counter()
        copy = upload(target, archive)
        upload_s = time.perf_counter() - started
        db.dispose_all()
        return {
            "engine": url.split(":", 1)[0],
            "evidence_mb_added": evidence_mb,
            "archive_bytes": archive.stat().st_size,
            "backup_s": round(backup_s, 3),
            "encrypted_bytes": sealed.size,
            "encrypt_s": round(encrypt_s, 3),
            "encrypt_mb_per_s": round(sealed.size / 1e6 / encrypt_s, 1),
            "remote": target.remote if from_env() else "rclone local folder",
            "upload_verified_s": round(upload_s, 3),
            "upload_state": copy.state,
        }


def main() -> None:
    """Print the figures (or one JSON object)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--evidence-mb", type=int, default=50)
    parser.add_argument("--url", help="database to back up (default: a fresh SQLite demo)")
    args = parser.parse_args()
    figures = run(args.evidence_mb, args.url)
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
