"""The regulator node's own schema: a separate metadata, never the operator's.

The regulator keeps, per supervised log: its registration, the last checkpoint it cosigned
(size, root and Merkle frontier, updated by a conditional UPDATE so that the size check and
the save are one atomic step), the mirrored entries, the facts the monitor derived from them,
its findings, the orders it issued and the filings and notifications it received. Nothing
here is biometric and nothing names a person: entries carry pseudonyms and hashes only.
Keys are held wrapped by the regulator's master key (``reg_meta``), never in clear.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "RegBase",
    "RegCount",
    "RegDeployment",
    "RegEntry",
    "RegFinding",
    "RegInbox",
    "RegLog",
    "RegMeta",
    "RegObligation",
    "RegOrder",
    "RegSubject",
]


class RegBase(DeclarativeBase):
    """The regulator database's own declarative base (its own Alembic chain)."""


class RegMeta(RegBase):
    """Small facts: the wrapped witness and authority keys, the admin token's hash."""

    __tablename__ = "reg_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class RegLog(RegBase):
    """One supervised operator's log: registration, state and the witness's view of it."""

    __tablename__ = "reg_logs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    origin: Mapped[str] = mapped_column(String(300), unique=True)
    vkey: Mapped[str] = mapped_column(String(400))
    operator_name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500))
    #: pending, active, suspended, retired
    state: Mapped[str] = mapped_column(String(20))
    request: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    push_interval_s: Mapped[int] = mapped_column(Integer)
    filing_threshold: Mapped[int] = mapped_column(Integer)
    # The witness's record: the latest cosigned checkpoint. ``size`` only ever grows, and
    # only through ``UPDATE ... WHERE size = :old`` (see regulator.witness).
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    root: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    checkpoint: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: the verifiable index root at ``size`` (None: the log's heads carry no index line)
    index_root: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    cosigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_push_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    order_seq: Mapped[int] = mapped_column(Integer, default=0)
    people: Mapped[int] = mapped_column(Integer, default=0)
    threshold_reached_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    filing_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RegEntry(RegBase):
    """A mirrored entry: the exact leaf bytes. Below the log's ``size`` it is verified
    (its hash is under a cosigned root); at or above, it is staged, awaiting a checkpoint."""

    __tablename__ = "reg_entries"
    log_id: Mapped[str] = mapped_column(ForeignKey("reg_logs.id"), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RegFinding(RegBase):
    """Something the witness or the monitor found; one row per (log, key), counted."""

    __tablename__ = "reg_findings"
    __table_args__ = (UniqueConstraint("log_id", "key"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    log_id: Mapped[str] = mapped_column(ForeignKey("reg_logs.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, object]] = mapped_column(JSON)
    #: signed notes or proofs that make the finding checkable by a third party
    evidence: Mapped[str] = mapped_column(Text, default="")
    entry_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RegOrder(RegBase):
    """An order the regulator issued, as the signed note the operator receives."""

    __tablename__ = "reg_orders"
    __table_args__ = (UniqueConstraint("log_id", "seq"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    log_id: Mapped[str] = mapped_column(ForeignKey("reg_logs.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    deployment_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RegInbox(RegBase):
    """A filing, incident notification or order acknowledgement received, and the signed
    receipt the regulator answered with."""

    __tablename__ = "reg_inbox"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    log_id: Mapped[str] = mapped_column(ForeignKey("reg_logs.id"), index=True)
    what: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(100))
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    document_sha256: Mapped[str] = mapped_column(String(64))
    receipt: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegDeployment(RegBase):
    """A deployment as the log declared it (``deployment.created``)."""

    __tablename__ = "reg_deployments"
    log_id: Mapped[str] = mapped_column(ForeignKey("reg_logs.id"), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    capabilities: Mapped[list[str]] = mapped_column(JSON)
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegSubject(RegBase):
    """One pseudonym in one deployment, as the replayed log shows it: consent in force or
    not, and since when a template is held (None: none held)."""

    __tablename__ = "reg_subjects"
    log_id: Mapped[str] = mapped_column(ForeignKey("reg_logs.id"), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    holding_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RegCount(RegBase):
    """Events per day and kind (the risk view's counts over time)."""

    __tablename__ = "reg_counts"
    log_id: Mapped[str] = mapped_column(ForeignKey("reg_logs.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class RegObligation(RegBase):
    """A deadline the log itself announced (an incident's notification, a filing)."""

    __tablename__ = "reg_obligations"
    log_id: Mapped[str] = mapped_column(ForeignKey("reg_logs.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    what: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
