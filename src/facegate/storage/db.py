"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, inspect
from sqlalchemy.orm import Session, sessionmaker

from facegate.errors import ConfigError, InvalidInput
from facegate.storage.tables import KeyStoreBase

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _begin below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged write survives a power cut, in WAL mode too.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        # Deleted rows (templates, sealed references, keys) are overwritten, not left in
        # free pages where a file copy could find them.
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Writers take the write lock up front: ledger appends must be serialised, and a
        # deferred transaction could fail with SQLITE_BUSY half-way instead of waiting.
        # Readers need no lock under WAL.
        read_only = conn.get_execution_options().get("facegate_read", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


#: the range of a BIGINT on both backends
_INT64 = range(-(2**63), 2**63)


def _check_parameters(engine: Engine) -> None:
    """Refuse, as :class:`InvalidInput`, a value no column can hold, before the driver
    turns it into a 500: a NUL in text (PostgreSQL rejects it; SQLite would store it, so
    both refuse it alike) or an integer outside 64 bits (an overflow on both)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(
        _conn: Any, _cur: Any, _stmt: str, params: Any, _ctx: Any, executemany: bool
    ) -> None:
        for row in params if executemany else (params,):
            values = row.values() if isinstance(row, dict) else (row or ())
            for value in _flat(values):
                kind = type(value)
                if kind is str and "\x00" in value:
                    raise InvalidInput(
                        "text with a NUL character cannot be stored",
                        advice="Remove the NUL (\\0) characters and send the text again.",
                    )
                if kind is int and value not in _INT64:
                    raise InvalidInput(
                        f"the number {value} is out of range (at most 2**63-1)",
                        advice="Send a smaller number.",
                    )


def _flat(values: Iterable[Any]) -> Iterator[Any]:
    """The values, with those of a list parameter (a PostgreSQL array: see
    ``ledger.driver_sql``) taken one by one."""
    for value in values:
        if type(value) is list:
            yield from value
        else:
            yield value


def make_engine(url: str, *, wal: bool = True) -> Engine:
    """An engine configured for facegate's needs on either backend."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        _sqlite_pragmas(engine, wal=wal)
        _check_parameters(engine)
        return engine
    if url.startswith("postgresql"):
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        engine = create_engine(url, pool_pre_ping=True)
        _check_parameters(engine)
        return engine
    raise ConfigError(
        f"unsupported database URL {url.split(':', 1)[0]!r}",
        advice="Use sqlite:///PATH or postgresql://USER@HOST:PORT/DB.",
    )


def migrate(engine: Engine) -> None:
    """Bring the main database to the newest schema with Alembic; a damaged or unreachable
    database is a :class:`ConfigError` saying so, not a traceback."""
    from alembic import command
    from alembic.config import Config

    from facegate.storage.home import damaged_database, unreachable_database

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except exc.OperationalError as error:
        raise unreachable_database(engine.url.render_as_string(), error) from None
    except exc.DatabaseError as error:
        raise damaged_database(engine.url.render_as_string(), error) from None


def create_keystore(engine: Engine) -> None:
    """The key store has one table; it is created directly, never migrated with data."""
    if not inspect(engine).has_table("data_keys"):
        KeyStoreBase.metadata.create_all(engine)


def open_keystore(path: Path, *, create: bool) -> Database:
    """The key store database at ``path`` (SQLite, rollback journal, not WAL: once a key is
    destroyed no earlier copy of its page lingers in a log file beside it).

    Only ``create`` (a new installation) makes it. A missing or damaged key store is a
    :class:`ConfigError`: made anew it would be empty, and every enrolled person would read
    as erased.
    """
    from facegate.storage.home import create_private_file, damaged_database

    if not path.exists():
        if not create:
            raise ConfigError(
                f"the key store {path} is missing",
                advice="It holds every enrolled person's key: restore it from your backup "
                "(with master.key and the database of the same date).\nfacegate will not "
                "start without it, because an empty key store would erase everyone.",
            )
        create_private_file(path)  # 0600 before SQLite writes; its journal gets that mode
    engine = make_engine(f"sqlite:///{path}", wal=False)
    try:
        has_table = inspect(engine).has_table("data_keys")
        if not has_table and create and path.stat().st_size == 0:
            KeyStoreBase.metadata.create_all(engine)
        elif not has_table:
            raise ConfigError(
                f"the key store {path} holds no key table",
                advice="It is damaged or is not facegate's key store: restore it from your backup.",
            )
    except exc.DatabaseError as error:
        engine.dispose()
        raise damaged_database(str(path), error) from None
    except BaseException:
        engine.dispose()
        raise
    return Database(engine)


class Database:
    """A session factory with a unit-of-work helper."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._factory = sessionmaker(engine, expire_on_commit=False)
        reader = engine.execution_options(facegate_read=True)
        if engine.dialect.name == "postgresql":
            # A read is one snapshot on both backends (SQLite's WAL read transaction is one):
            # under READ COMMITTED each statement would see the appends committed since the
            # last, and a multi-statement read (the ledger audit, a proof) would mix states.
            # A read-only REPEATABLE READ transaction never fails to serialise.
            reader = reader.execution_options(isolation_level="REPEATABLE READ")
        self._reader = sessionmaker(reader, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One atomic unit: everything inside commits together or not at all. A value the
        database refuses as data (class 22, e.g. a bad encoding) is :class:`InvalidInput`."""
        with _data_errors_are_bad_input(), self._factory() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _data_errors_are_bad_input(), self._reader() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _data_errors_are_bad_input() -> Iterator[None]:
    # the backstop behind _check_parameters: whatever else the database calls bad data
    try:
        yield
    except exc.DataError as error:
        raise InvalidInput(
            "the database refused a value as invalid data",
            advice="Check the text and numbers sent: printable UTF-8, numbers in range.",
        ) from error
