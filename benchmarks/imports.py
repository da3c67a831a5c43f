"""Bank import benchmarks: python -m benchmarks.imports [--json] [--section NAME].

One function per section, each returning its figures; main prints them all.

- sheet: a 10,000-row questionnaire spreadsheet (XLSX and CSV) read, detected, validated and
  stored on a temporary SQLite database (target: SHEET_TARGET_S in all), medians of RUNS runs;
  beside it the XLSX cells read by openpyxl (read-only mode) instead of calamine, and the ratio.
- oscal: the full SP 800-53 Rev. 5 catalog (1,007 controls) parsed and stored (target:
  OSCAL_TARGET_S), beside the bare json.loads of the file (the floor) and the ratio; the MODERATE
  profile resolved against that catalog into a bank (target: PROFILE_TARGET_S); the MODERATE
  YAML edition read by our event-stream reader and by PyYAML's CSafeLoader, and the ratio. The
  files are the published ones kept in tests/data/oscal.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import gzip
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
import yaml

from core import db, migrate
from core.access import SYSTEM
from core.banks.frameworks import read_source
from core.banks.oscal_yaml import load_oscal_yaml
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


OSCAL_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "oscal"
OSCAL_TARGET_S = 0.5
PROFILE_TARGET_S = 2.0


def _oscal_file(name: str) -> bytes:
    path = OSCAL_DIR / name
    return (
        path.read_bytes()
        if path.exists()
        else gzip.decompress((OSCAL_DIR / f"{name}.gz").read_bytes())
    )


def oscal_section() -> dict[str, float | int]:
    """The full SP 800-53 catalog parsed and stored; a profile resolved; YAML against PyYAML."""
    catalog = _oscal_file("NIST_SP-800-53_rev5_catalog.json")
    profile = _oscal_file("NIST_SP-800-53_rev5_MODERATE-baseline_profile.json")
    moderate = _oscal_file(
        "NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.yaml"
    ).decode()
    figures: dict[str, float | int] = {
        "full_questions": len(read_source("catalog.json", catalog).bank.questions),
        "full_target_s": OSCAL_TARGET_S,
        "full_json_loads_s": _median(lambda i: json.loads(catalog)),
    }
    parse, store = [], []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'oscal.db'}"
        migrate.upgrade(url)
        for i in range(RUNS):  # both phases timed in the same run, so the parts add up
            start = time.perf_counter()
            bank = read_source("catalog.json", catalog).bank
            parsed = time.perf_counter()
            with db.transaction(url) as session:  # a new key each run: a new bank each time
                import_bank(session, SYSTEM, dataclasses.replace(bank, key=f"full-{i}"))
            parse.append(parsed - start)
            store.append(time.perf_counter() - parsed)
        db.dispose_all()
    figures["full_parse_s"] = statistics.median(parse)
    figures["full_store_s"] = statistics.median(store)
    figures["full_total_s"] = statistics.median(p + s for p, s in zip(parse, store, strict=True))
    figures["full_total_over_json_loads"] = figures["full_total_s"] / figures["full_json_loads_s"]

    def resolve(i: int) -> int:
        given = read_source("profile.json", profile, catalog=("catalog.json", catalog))
        return len(given.bank.questions)

    figures["profile_questions"] = resolve(0)
    figures["profile_target_s"] = PROFILE_TARGET_S
    figures["profile_resolve_s"] = _median(resolve)
    figures["yaml_ours_s"] = _median(lambda i: load_oscal_yaml(moderate, source_name="m.yaml"))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    figures["yaml_pyyaml_s"] = _median(lambda i: yaml.load(moderate, Loader=loader))
    figures["pyyaml_over_ours"] = figures["yaml_pyyaml_s"] / figures["yaml_ours_s"]
    return figures


SECTIONS: dict[str, Callable[[], dict[str, float | int]]] = {
    "sheet": sheet_section,
    "oscal": oscal_section,
}


def main(argv: list[str] | None = None) -> int:
    """Print each section's figures (or one JSON object with --json)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.imports")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--section", action="append", choices=SECTIONS, help="default: all")
    args = parser.parse_args(argv)
    chosen = args.section or list(SECTIONS)
    results = {name: SECTIONS[name]() for name in chosen}
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
