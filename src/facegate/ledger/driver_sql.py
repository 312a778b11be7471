"""SQL sent straight to the database driver, for the ledger's hot paths.

An append writes about three rows per event and a proof reads about 2·log2(n) nodes;
SQLAlchemy's per-row statement and parameter handling would cost more than the SQL itself.
Rows go in with the driver's ``executemany`` on SQLite (in-process: no round trips to save),
and on PostgreSQL as one ``INSERT ... SELECT FROM unnest(arrays)``: one statement for any row
count, its arrays sent in binary. psycopg's ``executemany`` (a pipelined statement a row) cost
twice the CPU and, with 64 threads waiting on the group commit, a GIL hand-off a row; multi-row
``VALUES`` statements were slower still (each row count a statement to plan anew).

:class:`Writes` gathers an append's writes that nothing in its transaction reads back, and
sends them to PostgreSQL as one statement: a round trip costs this process about 100 µs of
CPU (the driver, SQLAlchemy and the loopback's system calls), a tenth of a group commit's.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql

from facegate.errors import ConfigError
from facegate.storage.tables import Base

__all__ = ["Writes", "insert_rows", "mark"]

#: placeholder of each DB-API paramstyle that takes positional parameters
_MARKS: Final = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_PG: Final = postgresql.dialect()  # type: ignore[no-untyped-call]


def mark(conn: Connection) -> str:
    """The driver's positional placeholder."""
    found = _MARKS.get(conn.dialect.paramstyle)
    if found is None:  # pragma: no cover - sqlite3 and psycopg are both positional
        raise ConfigError(f"unsupported database driver paramstyle {conn.dialect.paramstyle!r}")
    return found


def insert_rows(
    conn: Connection,
    table: str,
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
    *,
    suffix: str = "",
) -> None:
    """Insert ``rows`` with one ``executemany``. ``suffix`` is appended to the statement
    (e.g. an ``ON CONFLICT`` clause)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        # one array a column, in binary (no text escaping of bytea): one statement whatever
        # the row count, planned once, and no per-row round of psycopg's pipeline
        columnwise = tuple(list(column) for column in zip(*rows, strict=True))
        conn.exec_driver_sql(_unnest_sql(table, columns) + suffix, columnwise)
        return
    marks = ", ".join([mark(conn)] * len(columns))
    # exec_driver_sql, not the raw cursor: the engine's events see the rows (the input
    # guard of storage.db, the metrics of api.metrics)
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){suffix}", list(rows)
    )


@lru_cache(maxsize=32)
def _unnest_sql(table: str, columns: tuple[str, ...]) -> str:
    """``INSERT ... SELECT * FROM unnest(%b::type[], ...)``, each array cast to its column's
    PostgreSQL type (from the tables' metadata)."""
    found = Base.metadata.tables[table].c
    arrays = ", ".join(f"%b::{found[c].type.compile(dialect=_PG)}[]" for c in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"


class Writes:
    """Writes that nothing later in the transaction reads: on SQLite each goes as it comes
    (in-process: nothing to save); on PostgreSQL they go together at :meth:`send`, as one
    data-modifying ``WITH``. PostgreSQL runs its parts on one snapshot, in no set order, so
    they must not touch the same rows (the ledger's touch one table each)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._pg = conn.dialect.name == "postgresql"
        #: the driver's positional placeholder, for the statements given to :meth:`execute`
        self.mark = mark(conn)
        self._sql: list[str] = []
        self._params: list[Any] = []

    def execute(self, sql: str, params: tuple[Any, ...]) -> None:
        """One statement with positional ``params`` (placeholders :attr:`mark`)."""
        if self._pg:
            self._sql.append(sql)
            self._params.extend(params)
        else:
            self._conn.exec_driver_sql(sql, params)

    def insert(
        self,
        table: str,
        columns: tuple[str, ...],
        rows: Sequence[tuple[Any, ...]],
        *,
        suffix: str = "",
    ) -> None:
        """Rows, as :func:`insert_rows` writes them."""
        if not rows:
            return
        if self._pg:
            self._sql.append(_unnest_sql(table, columns) + suffix)
            self._params.extend(list(column) for column in zip(*rows, strict=True))
        else:
            insert_rows(self._conn, table, columns, rows, suffix=suffix)

    def send(self) -> None:
        """Send what PostgreSQL has been given, as one statement (then nothing is pending)."""
        sql, params = self._sql, self._params
        self._sql, self._params = [], []
        if not sql:
            return
        *first, last = sql
        parts = ", ".join(f"w{i} AS ({part})" for i, part in enumerate(first))
        self._conn.exec_driver_sql(f"WITH {parts} {last}" if first else last, tuple(params))
