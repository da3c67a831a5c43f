"""Analytics: seed-synthetic."""

from __future__ import annotations

import argparse

from core.config import Settings
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add seed-synthetic."""
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
