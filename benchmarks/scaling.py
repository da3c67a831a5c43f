"""Table and index sizes of a database: python -m benchmarks.scaling --url URL [--json].

For each table: rows, the table's own bytes, its indexes' bytes and bytes per row, largest
first; on PostgreSQL from pg_table_size (TOAST included) and pg_indexes_size, on SQLite from
the dbstat virtual table. The figures in docs/SCALING.md were printed by this on the synthetic
data sets (`python -m core.cli seed-synthetic --products N --url URL`).
"""

from __future__ import annotations

import argparse
import json
import sys

from sqlalchemy import func, select, text

from core import db
from core.models import Base


def sizes(url: str) -> list[dict]:
    """Rows, table bytes and index bytes of every table of the models, largest first."""
    out = []
    with db.reading(url) as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        pages = {}
        if not postgres:
            pages = dict(
                session.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")).all()
            )
        for name, table in sorted(Base.metadata.tables.items()):
            rows = int(session.scalar(select(func.count()).select_from(table)) or 0)
            if postgres:
                own, indexes = session.execute(
                    text("SELECT pg_table_size(:t), pg_indexes_size(:t)"), {"t": name}
                ).one()
            else:
                own = pages.get(name, 0)
                names = [i.name for i in table.indexes] + [
                    n for n in pages if n.startswith(f"sqlite_autoindex_{name}_")
                ]
                indexes = sum(pages.get(n, 0) for n in names)
            out.append(
                {
                    "table": name,
                    "rows": rows,
                    "table_mb": round(own / 2**20, 1),
                    "index_mb": round(indexes / 2**20, 1),
                    "bytes_per_row": round((own + indexes) / rows) if rows else 0,
                }
            )
    return sorted(out, key=lambda r: -(r["table_mb"] + r["index_mb"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__)
    parser.add_argument("--url", required=True, help="database URL")
    parser.add_argument("--json", action="store_true", help="print one JSON list")
    args = parser.parse_args(argv)
    rows = sizes(args.url)
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'table':<26}{'rows':>12}{'table MB':>10}{'index MB':>10}{'B/row':>8}")
    for r in rows:
        if r["rows"]:
            print(
                f"{r['table']:<26}{r['rows']:>12,}{r['table_mb']:>10}{r['index_mb']:>10}"
                f"{r['bytes_per_row']:>8}"
            )
    total = sum(r["table_mb"] + r["index_mb"] for r in rows)
    print(f"{'all tables':<26}{'':>12}{total:>20.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
