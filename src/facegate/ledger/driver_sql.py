"""SQL sent straight to the database driver, for the ledger's hot paths.

An append writes about three rows per event and a proof reads about 2·log2(n) nodes;
SQLAlchemy's per-row statement and parameter handling would cost more than the SQL itself.
Rows go in with the driver's ``executemany`` (psycopg pipelines it; multi-row ``VALUES``
statements were measured slower on PostgreSQL, each row count a statement to plan anew).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import Connection

from facegate.errors import ConfigError

__all__ = ["insert_rows", "mark"]

#: placeholder of each DB-API paramstyle that takes positional parameters
_MARKS: Final = {"qmark": "?", "format": "%s", "pyformat": "%s"}


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
    marks = ", ".join([mark(conn)] * len(columns))
    # exec_driver_sql, not the raw cursor: the engine's events see the rows (the input
    # guard of storage.db, the metrics of api.metrics)
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){suffix}", list(rows)
    )
