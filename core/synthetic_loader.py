"""Bulk inserts for the synthetic data set (see core/synthetic.py).

On PostgreSQL through psycopg 3: one binary COPY per table, its foreign keys and plain indexes set
aside while COPY runs and put back as they were (all in the load's transaction), then ANALYZE,
and the id sequence moved past explicit ids. Elsewhere (SQLite): chunked Core executemany.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import column, func, insert, select, table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.models import Base
from core.synthetic_stories import RowValues, Stamp

CHUNK = 50_000  # rows per executemany (the COPY path streams each table in one go)

Row = RowValues | tuple[object, ...]

# (drop, re-create) statements for a table's foreign keys and the indexes no constraint owns.
_CONSTRAINTS = text(
    "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),"
    " format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname,"
    " pg_get_constraintdef(oid))"
    " FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"
    " UNION ALL SELECT format('DROP INDEX %s', indexrelid::regclass), pg_get_indexdef(indexrelid)"
    " FROM pg_index i WHERE indrelid = CAST(:t AS regclass)"
    " AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
)

# The type (oid) of each column of a table, for binary COPY.
_TYPES = text(
    "SELECT attname, atttypid::int FROM pg_attribute"
    " WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped"
)
_JSON_AS_TEXT = {114: 25}  # json: written with the text dumper (the values are JSON text)
_JSONB = 3802


class Loader:
    """Bulk inserts into lightweight tables; values arrive already in storage form (JSON columns
    as JSON text, times as Loader.ts gives them), so no column type processing is applied."""

    def __init__(self, session: Session):
        self.conn = session.connection()
        self.sqlite = self.conn.dialect.name == "sqlite"
        # COPY ... FROM STDIN through the driver's own connection, inside the same transaction.
        self.copy = self.conn.dialect.name == "postgresql" and self.conn.dialect.driver == "psycopg"
        self.counts: dict[str, int] = {}

    def ts(self, when: datetime) -> Stamp:
        """A UTC datetime as the column stores it (SQLite: naive text, as UTCDateTime writes it;
        elsewhere the aware UTC datetime, which binary COPY sends as it is)."""
        if self.sqlite:
            return when.strftime("%Y-%m-%d %H:%M:%S.%f")
        if when.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return when.astimezone(UTC)

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
        """Insert rows (dicts by column, all with the same keys); returns how many."""
        return self._insert(model, rows, None)

    def insert_tuples(
        self, model: type[Base], columns: tuple[str, ...], rows: Iterable[tuple[object, ...]]
    ) -> int:
        """Insert rows given as tuples in `columns` order, as insert() does; returns how many."""
        return self._insert(model, rows, columns)

    def _insert(
        self, model: type[Base], rows: Iterable[Row], columns: tuple[str, ...] | None
    ) -> int:
        name = model.__tablename__
        it = iter(rows)
        first = next(it, None)
        if first is None:
            self.counts.setdefault(name, 0)
            return 0
        # Without columns the rows are dicts: the first one's keys are the columns.
        keys = columns or tuple(cast(RowValues, first))
        stream = chain((first,), it)
        done = self._copy(name, keys, stream, columns is None) if self.copy else 0
        if not self.copy:
            chunk: list[Row] = []
            for row in stream:
                chunk.append(row)
                if len(chunk) == CHUNK:
                    done += self._flush(name, keys, chunk, columns is None)
                    chunk = []
            done += self._flush(name, keys, chunk, columns is None) if chunk else 0
        self.counts[name] = self.counts.get(name, 0) + done
        if "id" in keys:  # explicit ids: later ORM inserts must not draw them from the sequence
            self._sync_sequence(name)
        return done

    def _copy(self, name: str, keys: tuple[str, ...], rows: Iterable[Row], by_name: bool) -> int:
        """One COPY ... FROM STDIN of every row, through psycopg, in the load's transaction."""
        import psycopg
        from psycopg import sql

        driver: Any = self.conn.connection.driver_connection
        types = self._binary_types(driver, name, keys)
        statement = sql.SQL("COPY {} ({}) FROM STDIN {}").format(
            sql.Identifier(name),
            sql.SQL(", ").join(map(sql.Identifier, keys)),
            sql.SQL("(FORMAT BINARY)" if types else ""),
        )
        # Dict rows become tuples in column order (a 1-tuple when there is a single column).
        pick = itemgetter(*keys) if len(keys) > 1 else lambda row: (row[keys[0]],)
        tuples: Iterable[Any] = map(pick, rows) if by_name else rows
        done = 0
        with self._unchecked(name):
            try:
                with driver.cursor() as cursor, cursor.copy(statement) as copy:
                    if types:
                        copy.set_types(types)
                    write = copy.write_row
                    for row in tuples:
                        write(row)
                        done += 1
            except psycopg.Error as error:  # raised as SQLAlchemy raises the driver's errors
                sent = statement.as_string(driver)
                raise DBAPIError.instance(sent, None, error, psycopg.Error) from error
        # Fresh statistics: the queries that follow in this transaction (the read model's) are
        # planned for the rows just loaded, not for an empty table.
        self.conn.exec_driver_sql(f"ANALYZE {self.conn.dialect.identifier_preparer.quote(name)}")
        return done

    def _binary_types(self, driver: Any, name: str, keys: tuple[str, ...]) -> list[int] | None:
        """The column types for a binary COPY, in which psycopg writes each value in its column
        type's binary form and the server parses no text; json columns get their JSON text with
        the text dumper (json's binary form is its text). None, for a text COPY, when a column
        has a type psycopg has no binary dumper for, or jsonb (whose binary form is not text)."""
        from psycopg import ProgrammingError
        from psycopg.pq import Format

        oids: dict[str, int] = dict(self.conn.execute(_TYPES, {"t": name}).all())
        types = [_JSON_AS_TEXT.get(oids[key], oids[key]) for key in keys]
        try:
            for oid in types:
                driver.adapters.get_dumper_by_oid(oid, Format.BINARY)
        except ProgrammingError:  # no binary dumper for that type
            return None
        return None if _JSONB in types else types

    @contextmanager
    def _unchecked(self, name: str) -> Iterator[None]:
        """PostgreSQL's advice for bulk loads: without the table's foreign keys and plain indexes
        while COPY runs, then with them again as they were (one set-based check and one sorted
        build each, instead of a lookup and an index insertion per row). It all happens in the
        load's transaction: a row that breaks a key fails the re-check and rolls the load back."""
        ddl = self.conn.execute(_CONSTRAINTS, {"t": name}).all()
        as_is = {"no_parameters": True}  # no parameters: a % in an index predicate stays a %
        for drop, _ in ddl:
            self.conn.exec_driver_sql(drop, execution_options=as_is)
        yield
        for _, add in ddl:
            self.conn.exec_driver_sql(add, execution_options=as_is)

    def _flush(self, name: str, keys: tuple[str, ...], rows: list[Row], by_name: bool) -> int:
        """One executemany of a Core insert() compiled for the chunk. A positional driver
        (sqlite3) gets tuples straight through, skipping per-row parameter processing."""
        compiled = insert(table(name, *map(column, keys))).compile(dialect=self.conn.dialect)
        params: Sequence[Any] = rows
        if compiled.positional and by_name:
            params = list(map(itemgetter(*compiled.positiontup or ()), rows))
        elif compiled.positional and tuple(compiled.positiontup or ()) != keys:
            raise RuntimeError(f"unexpected parameter order for {name}")
        elif not compiled.positional and not by_name:
            params = [dict(zip(keys, row, strict=False)) for row in rows]
        self.conn.exec_driver_sql(compiled.string, params)
        return len(params)

    def sync_sequences(self, *models: type[Base]) -> None:
        """PostgreSQL: move each id sequence past the explicit ids inserted (insert() already does
        so for rows that carry an id; this is for ids written some other way)."""
        for model in models:
            self._sync_sequence(model.__tablename__)

    def _sync_sequence(self, name: str) -> None:
        """PostgreSQL: the next id the table's sequence hands out is one past its largest id."""
        if self.conn.dialect.name != "postgresql":
            return
        quoted = self.conn.dialect.identifier_preparer.quote(name)
        self.conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:name, 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {quoted}), 0) + 1, false)"
            ),
            {"name": name},
        )
