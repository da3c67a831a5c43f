"""Encrypting a backup before it leaves the machine: AES-256-GCM in 1 MiB chunks, with the key the
operator holds (``SECURESPHERE_OFFSITE_KEY``, 32 bytes in URL-safe base64).

A file is ``MAGIC``, a 7-byte random prefix, then chunks of up to 1 MiB each sealed with the nonce
prefix + 4-byte chunk number + 1-byte last-chunk flag (the STREAM construction): a changed,
reordered, dropped or truncated chunk fails to open. Records that travel with a copy (its hashes)
are signed with an HMAC under a key derived from the same key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import IO, Any, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import SecureSphereError

MAGIC = b"SSOFFSITE1\n"
CHUNK = 1024 * 1024
_TAG = 16
_PREFIX = 7


class Sealed(NamedTuple):
    """The SHA-256 of what was encrypted and of the encrypted file, and its size."""

    plain_sha256: str
    sealed_sha256: str
    size: int


def new_key() -> str:
    """A fresh key for SECURESPHERE_OFFSITE_KEY."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def parse_key(text: str) -> bytes:
    """The 32 key bytes from its base64 text; a wrong key is refused with what to do."""
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise SecureSphereError(
            "SECURESPHERE_OFFSITE_KEY must be 32 bytes in URL-safe base64 "
            "(make one with: python -m core.cli backups offsite-key)"
        )
    return key


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def encrypt_file(source: Path, target: Path, key: bytes) -> Sealed:
    """Write ``source`` encrypted to ``target`` (mode 600); the hashes of both."""
    aead, prefix = AESGCM(key), os.urandom(_PREFIX)
    plain, sealed = hashlib.sha256(), hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:

        def out(data: bytes) -> None:
            sealed.update(data)
            dst.write(data)

        out(MAGIC + prefix)
        chunk, index = src.read(CHUNK), 0
        while True:
            following = src.read(CHUNK)
            plain.update(chunk)
            out(aead.encrypt(_nonce(prefix, index, not following), chunk, None))
            if not following:
                break
            chunk, index = following, index + 1
        dst.flush()
        os.fsync(dst.fileno())
    return Sealed(plain.hexdigest(), sealed.hexdigest(), target.stat().st_size)


def decrypt_stream(source: IO[bytes], target: Path, key: bytes) -> Sealed:
    """Decrypt an encrypted stream into ``target`` (mode 600); refuses anything changed."""
    aead = AESGCM(key)
    plain, sealed = hashlib.sha256(), hashlib.sha256()

    def read(size: int) -> bytes:
        data = source.read(size)
        sealed.update(data)
        return data

    head = read(len(MAGIC) + _PREFIX)
    if not head.startswith(MAGIC) or len(head) != len(MAGIC) + _PREFIX:
        raise SecureSphereError("not an encrypted SecureSphere backup (or cut short)")
    prefix, size = head[len(MAGIC) :], len(head)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as dst:
        block, index = read(CHUNK + _TAG), 0
        while True:
            following = read(CHUNK + _TAG)
            try:
                data = aead.decrypt(_nonce(prefix, index, not following), block, None)
            except InvalidTag as exc:
                raise SecureSphereError(
                    f"chunk {index} does not decrypt: changed, cut short, or another key"
                ) from exc
            plain.update(data)
            dst.write(data)
            size += len(block)
            if not following:
                break
            block, index = following, index + 1
    return Sealed(plain.hexdigest(), sealed.hexdigest(), size)


def _mac_key(key: bytes) -> bytes:
    return hmac.new(key, b"securesphere offsite record", hashlib.sha256).digest()


def sign_record(record: dict[str, Any], key: bytes) -> bytes:
    """The record as JSON with an HMAC over it, to travel next to a copy."""
    body = json.dumps(record, sort_keys=True)
    mac = hmac.new(_mac_key(key), body.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"record": record, "hmac": mac}, sort_keys=True).encode()


def open_record(data: bytes, key: bytes) -> dict[str, Any] | None:
    """The record if its HMAC holds under this key, else None."""
    try:
        outer = json.loads(data)
        record, mac = outer["record"], str(outer["hmac"])
    except (ValueError, KeyError, TypeError):
        return None
    body = json.dumps(record, sort_keys=True).encode()
    good = hmac.new(_mac_key(key), body, hashlib.sha256).hexdigest()
    return dict(record) if isinstance(record, dict) and hmac.compare_digest(mac, good) else None
