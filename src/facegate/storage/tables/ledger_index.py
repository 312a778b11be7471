"""Tables of the ledger's verifiable index (see ``facegate.ledger.index_store``).

Everything here can be rebuilt from ``ledger_entries`` alone; it is kept so that an append and
a completeness proof cost a few rows instead of a replay of the log. ``facegate ledger verify``
rebuilds it and compares.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from facegate.storage.tables.base import Base

__all__ = ["LedgerIndexBucket", "LedgerIndexState", "LedgerIndexUndo"]


class LedgerIndexState(Base):
    """Row 2: the size and root the bucket table stands at (absent: it stands at the index
    state, which ``ledger_state`` holds; row 1 held it before migration 0015)."""

    __tablename__ = "ledger_index_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerIndexBucket(Base):
    """One non-empty bucket at the snapshot (state row 2): its 72-byte records (key hash,
    count, chain) and their hash."""

    __tablename__ = "ledger_index_buckets"
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    records: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerIndexUndo(Base):
    """The histories that the append ending at ``size`` replaced (``records``) and wrote
    (``after``), one 72-byte record per key it touched (count 0: the key was new). Applied
    newest first, ``records`` take the index back to an earlier signed size, which is how a
    proof for a witness-cosigned head is built; ``after`` brings the bucket snapshot forward.
    ``after`` is null in rows written before snapshots, which no snapshot precedes."""

    __tablename__ = "ledger_index_undo"
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    records: Mapped[bytes] = mapped_column(LargeBinary)
    after: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
