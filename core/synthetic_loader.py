"""Chunked SQLAlchemy Core inserts for the synthetic data set (see core/synthetic.py)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter

from sqlalchemy import column, func, insert, select, table, text
from sqlalchemy.orm import Session

CHUNK = 50_000


class Loader:
    """Chunked Core inserts into lightweight tables; values arrive already in storage form."""

    def __init__(self, session: Session):
        self.conn = session.connection()
        self.sqlite = self.conn.dialect.name == "sqlite"
        self.counts: dict[str, int] = {}

    def ts(self, when: datetime):
        """A UTC datetime as the column stores it (SQLite: naive text, as UTCDateTime does)."""
        return when.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else when

    @contextmanager
    def big_cache(self) -> Iterator[None]:
        """SQLite: a 256 MB page cache while loading, so index pages are not spilled and re-read."""
        if self.sqlite:
            self.conn.exec_driver_sql("PRAGMA cache_size=-262144")
        try:
            yield
        finally:
            if self.sqlite:
                self.conn.exec_driver_sql("PRAGMA cache_size=-2000")

    def next_id(self, model) -> int:
        """The first free id of a table (its rows get explicit ids, so others can refer to them)."""
        return (self.conn.scalar(select(func.max(model.id))) or 0) + 1

    def insert(self, model, rows: Iterable, columns: tuple[str, ...] | None = None) -> int:
        """Insert rows (dicts, or tuples in `columns` order) in chunks of CHUNK, one executemany
        each; returns how many."""
        name, chunk, done = model.__tablename__, [], 0
        for row in rows:
            chunk.append(row)
            if len(chunk) == CHUNK:
                done += self._flush(name, chunk, columns)
                chunk = []
        done += self._flush(name, chunk, columns) if chunk else 0
        self.counts[name] = self.counts.get(name, 0) + done
        return done

    def _flush(self, name: str, rows: list, columns: tuple[str, ...] | None) -> int:
        """One executemany of a Core insert() compiled for the chunk. A positional driver
        (sqlite3) gets tuples straight through, skipping per-row parameter processing."""
        keys = columns or tuple(rows[0])
        compiled = insert(table(name, *map(column, keys))).compile(dialect=self.conn.dialect)
        if compiled.positional and columns is None:
            rows = list(map(itemgetter(*compiled.positiontup), rows))
        elif compiled.positional and tuple(compiled.positiontup) != keys:
            raise RuntimeError(f"unexpected parameter order for {name}")
        elif not compiled.positional and columns is not None:
            rows = [dict(zip(keys, row, strict=False)) for row in rows]
        self.conn.exec_driver_sql(compiled.string, rows)
        return len(rows)

    def sync_sequences(self, *models) -> None:
        """PostgreSQL: move each id sequence past the explicit ids we inserted."""
        if self.sqlite:
            return
        for model in models:
            name = model.__tablename__
            self.conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                )
            )
