"""Content-addressed storage of evidence bytes on disk: one blob per content, named by its hash,
written atomically and durably."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from contextlib import suppress
from pathlib import Path

from core.errors import SecureSphereError

_BLOB_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{64}")


def blob_path(data_dir: Path, key: str) -> Path:
    """Where the blob of a storage key lives under the data dir."""
    # Keys are server-made, but a path is only ever built from one that has exactly their shape.
    if not _BLOB_KEY.fullmatch(key):
        raise SecureSphereError("The evidence file is damaged (bad storage key).")
    return Path(data_dir) / "evidence" / key


def _sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def store_blob(data_dir: Path, digest: str, data: bytes) -> str:
    """Write the bytes under their hash (atomically, once); returns the storage key."""
    key = f"{digest[:2]}/{digest}"
    target = blob_path(data_dir, key)
    if _sha256_of(target) == digest:
        return key  # same content already stored: uploads of one file share one blob
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return key


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; platforms that cannot open a directory skip this.
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
