"""Chunked SQLAlchemy Core inserts for the synthetic data set (see core/synthetic.py)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import column, func, insert, select, table, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.models import Base
from core.synthetic_stories import RowValues, Stamp

CHUNK = 50_000


class Loader:
    """Chunked Core inserts into lightweight tables; values arrive already in storage form."""

    def __init__(self, session: Session):
        self.conn = session.connection()
        self.sqlite = self.conn.dialect.name == "sqlite"
        self.counts: dict[str, int] = {}

    def ts(self, when: datetime) -> Stamp:
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

    def next_id(self, id_column: InstrumentedAttribute[int]) -> int:
        """The first free id of a table (its rows get explicit ids, so others can refer to them)."""
        return (self.conn.scalar(select(func.max(id_column))) or 0) + 1

    def insert(self, model: type[Base], rows: Iterable[RowValues]) -> int:
        """Insert rows (by column) in chunks of CHUNK, one executemany each; returns how many."""
        return self._insert(model, rows, None)

    def insert_tuples(
        self, model: type[Base], columns: tuple[str, ...], rows: Iterable[tuple[object, ...]]
    ) -> int:
        """Insert rows given as tuples in `columns` order, as insert() does; returns how many."""
        return self._insert(model, rows, columns)

    def _insert(
        self,
        model: type[Base],
        rows: Iterable[RowValues] | Iterable[tuple[object, ...]],
        columns: tuple[str, ...] | None,
    ) -> int:
        name, done = model.__tablename__, 0
        chunk: list[RowValues | tuple[object, ...]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == CHUNK:
                done += self._flush(name, chunk, columns)
                chunk = []
        done += self._flush(name, chunk, columns) if chunk else 0
        self.counts[name] = self.counts.get(name, 0) + done
        return done

    def _flush(
        self, name: str, rows: list[RowValues | tuple[object, ...]], columns: tuple[str, ...] | None
    ) -> int:
        """One executemany of a Core insert() compiled for the chunk. A positional driver
        (sqlite3) gets tuples straight through, skipping per-row parameter processing."""
        # Without columns the rows are the dicts insert() was given: their keys are the columns.
        keys = columns or tuple(cast(RowValues, rows[0]))
        compiled = insert(table(name, *map(column, keys))).compile(dialect=self.conn.dialect)
        params: Sequence[Any] = rows
        if compiled.positional and columns is None:
            params = list(map(itemgetter(*compiled.positiontup or ()), rows))
        elif compiled.positional and tuple(compiled.positiontup or ()) != keys:
            raise RuntimeError(f"unexpected parameter order for {name}")
        elif not compiled.positional and columns is not None:
            params = [dict(zip(keys, row, strict=False)) for row in rows]
        self.conn.exec_driver_sql(compiled.string, params)
        return len(params)

    def sync_sequences(self, *models: type[Base]) -> None:
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
