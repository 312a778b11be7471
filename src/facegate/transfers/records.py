"""What the records say about transfers: a deployment's recipients for the Art 30 record
(EU-GDPR-30 (d) and (e)), and a person's transfers for their portal (CN-PIPL-44)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facegate.core import aware
from facegate.storage import tables as t
from facegate.transfers.specs import is_cross_border

__all__ = ["RecipientRecord", "recipient_records", "transfers_of"]


@dataclass(frozen=True)
class RecipientRecord:
    name: str
    contact: str
    role: str
    country: str
    purpose: str
    mechanism: str
    cross_border: bool
    people: int
    exports: int
    agreement_sha256: str
    revoked_at: datetime | None

    def describe(self) -> str:
        state = f"revoked {self.revoked_at.date()}" if self.revoked_at else "in force"
        return (
            f"{self.name} ({self.role}, {self.country}; {self.contact}): {self.purpose}; "
            f"{self.people} people in {self.exports} transfers; agreement "
            f"sha256 {self.agreement_sha256[:16]}..., {state}"
        )


def recipient_records(s: Session, deployment: t.Deployment) -> tuple[RecipientRecord, ...]:
    """Every recipient recorded for ``deployment``, with what it has received."""
    out = []
    for r in s.scalars(
        select(t.TransferRecipient)
        .where(t.TransferRecipient.deployment_id == deployment.id)
        .order_by(t.TransferRecipient.created_at)
    ):
        people, exports = s.execute(
            select(
                func.count(func.distinct(t.TransferItem.pseudonym)),
                func.count(func.distinct(t.TransferExport.id)),
            )
            .select_from(t.TransferExport)
            .outerjoin(t.TransferItem, t.TransferItem.export_id == t.TransferExport.id)
            .where(t.TransferExport.recipient_id == r.id)
        ).one()
        out.append(
            RecipientRecord(
                name=r.name,
                contact=r.contact,
                role=r.role,
                country=r.country,
                purpose=r.purpose,
                mechanism=r.mechanism,
                cross_border=is_cross_border(deployment.jurisdiction, r.country),
                people=int(people or 0),
                exports=int(exports or 0),
                agreement_sha256=r.agreement_sha256,
                revoked_at=aware(r.revoked_at) if r.revoked_at else None,
            )
        )
    return tuple(out)


def transfers_of(s: Session, pseudonym: str) -> list[dict[str, object]]:
    """Where this person's face data went: each share or export that carried them."""
    rows = s.execute(
        select(t.TransferExport, t.TransferRecipient, t.TransferItem.event_id)
        .join(t.TransferItem, t.TransferItem.export_id == t.TransferExport.id)
        .join(t.TransferRecipient, t.TransferRecipient.id == t.TransferExport.recipient_id)
        .where(t.TransferItem.pseudonym == pseudonym)
        .order_by(t.TransferExport.created_at)
    ).all()
    return [
        {
            "act": e.act,
            "at": aware(e.created_at).isoformat(),
            "recipient": {
                "name": r.name,
                "contact": r.contact,
                "role": r.role,
                "country": r.country,
                "purpose": r.purpose,
            },
            "abroad": e.cross_border,
            "form": "templates re-protected under a key made for this recipient; no photo",
            "revoked_at": aware(r.revoked_at).isoformat() if r.revoked_at else None,
            "event_id": event_id,
        }
        for e, r, event_id in rows
    ]
