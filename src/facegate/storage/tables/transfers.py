"""When face data leaves: recipients and their agreements, exports, and the alerts that guard
them (issue 14; :mod:`facegate.transfers`).

* ``transfer_recipients``: a recipient of one deployment's face data and the agreement
  recorded with it (identity and contact, processor or controller, country, purpose,
  retention, the legal mechanism abroad, the most people it may receive, the agreement's hash
  and end). Revoking it ends every share and export to it.
* ``transfer_consents``: a person's separate consent, given later, to their face data going
  to one named recipient (CN-FR-8, CN-PIPL-38, US-IL-15c); it goes with the person.
* ``transfer_exports``: each share or export: to whom, how many people, under which key (the
  export key, wrapped by the master key; it re-protects, fingerprints and plants canaries),
  and the hash of the file that left.
* ``transfer_items``: which people (by ledger pseudonym, never a reference) each export
  carried: the yearly cross-border count (CN-PIPL-38), the agreement's volume, the portal.
* ``transfer_alerts``: harvesting or attacks detected (a canary probed, a hill-climb on a
  template, a sweep of strangers, a bulk export beyond the agreement), their block, and
  their delivery to the regulator.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facegate.storage.tables.base import Base

__all__ = [
    "TransferAlert",
    "TransferConsent",
    "TransferExport",
    "TransferItem",
    "TransferRecipient",
]


class TransferRecipient(Base):
    __tablename__ = "transfer_recipients"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(300))
    #: "processor" (acts for the operator) or "controller" (decides its own use)
    role: Mapped[str] = mapped_column(String(20))
    #: ISO 3166-1 alpha-2
    country: Mapped[str] = mapped_column(String(2))
    purpose: Mapped[str] = mapped_column(Text)
    same_purpose: Mapped[bool] = mapped_column(Boolean)
    #: days the recipient may keep the data; NULL: the agreement sets no limit
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    irrevocable: Mapped[bool] = mapped_column(Boolean)
    for_profit: Mapped[bool] = mapped_column(Boolean)
    #: none, security_assessment, standard_contract or certification (PIPL Art 38)
    mechanism: Mapped[str] = mapped_column(String(40))
    max_people: Mapped[int] = mapped_column(Integer)
    agreement_sha256: Mapped[str] = mapped_column(String(64))
    agreement_ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_reason: Mapped[str] = mapped_column(Text, default="")


class TransferConsent(Base):
    __tablename__ = "transfer_consents"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject_id: Mapped[str] = mapped_column(
        ForeignKey("subjects.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[str] = mapped_column(ForeignKey("transfer_recipients.id"), index=True)
    egress: Mapped[bool] = mapped_column(Boolean)
    disclosure: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(40))
    form_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[str] = mapped_column(String(40))


class TransferExport(Base):
    __tablename__ = "transfer_exports"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployments.id"), index=True)
    recipient_id: Mapped[str] = mapped_column(ForeignKey("transfer_recipients.id"), index=True)
    #: "share" or "export"
    act: Mapped[str] = mapped_column(String(20))
    people: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    canaries: Mapped[int] = mapped_column(Integer)
    cross_border: Mapped[bool] = mapped_column(Boolean)
    scheme: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(40))
    #: the export key, wrapped by the master key (context names the export)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    file_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TransferItem(Base):
    __tablename__ = "transfer_items"
    export_id: Mapped[str] = mapped_column(ForeignKey("transfer_exports.id"), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
    event_id: Mapped[str] = mapped_column(String(40))


class TransferAlert(Base):
    __tablename__ = "transfer_alerts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    deployment_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    #: canary, wolf_probe, hill_climb, sweep or bulk_export
    kind: Mapped[str] = mapped_column(String(20))
    #: what the block stops: the person targeted (pseudonym), the principal, or the export
    subject: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    principal_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    export_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocks_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    details: Mapped[dict[str, object]] = mapped_column(JSON)
    event_id: Mapped[str] = mapped_column(String(40))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    receipt_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cleared_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    cleared_reason: Mapped[str] = mapped_column(Text, default="")
