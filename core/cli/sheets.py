"""Questionnaire spreadsheets: import-bank --format sheet (flags added to import-bank) and
export-answers, which writes an assessment's answers back into the original workbook."""

from __future__ import annotations

import argparse
from pathlib import Path

from core import db
from core.access import SYSTEM
from core.answer_sheet import filled_workbook
from core.banks.sheet_detect import SheetOptions
from core.banks.sheet_import import (
    SHEET_TYPES,
    BankIdentity,
    SheetImport,
    is_sheet_source,
    sheet_bank,
)
from core.banks.sheet_ref import column_letter
from core.banks.store import import_bank
from core.config import Settings
from core.errors import SecureSphereError

_FLAGS = (
    "sheet",
    "header_row",
    "id_column",
    "text_column",
    "section_column",
    "section_from_id",
    "guidance_column",
    "answer_column",
    "justification_column",
    "effort_column",
)


def add_sheet_flags(imp: argparse.ArgumentParser) -> None:
    """The import-bank flags for questionnaire spreadsheets (--format sheet)."""
    group = imp.add_argument_group(
        "spreadsheets (--format sheet)", "columns by their header's text or their letter"
    )
    group.add_argument("--sheet", help="sheet name (default: detected)")
    group.add_argument("--header-row", type=int, help="row of the column headers, from 1")
    group.add_argument("--id-column", help="question ids ('none' for none)")
    group.add_argument("--text-column", help="question texts")
    sections = group.add_mutually_exclusive_group()
    sections.add_argument("--section-column", help="section names ('none' for none)")
    sections.add_argument(
        "--section-from-id", action="store_true", default=None, help="A&A-01.1 goes under A&A"
    )
    group.add_argument("--guidance-column", help="guidance shown with each question")
    group.add_argument("--answer-column", help="where export-answers writes each answer")
    group.add_argument("--justification-column", help="where export-answers writes justifications")
    group.add_argument("--effort-column", help="effort per question, 1-10 (blank: 1)")
    group.add_argument("--type", choices=SHEET_TYPES, default="yes_no_partial", dest="sheet_type")


def wants_sheet(args: argparse.Namespace) -> bool:
    """True when import-bank should read the file as a questionnaire spreadsheet."""
    if args.format == "sheet" or any(getattr(args, f, None) is not None for f in _FLAGS):
        return True
    if args.format is not None:
        return False
    path = Path(args.path)
    try:
        with path.open("rb") as handle:
            start = handle.read(4096)
    except OSError:
        start = b""
    return is_sheet_source(path.name, start)


def cmd_import_sheet(settings: Settings, args: argparse.Namespace) -> int:
    """Import a questionnaire spreadsheet; say what was detected; --dry-run writes nothing."""
    path = Path(args.path)
    if not path.is_file():
        raise SecureSphereError(f"no such file: {path}")
    if args.level is not None:
        raise SecureSphereError(f"{path.name}: --level applies only to ASVS files")
    options = SheetOptions(
        sheet=args.sheet,
        header_row=args.header_row,
        id_column=args.id_column,
        text_column=args.text_column,
        section_column=args.section_column,
        section_from_id=args.section_from_id,
        guidance_column=args.guidance_column,
        answer_column=args.answer_column,
        justification_column=args.justification_column,
        effort_column=args.effort_column,
        question_type=args.sheet_type,
    )
    result = sheet_bank(
        path.name,
        path.read_bytes(),
        options,
        BankIdentity(
            # --key, --title and --version are import-bank's own flags (core/cli/banks.py)
            title=getattr(args, "title", None),
            key=getattr(args, "key", None),
            version=getattr(args, "version", None) or 1,
        ),
    )
    print(describe_import(result))
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    with db.transaction(settings.database_url) as session:
        _, created = import_bank(session, SYSTEM, result.bank)
    print("imported" if created else "already present, unchanged")
    return 0


def describe_import(result: SheetImport) -> str:
    """What was chosen and what it gives, one fact per line."""
    bank = result.bank
    lines = [f"chose {note}" for note in result.notes]
    lines.append(f"question type: {bank.questions[0].type}")
    sections = ", ".join(f"{s.title} ({len(s.questions)})" for s in bank.sections)
    lines.append(
        f"{bank.title} [{bank.key} v{bank.version}]: {len(bank.questions)} questions in "
        f"{len(bank.sections)} sections: {sections}"
    )
    lines.append(f"skipped {len(result.skipped)} rows without a question")
    lines += [f"  {line}" for line in result.skipped_lines()]
    if result.mapping.answer is None:
        lines.append("no answer column: export-answers will need --answer-column")
    else:
        lines.append(f"answers go back into column {column_letter(result.mapping.answer)}")
    return "\n".join(lines)


def cmd_export_answers(settings: Settings, args: argparse.Namespace) -> int:
    """Write an assessment's answers into a copy of the workbook its bank was imported from."""
    into, out = Path(args.into), Path(args.out)
    if not into.is_file():
        raise SecureSphereError(f"no such file: {into}")
    if out.resolve() == into.resolve():
        raise SecureSphereError("--out must be a new file; the original workbook is kept as it is")
    with db.reading(settings.database_url) as session:
        filled = filled_workbook(
            session,
            SYSTEM,
            args.assessment_id,
            into.read_bytes(),
            into.name,
            answer_column=args.answer_column,
            justification_column=args.justification_column,
        )
    out.write_bytes(filled.data)
    print(f"wrote {filled.answers} answers into {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add export-answers (import-bank's spreadsheet flags come from add_sheet_flags)."""
    exp = sub.add_parser(
        "export-answers", help="write an assessment's answers into its original workbook"
    )
    exp.add_argument("assessment_id", type=int)
    exp.add_argument("--into", required=True, help="the workbook the bank was imported from")
    exp.add_argument("--out", required=True, help="the filled copy to write")
    exp.add_argument("--answer-column", help="letters; default: the one chosen at import")
    exp.add_argument("--justification-column", help="letters; default: the one chosen at import")
    exp.set_defaults(handler=cmd_export_answers)
