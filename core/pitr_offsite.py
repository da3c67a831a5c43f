"""PostgreSQL point in time, offsite: base backups and the WAL archive leave the machine like the
other backups (encrypted, uploaded, read back and checked by core/offsite.py), are pruned by the
same tiers there and here, and come back for a rebuild when the machine is lost.

On the remote, under ``pitr/``: ``base-<time>/<file>`` for each file of a base backup (its
``backup.json`` last: a base counts once every file and that one are verified) and
``wal/<segment>.gz`` for each archived segment (gzipped first: a switched segment's unused tail is
zeros). A segment older than the first one the oldest kept base backup needs is of no use to any
recovery and is removed, here and there; timeline history files are kept.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from core.backup import BackupFile
from core.backup_tiers import Tiers, kept
from core.models import utcnow
from core.offsite import Offsite, OffsiteCopy, _created, fetch_into, list_offsite, rclone, upload
from core.pitr import BASES, INFO, BaseBackup, base_backups, base_before, read_info
from core.pitr_recover import give, owner_of

WAL = "wal"
_SEGMENT = re.compile(r"[0-9A-F]{24}")


def _pitr(target: Offsite) -> Offsite:
    return target.under(BASES)


def _older(name: str, start: str) -> bool:
    """True for a segment (or its .backup label) before segment ``start``, on any timeline."""
    return bool(start) and bool(_SEGMENT.match(name)) and name[8:24] < start[8:24]


def wal_files(wal_dir: Path) -> list[Path]:
    """The archived WAL files (segments, .backup labels, .history), oldest first; a segment still
    being copied in (a dot name) is not one yet."""
    folder = Path(wal_dir)
    return (
        sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []
    )


def _base_files(base: BaseBackup) -> list[Path]:
    files = sorted(
        p for p in base.folder.iterdir() if p.name != INFO and not p.name.startswith(".")
    )
    return [*files, base.folder / INFO]


def push_pitr(target: Offsite, data_dir: Path, wal_dir: Path) -> list[OffsiteCopy]:
    """Upload every base backup file and WAL file without a verified copy on the remote."""
    remote = _pitr(target)
    verified = {c.name for c in list_offsite(remote, recursive=True) if c.state == "verified"}
    done = []
    for base in reversed(base_backups(data_dir)):
        for path in _base_files(base):
            name = f"{base.folder.name}/{path.name}"
            if name not in verified:
                done.append(upload(remote, path, name))
    scratch = Path(data_dir) / BASES
    scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in wal_files(wal_dir):
        if f"{WAL}/{path.name}.gz" in verified:
            continue
        with tempfile.TemporaryDirectory(dir=scratch, prefix=".wal-") as tmp:
            packed = Path(tmp) / f"{path.name}.gz"
            with open(path, "rb") as src, gzip.open(packed, "wb", compresslevel=6) as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
            done.append(upload(remote, packed, f"{WAL}/{packed.name}"))
    return done


def _as_files(bases: list[BaseBackup]) -> list[BackupFile]:
    return [BackupFile(b.folder, b.folder.name, 0, b.started) for b in bases]


def _kept(bases: list[BaseBackup], tiers: Tiers, now: datetime | None) -> list[BaseBackup]:
    keep = {f.name for f in kept(_as_files(bases), tiers, now or utcnow())}
    return [b for b in bases if b.folder.name in keep]


def prune_local(
    data_dir: Path, wal_dir: Path, tiers: Tiers, now: datetime | None = None
) -> list[str]:
    """Delete the local base backups the tiers do not keep and the WAL files older than the
    oldest kept one needs; what was removed."""
    bases = base_backups(data_dir)
    keep = _kept(bases, tiers, now)
    removed = [b.folder for b in bases if b not in keep]
    for folder in removed:
        shutil.rmtree(folder)
    start = keep[-1].start_wal if keep else ""
    old = [p for p in wal_files(wal_dir) if _older(p.name, start)]
    for path in old:
        path.unlink(missing_ok=True)
    return [str(p) for p in [*removed, *old]]


def _remote_bases(target: Offsite) -> tuple[dict[str, list[OffsiteCopy]], list[OffsiteCopy]]:
    """The remote's base backup files by folder, and its WAL files."""
    bases: dict[str, list[OffsiteCopy]] = {}
    wal = []
    for copy in list_offsite(_pitr(target), recursive=True):
        folder, _, _ = copy.name.partition("/")
        if folder == WAL:
            wal.append(copy)
        else:
            bases.setdefault(folder, []).append(copy)
    return bases, wal


def _remote_info(remote: Offsite, folder: str, into: Path) -> BaseBackup:
    """A remote base backup's backup.json, read back and checked."""
    got = fetch_into(remote, f"{folder}/{INFO}", into)
    return read_info(Path(folder), got.read_text())


def _delete(remote: Offsite, names: list[str], scratch: Path) -> None:
    if names:
        listing = scratch / "delete.txt"
        listing.write_text("".join(f"{n}.enc\n{n}.enc.json\n" for n in names))
        rclone("delete", remote.remote, "--files-from", str(listing), "--rmdirs")


def prune_pitr_offsite(target: Offsite, tiers: Tiers, now: datetime | None = None) -> list[str]:
    """Delete the remote base backups the tiers do not keep (counting verified ones only) and
    the WAL files older than the oldest kept one needs; what was removed."""
    remote = _pitr(target)
    folders, wal = _remote_bases(target)
    good = [f for f, files in folders.items() if all(c.state == "verified" for c in files)]
    good = [f for f in good if f"{f}/{INFO}" in {c.name for c in folders[f]}]
    with tempfile.TemporaryDirectory(prefix="securesphere-offsite-") as tmp:
        listed = [BaseBackup(Path(f), _stamp(f), _stamp(f)) for f in sorted(good, reverse=True)]
        keep = _kept(listed, tiers, now)
        gone = [b.folder.name for b in listed if b not in keep]
        start = _remote_info(remote, keep[-1].folder.name, Path(tmp)).start_wal if keep else ""
        names = [c.name for f in gone for c in folders[f]]
        names += [c.name for c in wal if _older(c.name.removeprefix(f"{WAL}/"), start)]
        _delete(remote, names, Path(tmp))
    return names


def _stamp(folder: str) -> datetime:
    """When a base backup started, from its folder name (base-<time>, stamped like backups)."""
    return _created(f"securesphere-{folder.removeprefix('base-')}.tar.gz")


def fetch_pitr(target: Offsite, data_dir: Path, wal_dir: Path, when: datetime) -> list[str]:
    """A lost machine: fetch the newest verified remote base backup finished before ``when`` into
    ``data_dir/pitr/`` and every remote WAL file from its first segment on that is not here into
    ``wal_dir`` (each read back and checked); what was fetched. Nothing when none fits."""
    remote = _pitr(target)
    folders, wal = _remote_bases(target)
    root = Path(data_dir) / BASES
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    candidates = [f for f, files in folders.items() if all(c.state == "verified" for c in files)]
    base = None
    with tempfile.TemporaryDirectory(dir=root, prefix=".fetch-") as tmp:
        for folder in sorted(candidates, reverse=True):
            if _stamp(folder) < when and f"{folder}/{INFO}" in {c.name for c in folders[folder]}:
                base = base_before([_remote_info(remote, folder, Path(tmp) / folder)], when)
                if base is not None:
                    break
        if base is None:
            return []
        name = base.folder.name
        staged = Path(tmp) / name
        for copy in folders[name]:
            fetch_into(remote, copy.name, staged)
        os.replace(staged, root / name)  # whole, or not there at all
    Path(wal_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    have, owner = {p.name for p in wal_files(wal_dir)}, owner_of(Path(wal_dir))
    fetched = [str(root / name)]
    for copy in wal:
        segment = copy.name.removeprefix(f"{WAL}/").removesuffix(".gz")
        if segment in have or _older(segment, base.start_wal) or copy.state != "verified":
            continue
        fetched.append(str(_unpack(remote, copy.name, Path(wal_dir) / segment, owner)))
    return fetched


def _unpack(remote: Offsite, name: str, final: Path, owner: tuple[int, int] | None) -> Path:
    """Fetch one gzipped WAL file, check it, and put it in the archive for the server to read."""
    with tempfile.TemporaryDirectory(dir=final.parent, prefix=".fetch-") as tmp:
        packed = fetch_into(remote, name, Path(tmp))
        staged = Path(tmp) / final.name
        with gzip.open(packed, "rb") as src, open(staged, "wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        give(staged, owner)
        os.replace(staged, final)
    return final
