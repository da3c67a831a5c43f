"""The crosswalk SecureSphere ships (data/mappings): NIST's CSF 2.0 to SP 800-53 rev 5, imported
by `init` once both banks are stored."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session

from core.access import SYSTEM
from core.mappings.read import read_mapping
from core.mappings.store import newest_banks, plan_mapping, store_mapping

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "data" / "mappings"
CSF_TO_800_53 = "NIST_OLIR-186_CSF-2.0_to_SP800-53r5.2.0_Concept-Crosswalk_draft.xlsx"
PUBLIC_DOMAIN = "Public domain (US government work)"
# (file, source bank, target bank, mapping key, title: the workbook names none)
SHIPPED = (
    (
        CSF_TO_800_53,
        "nist-csf-2.0",
        "nist-800-53-r5-low",
        "nist-csf-2.0-to-800-53-r5",
        "NIST CSF 2.0 to SP 800-53 Rev. 5 (OLIR-186 concept crosswalk)",
    ),
)


def import_shipped(session: Session) -> int:
    """Import each shipped mapping whose banks are stored; how many were new."""
    banks = newest_banks(session)
    created = 0
    for name, source, target, key, title in SHIPPED:
        if source not in banks or target not in banks:
            continue
        path = MAPPINGS_DIR / name
        mapping = replace(read_mapping(name, path.read_bytes()), title=title)
        plan = plan_mapping(
            session, mapping, source_bank=source, target_bank=target, key=key, licence=PUBLIC_DOMAIN
        )
        created += store_mapping(session, SYSTEM, plan)[1]
    return created
