"""The key store: per-subject data keys, wrapped, in a database of their own.

Keeping data keys out of the main database means a copy of the main database taken before
an erasure cannot be opened after it: the only key is gone (crypto-shredding).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import delete, select

from facegate.storage.db import Database
from facegate.storage.tables import DataKey

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
