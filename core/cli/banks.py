"""Question banks: import-bank, export-bank."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core import db
from core.access import SYSTEM
from core.banks.frameworks import load_bank_source
from core.banks.store import import_bank, list_questionnaires, load_bank
from core.banks.yaml_io import dump_bank
from core.cli import sheets
from core.config import Settings
from core.errors import SecureSphereError


def cmd_import_bank(settings: Settings, args: argparse.Namespace) -> int:
    """Import a YAML bank, OSCAL catalog or ASVS CSV; --dry-run previews without writing."""
    if sheets.wants_sheet(args):  # a questionnaire spreadsheet: core/cli/sheets.py
        return sheets.cmd_import_sheet(settings, args)
    path = Path(args.path)
    if not path.is_file():
        raise SecureSphereError(f"no such file: {path}")
    bank = load_bank_source(path, path.read_bytes(), fmt=args.format, level=args.level)
    sections = ", ".join(f"{s.title} ({len(s.questions)})" for s in bank.sections)
    print(
        f"{bank.title} [{bank.key} v{bank.version}]: {len(bank.questions)} questions in "
        f"{len(bank.sections)} sections: {sections}"
    )
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    with db.transaction(settings.database_url) as session:
        _, created = import_bank(session, SYSTEM, bank)
    print("imported" if created else "already present, unchanged")
    return 0


def cmd_export_bank(settings: Settings, args: argparse.Namespace) -> int:
    """Print a stored bank as YAML (newest version unless --version)."""
    with db.reading(settings.database_url) as session:
        versions = [
            q
            for q in list_questionnaires(session)
            if q["key"] == args.key and (args.version is None or q["version"] == args.version)
        ]
        if not versions:
            raise SecureSphereError(
                f"no bank {args.key!r}" + (f" version {args.version}" if args.version else "")
            )
        bank = load_bank(session, max(versions, key=lambda q: q["version"])["id"])
    sys.stdout.write(dump_bank(bank))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add import-bank and export-bank."""
    imp = sub.add_parser("import-bank", help="import a YAML bank, OSCAL catalog or ASVS CSV")
    imp.add_argument("path")
    imp.add_argument(
        "--format", choices=("yaml", "oscal", "asvs", "sheet"), help="default: from the extension"
    )
    imp.add_argument("--level", type=int, help="ASVS level to include (1-3)")
    imp.add_argument("--dry-run", action="store_true", help="preview only")
    sheets.add_sheet_flags(imp)
    imp.set_defaults(handler=cmd_import_bank)
    exp = sub.add_parser("export-bank", help="print a stored bank as YAML")
    exp.add_argument("key")
    exp.add_argument("--version", type=int)
    exp.set_defaults(handler=cmd_export_bank)
