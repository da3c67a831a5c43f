"""Question banks: import-bank, export-bank."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core import db
from core.access import SYSTEM
from core.banks.frameworks import read_source
from core.banks.store import ImportPlan, list_questionnaires, load_bank, plan_import, store_plan
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
    catalog = None
    if args.catalog:
        catalog_path = Path(args.catalog)
        if not catalog_path.is_file():
            raise SecureSphereError(f"no such file: {catalog_path} (the --catalog)")
        catalog = (catalog_path.name, catalog_path.read_bytes())
    source = read_source(
        path,
        path.read_bytes(),
        fmt=args.format,
        level=args.level,
        key=args.key,
        title=args.title,
        version=args.version,
        catalog=catalog,
        control_classes=args.control_class or (),
        where=args.where or (),
    )
    for note in source.notes:
        print(note)
    if args.dry_run:
        with db.reading(settings.database_url) as session:
            plan = plan_import(session, source.bank, version_fixed=source.version_fixed)
        _describe(plan)
        if plan.action == "refused":  # the same refusal the real import would give
            raise SecureSphereError(plan.detail)
        print(f"would import: {plan.detail}" if plan.action != "unchanged" else plan.detail)
        print("dry run: nothing written")
        return 0
    with db.transaction(settings.database_url) as session:
        plan = plan_import(session, source.bank, version_fixed=source.version_fixed)
        _describe(plan)
        _, created = store_plan(session, SYSTEM, plan)
    print(f"imported: {plan.detail}" if created else plan.detail)
    return 0


def _describe(plan: ImportPlan) -> None:
    bank = plan.bank
    sections = ", ".join(f"{s.title} ({len(s.questions)})" for s in bank.sections)
    print(
        f"{bank.title} [{bank.key} v{bank.version}]: {len(bank.questions)} questions in "
        f"{len(bank.sections)} sections: {sections}"
    )


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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add import-bank and export-bank."""
    imp = sub.add_parser("import-bank", help="import a YAML bank, OSCAL catalog or ASVS CSV")
    imp.add_argument("path")
    imp.add_argument(
        "--format", choices=("yaml", "oscal", "asvs", "sheet"), help="default: from the extension"
    )
    imp.add_argument("--level", type=int, help="ASVS level to include (1-3)")
    imp.add_argument("--dry-run", action="store_true", help="say what the import would do")
    oscal = imp.add_argument_group("OSCAL catalogs and profiles")
    oscal.add_argument("--catalog", help="the catalog an OSCAL profile imports")
    oscal.add_argument(
        "--control-class", action="append", help="only controls of this class become questions"
    )
    oscal.add_argument(
        "--where", action="append", metavar="NAME=VALUE", help="only controls with this property"
    )
    imp.add_argument("--key", help="bank key (default: from the catalog's title)")
    imp.add_argument("--title", help="bank title (default: the catalog's)")
    imp.add_argument("--version", type=int, help="bank version (default: the next one)")
    sheets.add_sheet_flags(imp)
    imp.set_defaults(handler=cmd_import_bank)
    exp = sub.add_parser("export-bank", help="print a stored bank as YAML")
    exp.add_argument("key")
    exp.add_argument("--version", type=int)
    exp.set_defaults(handler=cmd_export_bank)
