"""Framework crosswalks: import-mapping, prefill."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core import db
from core.access import SYSTEM
from core.config import Settings
from core.errors import SecureSphereError
from core.mappings.prefill import Prefill, apply_prefill, plan_prefill
from core.mappings.read import read_mapping
from core.mappings.store import MappingPlan, plan_mapping, store_mapping


def cmd_import_mapping(settings: Settings, args: argparse.Namespace) -> int:
    """Import an OSCAL mapping-collection, an OLIR workbook or a CSV; --dry-run previews."""
    path = Path(args.path)
    if not path.is_file():
        raise SecureSphereError(f"no such file: {path}")
    mapping = read_mapping(path.name, path.read_bytes())
    options = {"source_bank": args.source_bank, "target_bank": args.target_bank, "key": args.key}
    if args.dry_run:
        with db.reading(settings.database_url) as session:
            plan = plan_mapping(session, mapping, **options)
        _report(plan)
        print(f"would import: {plan.detail}" if plan.action != "unchanged" else plan.detail)
        print("dry run: nothing written")
        return 0
    with db.transaction(settings.database_url) as session:
        plan = plan_mapping(session, mapping, **options)
        _report(plan)
        _, created = store_mapping(session, SYSTEM, plan)
    print(f"imported: {plan.detail}" if created else plan.detail)
    return 0


def _report(plan: MappingPlan) -> None:
    report = plan.report
    relationships = ", ".join(f"{k} {v}" for k, v in sorted(report["relationships"].items()))
    print(
        f"{plan.title}: {plan.source_bank.title} v{plan.source_bank.version} -> "
        f"{plan.target_bank.title} v{plan.target_bank.version}; {report['pairs']} pairs, "
        f"{report['links']} links ({relationships or 'none'})"
    )
    for note in plan.notes:
        print(f"note: {note}")
    for name, ids in (
        ("source ids not in the source bank", report["unresolved_sources"]),
        ("target ids not in the target bank", report["unresolved_targets"]),
    ):
        if ids:
            print(f"{len(ids)} {name}: {', '.join(ids)}")
    for raw, into in report["withdrawn_targets"].items():
        print(f"withdrawn target: {raw} (incorporated into {into})")
    for raw, section in report["family_targets"].items():
        print(
            f"family-level target: {raw} (the whole '{section}' family; not carried to its controls)"
        )
    if report["duplicates"]:
        print(f"{report['duplicates']} repeated pairs read once")


def cmd_prefill(settings: Settings, args: argparse.Namespace) -> int:
    """Pre-fill an assessment from another of the same product through a mapping."""
    run = plan_prefill if args.dry_run else apply_prefill
    with db.transaction(settings.database_url) as session:
        result = run(session, SYSTEM, args.target, args.source, mapping_key=args.mapping)
    if args.json:
        print(json.dumps(result.counts()))
        return 0
    _summary(result, args.dry_run)
    return 0


def _summary(result: Prefill, dry_run: bool) -> None:
    verb = "would carry" if dry_run else "carried"
    print(
        f"assessment {result.target_id} from {result.source_id} through '{result.mapping_key}' "
        f"v{result.mapping_version}: {verb} {len(result.carried)}, proposed "
        f"{len(result.proposed)} (to confirm), {len(result.kept)} already answered, "
        f"{len(result.uncovered)} uncovered"
    )
    if result.unresolved:
        print(
            f"{len(result.unresolved)} ids the mapping could not resolve: "
            + ", ".join(result.unresolved)
        )
    if dry_run:
        print("dry run: nothing written")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add import-mapping and prefill."""
    imp = sub.add_parser(
        "import-mapping", help="import a crosswalk: OSCAL mapping-collection, OLIR workbook, CSV"
    )
    imp.add_argument("path")
    imp.add_argument("--source-bank", help="bank key of the source side (default: from the ids)")
    imp.add_argument("--target-bank", help="bank key of the target side (default: from the ids)")
    imp.add_argument("--key", help="mapping key (default: SOURCE-to-TARGET)")
    imp.add_argument("--dry-run", action="store_true", help="say what the import would do")
    imp.set_defaults(handler=cmd_import_mapping)
    pre = sub.add_parser("prefill", help="pre-fill an assessment from a mapped one")
    pre.add_argument("target", type=int, help="the assessment to fill")
    pre.add_argument("--from", dest="source", type=int, required=True, help="the source")
    pre.add_argument("--mapping", help="mapping key (default: the newest linking the banks)")
    pre.add_argument("--dry-run", action="store_true", help="say what it would do")
    pre.add_argument("--json", action="store_true", help="print one JSON object of counts")
    pre.set_defaults(handler=cmd_prefill)
