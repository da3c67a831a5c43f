"""Scoring: recompute-scores."""

from __future__ import annotations

import argparse

from core import db
from core.access import SYSTEM
from core.config import Settings
from core.snapshots import recompute_scores


def cmd_recompute_scores(settings: Settings, args: argparse.Namespace) -> int:
    """Re-score every snapshotted assessment with today's bands; snapshot those that changed."""
    opener = db.reading if args.dry_run else db.transaction
    with opener(settings.database_url) as session:
        report = recompute_scores(session, SYSTEM, dry_run=args.dry_run)
    print(
        f"checked {report.checked} assessments with snapshots; {report.changed} changed"
        + (" (dry run: nothing written)" if args.dry_run else " (a 'recompute' snapshot each)")
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add recompute-scores."""
    rec = sub.add_parser("recompute-scores", help="re-score with today's bands; snapshot changes")
    rec.add_argument(
        "--dry-run", action="store_true", help="count what would change, write nothing"
    )
    rec.set_defaults(handler=cmd_recompute_scores)
