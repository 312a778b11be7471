"""The operator's link to its regulator: where it is, what it was ordered, what it received.

* ``regulator_links``: a regulator this installation reports to (URL, the witness key whose
  cosignatures it stores, the authority key that signs orders and receipts, the agreed push
  interval) and the link's running state (last size the witness cosigned, last push, error).
* ``regulator_orders``: each signed order received, kept as the regulator's signed note; the
  policy door asks :func:`facegate.regulator.link.orders_in_force` before processing.
* ``regulator_receipts``: each signed receipt for a filing, incident notification or order
  acknowledgement the regulator received; its hash is also in the ledger.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from facegate.storage.tables.base import Base

__all__ = ["RegulatorLink", "RegulatorOrder", "RegulatorReceipt"]


class RegulatorLink(Base):
    __tablename__ = "regulator_links"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(500), unique=True)
    witness_key: Mapped[str] = mapped_column(String(300))
    authority_key: Mapped[str] = mapped_column(String(300))
    #: pending until the regulator approves the registration, then active
    state: Mapped[str] = mapped_column(String(20))
    push_interval_s: Mapped[int] = mapped_column(Integer)
    poll_s: Mapped[float] = mapped_column(Float, default=2.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: the size the witness last cosigned, as far as this operator knows
    witness_size: Mapped[int] = mapped_column(BigInteger, default=0)
    last_push_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: the highest order sequence number received
    orders_seq: Mapped[int] = mapped_column(Integer, default=0)


class RegulatorOrder(Base):
    __tablename__ = "regulator_orders"
    __table_args__ = (UniqueConstraint("link_id", "seq"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    link_id: Mapped[str] = mapped_column(ForeignKey("regulator_links.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    deployment_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[str] = mapped_column(String(40))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RegulatorReceipt(Base):
    __tablename__ = "regulator_receipts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    link_id: Mapped[str] = mapped_column(ForeignKey("regulator_links.id"), index=True)
    what: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(100))
    document_sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[str] = mapped_column(String(40))
