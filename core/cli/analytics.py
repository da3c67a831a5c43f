"""Analytics: seed-synthetic, analytics-verify."""

from __future__ import annotations

import argparse

from core import db
from core.config import Settings
from core.errors import SecureSphereError
from core.read_model_check import MAX_LISTED, check
from core.synthetic import seed_synthetic


def cmd_seed_synthetic(settings: Settings, args: argparse.Namespace) -> int:
    """Build the synthetic benchmark data set (see core/synthetic.py) and print rows/s."""
    url = args.url or settings.database_url
    done = seed_synthetic(url, products=args.products, questions=args.questions, seed=args.seed)
    rows = done.counts
    print(
        f"synthetic data set: {rows['organizations']} organisations, {rows['products']} products, "
        f"{rows['questionnaire_responses']:,} answers, {rows['score_history']:,} snapshots, "
        f"{rows['product_statuses']:,} status changes in {done.seconds:.1f} s"
    )
    print(f"answers: {done.answer_rows_per_s:,.0f} rows/s; all rows: {done.rows_per_s:,.0f} rows/s")
    return 0


def cmd_analytics_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Recompute the dashboards' read model from the source tables; name every difference."""
    with db.reading(args.url or settings.database_url) as session:
        found = check(session)
    for line in found.differences[:MAX_LISTED]:
        print(line)
    if found.differences:
        more = len(found.differences) - MAX_LISTED
        raise SecureSphereError(
            f"the read model differs from the source tables in {len(found.differences)} places"
            + (f" ({more} not listed)" if more > 0 else "")
        )
    print(
        f"read model matches the source tables: {found.assessments:,} assessments, "
        f"{found.rows:,} section and roll-up rows"
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add seed-synthetic and analytics-verify."""
    syn = sub.add_parser(
        "seed-synthetic",
        help="build the synthetic benchmark data set (not for "
        "production: its rows carry no audit trail)",
    )
    syn.add_argument("--products", type=int, default=10_000, help="products, one assessment each")
    syn.add_argument("--questions", type=int, default=100, help="questions in the synthetic bank")
    syn.add_argument("--seed", type=int, default=1, help="random seed")
    syn.add_argument("--url", help="database URL (default: SECURESPHERE_DATABASE_URL)")
    syn.set_defaults(handler=cmd_seed_synthetic)
    ver = sub.add_parser(
        "analytics-verify", help="check the dashboards' read model against the source tables"
    )
    ver.add_argument("--url", help="database URL (default: SECURESPHERE_DATABASE_URL)")
    ver.set_defaults(handler=cmd_analytics_verify)
