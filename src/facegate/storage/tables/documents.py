"""Documents the ledger commits to by hash (see ``facegate.ledger.documents``).

A registration record, a change to it, an operator's name and contact: a flow stores the
document here and puts its SHA-256 in the event it appends (``record_sha256``), in the same
transaction. The log then authenticates every fact the document holds, and an evidence bundle
carries the documents its events name.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from facegate.storage.tables.base import Base

__all__ = ["LedgerDocument"]


class LedgerDocument(Base):
    __tablename__ = "ledger_documents"
    #: SHA-256 (hex) of ``data``
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    #: the exact bytes hashed: canonical JSON of {"body": ..., "kind": ...}
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
