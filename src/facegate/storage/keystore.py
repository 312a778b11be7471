"""The key store: per-subject data keys, wrapped, in a database of their own.

Keeping data keys out of the main database means a copy of the main database taken before
an erasure cannot be opened after it: the only key is gone (crypto-shredding). With SQLite the
key store is ``keys.db`` in the home; with PostgreSQL it is a schema of its own
(``facegate_keys``), in the main database or behind its own credential
(``FACEGATE_KEYSTORE_URL``), so that every host of the service opens the same keys. What a
deleted key row leaves behind on PostgreSQL (until VACUUM, in WAL and in backups) is said in
docs/operations.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import delete, exc, inspect, select

from facegate.errors import ConfigError
from facegate.storage.db import Database, make_engine, open_keystore
from facegate.storage.home import KEYSTORE_FILE, _shown, sqlite_path, unreachable_database
from facegate.storage.tables import DataKey, KeyStoreBase

if TYPE_CHECKING:
    from facegate.config import Settings

#: from this many ids, get_many reads the whole table instead of looking each one up
_SCAN_FROM: Final = 50_000


class KeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, subject_id: str, wrapped: bytes, *, now: datetime) -> None:
        with self._db.transaction() as s:
            s.add(DataKey(subject_id=subject_id, wrapped=wrapped, created_at=now))

    def get(self, subject_id: str) -> bytes | None:
        with self._db.read() as s:
            return s.scalar(select(DataKey.wrapped).where(DataKey.subject_id == subject_id))

    def get_many(self, subject_ids: list[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        with self._db.read() as s:
            if len(subject_ids) >= _SCAN_FROM:
                # a gallery load: one pass over the table beats a million index lookups
                wanted = set(subject_ids)
                rows = s.execute(select(DataKey.subject_id, DataKey.wrapped))
                return {sid: w for sid, w in rows if sid in wanted}
            # few large IN lists: each statement costs a compile (SQLite allows 32766
            # parameters, PostgreSQL more)
            for start in range(0, len(subject_ids), 5000):
                chunk = subject_ids[start : start + 5000]
                rows = s.execute(
                    select(DataKey.subject_id, DataKey.wrapped).where(DataKey.subject_id.in_(chunk))
                )
                out.update((sid, w) for sid, w in rows)
        return out

    def destroy(self, subject_id: str) -> bool:
        with self._db.transaction() as s:
            res = s.execute(delete(DataKey).where(DataKey.subject_id == subject_id))
            return bool(getattr(res, "rowcount", 0))

    def ids_created_before(self, when: datetime) -> set[str]:
        """Ids of keys written before ``when`` (younger ones may belong to a consent whose
        main transaction has not committed yet)."""
        with self._db.read() as s:
            return set(s.scalars(select(DataKey.subject_id).where(DataKey.created_at < when)))

    def all_ids(self) -> set[str]:
        with self._db.read() as s:
            return set(s.scalars(select(DataKey.subject_id)))

    def close(self) -> None:
        self._db.dispose()


# --- where the key store lives ------------------------------------------------------------


@dataclass(frozen=True)
class KeyStorePlace:
    """Where an installation's data keys live: ``keys.db`` in the home (SQLite, the embedded
    default) or a schema of a PostgreSQL database (several hosts share it)."""

    url: str
    schema: str | None = None

    @property
    def file(self) -> Path | None:
        return sqlite_path(self.url)

    def describe(self) -> str:
        if self.schema is None:
            return str(self.file)
        return f"schema {self.schema} of {_shown(self.url)}"

    def exists(self) -> bool:
        """Whether a key store is there (an empty file is what an interrupted init left)."""
        if self.schema is None:
            path = self.file
            return path is not None and path.exists() and path.stat().st_size > 0
        engine = make_engine(self.url)
        try:
            return inspect(engine).has_table(DataKey.__tablename__, schema=self.schema)
        except exc.SQLAlchemyError as error:
            raise unreachable_database(self.url, error) from None
        finally:
            engine.dispose()


def place_of(
    home: Path, database_url: str, *, keystore_url: str | None, schema: str
) -> KeyStorePlace:
    """The key store of an installation (see ``Settings.keystore_url``). With PostgreSQL and
    no ``keystore_url`` it is the main database's schema ``schema``, except for installations
    made before it existed, whose ``keys.db`` in the home stays where it is."""
    if keystore_url:
        pg = keystore_url.startswith("postgresql")
        return KeyStorePlace(keystore_url, schema if pg else None)
    legacy = home / KEYSTORE_FILE
    if database_url.startswith("postgresql") and not (
        legacy.exists() and legacy.stat().st_size > 0
    ):
        return KeyStorePlace(database_url, schema)
    return KeyStorePlace(f"sqlite:///{legacy}")


def open_place(place: KeyStorePlace, *, create: bool) -> Database:
    """The key store database at ``place``; only ``create`` makes one (see
    :func:`facegate.storage.db.open_keystore`: a missing one is a loud :class:`ConfigError`)."""
    if place.schema is None:
        path = place.file
        if path is None:
            raise ConfigError(f"the key store URL {place.url} names no file")
        return open_keystore(path, create=create)
    engine = make_engine(place.url).execution_options(schema_translate_map={None: place.schema})
    try:
        if not inspect(engine).has_table(DataKey.__tablename__, schema=place.schema):
            if not create:
                raise ConfigError(
                    f"the key store ({place.describe()}) is missing",
                    advice="It holds every enrolled person's key: restore it from your backup "
                    "(with the master key and the database of the same date).\nfacegate will "
                    "not start without it, because an empty key store would erase everyone.",
                )
            with engine.begin() as conn:
                if not inspect(conn).has_schema(place.schema):
                    conn.exec_driver_sql(f'CREATE SCHEMA "{place.schema}"')
                KeyStoreBase.metadata.create_all(conn)
    except exc.ProgrammingError as error:  # a role without the rights it needs
        engine.dispose()
        raise ConfigError(
            f"cannot make the key store ({place.describe()}): {error.orig}",
            advice="Let the key store's role create its schema, or create the schema for it "
            "(CREATE SCHEMA ... AUTHORIZATION role), then run 'facegate init' again.",
        ) from None
    except exc.OperationalError as error:
        engine.dispose()
        raise unreachable_database(place.url, error) from None
    except BaseException:
        engine.dispose()
        raise
    return Database(engine)


def keystore_place(home: Path, settings: Settings) -> KeyStorePlace:
    """:func:`place_of` from the settings."""
    return place_of(
        home,
        settings.resolved_database_url(),
        keystore_url=settings.keystore_url,
        schema=settings.keystore_schema,
    )
