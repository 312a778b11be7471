"""What the transfer methods hand back: frozen, public, free of biometric data. The export
file and its key file are bytes to hand over (the key by another channel); neither is kept
by facegate (the key stays wrapped in the database, the file's hash in the ledger)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from facegate.results import _Public

__all__ = ["RecipientInfo", "TraceReport", "TransferConsentReceipt", "TransferResult"]


@dataclass(frozen=True)
class RecipientInfo(_Public):
    id: str
    deployment_id: str
    name: str
    contact: str
    role: str
    country: str
    purpose: str
    same_purpose: bool
    retention_days: int | None
    irrevocable: bool
    for_profit: bool
    mechanism: str
    max_people: int
    agreement_sha256: str
    ends_at: datetime
    created_at: datetime
    event_id: str
    revoked_at: datetime | None = None
    revoked_reason: str = ""
    #: people it has received so far (all its exports)
    people_received: int = 0


@dataclass(frozen=True)
class TransferResult(_Public):
    export_id: str
    act: str
    deployment_id: str
    recipient_id: str
    people: int
    rows: int
    cross_border: bool
    people_abroad_this_year: int
    scheme: str
    key_id: str
    file_sha256: str
    rule_ids: tuple[str, ...]
    event_id: str
    #: the export file (JSON) and the key file (JSON) to hand over, apart
    file: bytes = field(repr=False, compare=False, default=b"")
    key_file: bytes = field(repr=False, compare=False, default=b"")

    def summary(self) -> dict[str, Any]:
        """Everything but the two files."""
        out = self.to_dict()
        out.pop("file")
        out.pop("key_file")
        return out


@dataclass(frozen=True)
class TransferConsentReceipt(_Public):
    consent_id: str
    deployment_id: str
    recipient_id: str
    egress: bool
    disclosure: bool
    receipt: dict[str, object]
    event_id: str


@dataclass(frozen=True)
class TraceReport(_Public):
    """Where a leaked file came from: the export (or the operator's own deployment), how
    sure, and the ledger events a court can check (with an evidence bundle)."""

    file_sha256: str
    templates: int
    attributed: int
    verdict: str  # "export", "deployment" or "none"
    export_id: str | None
    deployment_id: str | None
    recipient_id: str | None
    recipient: str | None
    exported_at: datetime | None
    confidence: float
    false_attribution_log10: float
    evidence_log10: float
    #: canary rows of the named export found in the file (exact, beyond any statistics)
    canaries_found: int
    counts: dict[str, int]
    #: event ids: the recipient's agreement, the export, its revocation, this trace
    ledger_events: dict[str, str]
    event_id: str
