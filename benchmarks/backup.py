"""Backup benchmarks: python -m benchmarks.backup [--json] [--evidence-mb N] [--url URL]
[--synthetic] [--postgres [--pg-products N]].

Builds the demo database (``init --demo``; with ``--synthetic`` the 1,000,000-answer synthetic
set instead) in a temporary folder, adds N MB of incompressible evidence, then times one backup
(database online copy, evidence, manifest), its encryption for offsite (AES-256-GCM), and its
upload, read back and check through rclone: to SECURESPHERE_OFFSITE_REMOTE when set, else to a
folder on local disk through rclone's local backend (the floor: what encryption and checking cost
without a network). ``--postgres`` adds the point-in-time figures (benchmarks/backup_pitr.py).
The load average is printed with the figures: they move with it.
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
from core.restore import restore_backup
from core.synthetic import seed_synthetic


def _load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg()) + f" ({os.cpu_count()} cores)"


def run(evidence_mb: int, url: str | None, synthetic: bool = False) -> dict[str, Any]:
    """The figures, from a fresh demo database (or ``url``, or the synthetic set) and its data
    dir."""
    with tempfile.TemporaryDirectory(prefix="securesphere-bench-") as tmp:
        folder = Path(tmp)
        data = folder / "data"
        url = url or f"sqlite:///{folder / 'bench.db'}"
        os.environ.update(
            SECURESPHERE_DATABASE_URL=url,
            SECURESPHERE_DATA_DIR=str(data),
            SECURESPHERE_BCRYPT_ROUNDS="4",
        )
        seeded: dict[str, Any] = {}
        if synthetic:
            with contextlib.redirect_stdout(io.StringIO()):
                assert cli(["init"]) == 0
            started = time.perf_counter()
            report = seed_synthetic(url, products=10_000)
            seeded = {
                "answers": report.counts["questionnaire_responses"],
                "seed_s": round(time.perf_counter() - started, 1),
                "database_bytes": Path(url.removeprefix("sqlite:///")).stat().st_size,
            }
        else:
            with contextlib.redirect_stdout(io.StringIO()):  # the demo passwords are no use here
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
        started = time.perf_counter()  # into a new database and data dir: what a lost disk needs
        again = url if not url.startswith("sqlite") else f"sqlite:///{folder / 'restored.db'}"
        if again != url:
            restore_backup(archive, again, folder / "restored")
        restore_s = time.perf_counter() - started
        db.dispose_all()
        size = archive.stat().st_size
        return {
            "engine": url.split(":", 1)[0],
            **seeded,
            "evidence_mb_added": evidence_mb,
            "archive_bytes": size,
            "backup_s": round(backup_s, 3),
            "backup_mb_per_s": round(size / 1e6 / backup_s, 1),
            "encrypted_bytes": sealed.size,
            "encrypt_s": round(encrypt_s, 3),
            "encrypt_mb_per_s": round(sealed.size / 1e6 / encrypt_s, 1),
            "remote": target.remote if from_env() else "rclone local folder",
            "upload_verified_s": round(upload_s, 3),
            "upload_mb_per_s": round(size / 1e6 / upload_s, 1),
            "upload_to_backup_ratio": round(upload_s / backup_s, 2),
            "upload_state": copy.state,
            "restore_s": round(restore_s, 3) if again != url else "not run (PostgreSQL --url)",
            "restore_to_backup_ratio": round(restore_s / backup_s, 2) if again != url else "",
        }


def main() -> None:
    """Print the figures (or one JSON object)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--evidence-mb", type=int, default=50)
    parser.add_argument("--url", help="database to back up (default: a fresh SQLite demo)")
    parser.add_argument("--synthetic", action="store_true", help="the 1,000,000-answer set")
    parser.add_argument("--postgres", action="store_true", help="add PostgreSQL PITR figures")
    parser.add_argument("--pg-products", type=int, default=1000, help="synthetic products (PG)")
    args = parser.parse_args()
    figures: dict[str, Any] = {"load_average_before": _load()}
    figures.update(run(args.evidence_mb, args.url, args.synthetic))
    if args.postgres:
        from benchmarks.backup_pitr import run as pitr

        figures.update(pitr(args.pg_products))
    figures["load_average_after"] = _load()
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
