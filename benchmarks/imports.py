"""Bank import benchmarks: python -m benchmarks.imports [--json].

One function per section, each returning its figures; main prints them all.

- sheet: a 10,000-row questionnaire spreadsheet (XLSX and CSV) read, detected, validated and
  stored on a temporary SQLite database (target: SHEET_TARGET_S in all), medians of RUNS runs;
  beside it the XLSX cells read by openpyxl (read-only mode) instead of calamine, and the ratio.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import openpyxl
import python_calamine

from core import db, migrate
from core.access import SYSTEM
from core.banks.sheet_import import BankIdentity, sheet_bank
from core.banks.store import import_bank

ROWS = 10_000
RUNS = 5
SHEET_TARGET_S = 2.0
HEADERS = ["Question ID", "Question", "Answer", "Comments", "Guidance"]


def _rows() -> list[list[str]]:
    return [
        [
            f"D{i // 100:02d}-{i % 100:02d}.1",
            f"Is control {i} documented, approved and reviewed at least yearly by management?",
            "",
            "",
            "Look for the policy document and the record of its approval.",
        ]
        for i in range(ROWS)
    ]


def sheet_files() -> dict[str, bytes]:
    """The same 10,000 questions as an XLSX workbook and as a CSV file."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Questionnaire")
    sheet.append(["Vendor security questionnaire"])
    sheet.append(HEADERS)
    for row in _rows():
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows([HEADERS, *_rows()])
    return {"xlsx": buffer.getvalue(), "csv": text.getvalue().encode()}


def _median(run: Callable[[int], object]) -> float:
    times = []
    for i in range(RUNS):
        start = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sheet_section() -> dict[str, float | int]:
    """Parse, store and the two together for 10,000 rows; calamine against openpyxl cells."""
    files = sheet_files()
    figures: dict[str, float | int] = {"rows": ROWS, "target_s": SHEET_TARGET_S}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'imports.db'}"
        migrate.upgrade(url)
        for kind, data in files.items():
            name = f"questionnaire.{kind}"
            figures[f"{kind}_parse_s"] = _median(lambda i, n=name, d=data: sheet_bank(n, d))

            def parse_and_store(i: int, name: str = name, data: bytes = data) -> None:
                bank = sheet_bank(name, data, identity=BankIdentity(version=i + 1)).bank
                with db.transaction(url) as session:
                    import_bank(session, SYSTEM, bank)

            figures[f"{kind}_total_s"] = _median(parse_and_store)
            figures[f"{kind}_store_s"] = figures[f"{kind}_total_s"] - figures[f"{kind}_parse_s"]
        db.dispose_all()
    xlsx = files["xlsx"]
    figures["calamine_cells_s"] = _median(lambda i: _calamine_cells(xlsx))
    figures["openpyxl_cells_s"] = _median(lambda i: _openpyxl_cells(xlsx))
    figures["openpyxl_over_calamine"] = figures["openpyxl_cells_s"] / figures["calamine_cells_s"]
    return figures


def _calamine_cells(data: bytes) -> int:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    return len(book.get_sheet_by_name("Questionnaire").to_python(skip_empty_area=False))


def _openpyxl_cells(data: bytes) -> int:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return len(list(book["Questionnaire"].iter_rows(values_only=True)))


SECTIONS: dict[str, Callable[[], dict[str, float | int]]] = {"sheet": sheet_section}


def main(argv: list[str] | None = None) -> int:
    """Print each section's figures (or one JSON object with --json)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.imports")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = {name: section() for name, section in SECTIONS.items()}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for name, figures in results.items():
        print(f"[{name}]")
        for key, value in figures.items():
            print(
                f"  {key:<24} {value:,.3f}"
                if isinstance(value, float)
                else f"  {key:<24} {value:,}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
