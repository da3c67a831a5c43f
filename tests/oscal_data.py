"""The published OSCAL files the tests use (tests/data/oscal, data/frameworks), as bytes or paths.

Files over 1 MB are kept gzipped in git; they are decompressed here, once per process."""

from __future__ import annotations

import copy
import functools
import gzip
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "oscal"
FRAMEWORKS = ROOT / "data" / "frameworks"

FULL = "NIST_SP-800-53_rev5_catalog.json"  # 5.0.1: 1,189 controls, 182 withdrawn
MODERATE_PROFILE = "NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"
MODERATE_XML = "NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.xml"
MODERATE_YAML = "NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.yaml"
FEDRAMP = "FedRAMP_rev5_LOW-baseline-resolved-profile_catalog.json"
ISO = "ISO27001-AnnexA-catalog.json"
CSF = "NIST_CSF_v2.0_catalog.xml"
LOW = "NIST_SP-800-53_rev5_LOW-baseline-resolved-profile_catalog-min.json"


@functools.cache
def oscal_bytes(name: str) -> bytes:
    """A published file's bytes, decompressed if stored as NAME.gz."""
    for folder in (DATA, FRAMEWORKS):
        if (folder / name).is_file():
            return (folder / name).read_bytes()
        if (folder / f"{name}.gz").is_file():
            return gzip.decompress((folder / f"{name}.gz").read_bytes())
    raise FileNotFoundError(name)


def oscal_json(name: str) -> dict:
    """A published JSON (or YAML) file as data, a fresh copy each call."""
    return copy.deepcopy(_parsed(name))


@functools.cache
def _parsed(name: str) -> dict:
    data = oscal_bytes(name)
    if name.endswith(".yaml"):  # PyYAML, not the importer's reader: the tests check that one
        return yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return json.loads(data)


def oscal_path(folder: Path, name: str, data: bytes | None = None) -> Path:
    """A file under folder holding the published file (or the given bytes), for the CLI."""
    path = folder / name
    path.write_bytes(oscal_bytes(name) if data is None else data)
    return path
