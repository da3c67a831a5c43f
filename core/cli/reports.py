"""Reports: report assessment ID and report portfolio, each written to --out as PDF.

Without --as the report is the operator's (the system, which reads everything); with --as it is
exactly what that user may see, and a refusal is the one core/access gives, written to the
audit trail like a refusal on a page.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, db
from core.access import SYSTEM, Actor
from core.auth import actor_for
from core.config import Settings
from core.errors import AccessDenied, NotFound
from core.filters import Filters
from core.models import TIERS, Organization


def _actor(session: Session, username: str | None) -> Actor:
    if username is None:
        return SYSTEM
    actor = actor_for(session, username)
    if actor is None:
        raise NotFound(f"there is no active user {username!r}")
    return actor


def _record_refusal(settings: Settings, username: str | None, what: str) -> None:
    """The refused report in the audit trail, in its own transaction (the read rolled back)."""
    with db.transaction(settings.database_url) as session:
        actor = _actor(session, username)
        audit.record(session, actor, "access_denied", object_type="report", object_id=what)


def _organization(session: Session, value: str | None) -> int | None:
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    found = session.scalar(select(Organization.id).where(Organization.name == value))
    if found is None:
        raise NotFound(f"there is no organisation named {value!r}")
    return found


def _write(path: Path, pdf: bytes, what: str) -> None:
    path.write_bytes(pdf)
    print(f"wrote {what} ({len(pdf):,} bytes) to {path}")


def cmd_report_assessment(settings: Settings, args: argparse.Namespace) -> int:
    """The assessment report of one assessment, as the --as user may read it."""
    from core.report_assessment import assessment_report_pdf  # ReportLab only when reporting

    try:
        with db.reading(settings.database_url) as session:
            actor = _actor(session, args.as_user)
            pdf = assessment_report_pdf(session, actor, args.assessment_id)
    except AccessDenied:
        _record_refusal(settings, args.as_user, f"assessment {args.assessment_id}")
        raise
    _write(Path(args.out), pdf, f"the report of assessment {args.assessment_id}")
    return 0


def cmd_report_portfolio(settings: Settings, args: argparse.Namespace) -> int:
    """The board pack within the Overview page's filters, as the --as user may see it."""
    from core.report_portfolio import portfolio_report_pdf  # ReportLab only when reporting

    try:
        with db.reading(settings.database_url) as session:
            actor = _actor(session, args.as_user)
            filters = Filters(
                organization_id=_organization(session, args.organization),
                questionnaire_id=args.questionnaire,
                industry=args.industry,
                tier=args.tier,
            )
            pdf = portfolio_report_pdf(session, actor, filters)
    except AccessDenied:
        _record_refusal(settings, args.as_user, "portfolio")
        raise
    _write(Path(args.out), pdf, "the board pack")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add report assessment and report portfolio."""
    report = sub.add_parser("report", help="write a PDF report: an assessment's, or the board pack")
    kinds = report.add_subparsers(dest="kind", required=True)
    one = kinds.add_parser("assessment", help="the assessment report of one assessment")
    one.add_argument("assessment_id", type=int)
    pack = kinds.add_parser("portfolio", help="the board pack, within the Overview page's filters")
    pack.add_argument("--organization", help="an organisation's name or id (default: all)")
    pack.add_argument("--questionnaire", type=int, help="a questionnaire version's id")
    pack.add_argument("--industry", help="organisations of this industry only")
    pack.add_argument("--tier", choices=TIERS, help="organisations of this tier only")
    for parser, handler in ((one, cmd_report_assessment), (pack, cmd_report_portfolio)):
        parser.add_argument("--out", required=True, help="the PDF file to write")
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help="exactly what this user may see (default: everything)",
        )
        parser.set_defaults(handler=handler)
