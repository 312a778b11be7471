"""Ledger events: what happened, to whom (pseudonymously), under which rules.

Events hold pseudonymous ids and hashes only, never a name, a reference, a photo or any
biometric data, so that erasing a subject's pseudonym link makes them unidentifiable here
while the log stays verifiable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from facegate._internal.canonical import canonical_json

LEAF_VERSION = 1


class Kind(StrEnum):
    OPERATOR_CREATED = "operator.created"
    OPERATOR_UPDATED = "operator.updated"  # name or contact changed (record_sha256 says how)
    API_KEY_ISSUED = "api_key.issued"
    DEPLOYMENT_CREATED = "deployment.created"
    NOTICE_PUBLISHED = "notice.published"
    CONSENT_GIVEN = "consent.given"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    ENROLLED = "enroll"
    VERIFIED = "verify"
    IDENTIFIED = "identify"
    ERASED = "erase"
    DENIED = "policy.denied"
    # subject rights and identification safeguards (CN-PIPL-44, EU-AI-12, EU-AI-14)
    CONSENT_REFUSED = "consent.refused"
    SUBJECT_REQUEST = "subject.request"
    IDENTIFICATION_REVIEWED = "identify.reviewed"
    # supervision and reports (CN-FR-9, CN-FR-15, CN-PIPL-57, EU-GDPR-30/33)
    REPORT_ISSUED = "report.issued"
    FILING_OPENED = "filing.opened"
    FILING_AMENDED = "filing.amended"
    FILING_SUBMITTED = "filing.submitted"
    FILING_CANCELLED = "filing.cancelled"
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_NOTIFIED = "incident.notified"
    INCIDENT_CLOSED = "incident.closed"
    # key lifecycle (ISO-24745: renewability and revocability; crypto-shredding)
    MASTER_KEY_ROTATED = "key.master_rotated"
    MASTER_KEY_RETIRED = "key.master_retired"
    DEPLOYMENT_KEY_REVOKED = "key.deployment_revoked"
    # principals, operators, deployments' life, the self-check (issue: lawful by construction)
    PRINCIPAL_CREATED = "principal.created"
    PRINCIPAL_REVOKED = "principal.revoked"
    PASSWORD_SET = "principal.password_set"  # a console password set, by whom for whom
    API_KEY_REVOKED = "api_key.revoked"
    DEPLOYMENT_CHANGED = "deployment.changed"
    PIA_SIGNED = "pia.signed"
    DEPLOYMENT_ENDED = "deployment.ended"
    HOLD_PLACED = "subject.hold"
    RECORD_DELETED = "record.deleted"
    SELF_CHECK = "selfcheck"
    KEYS_SWEPT = "key.orphans_swept"
    # the regulator link (facegate.regulator.link): registration, orders, receipts, alarms
    REGULATOR_LINKED = "regulator.linked"
    REGULATOR_ORDER = "regulator.order"
    REGULATOR_RECEIPT = "regulator.receipt"
    WITNESS_ALARM = "witness.alarm"
    # when face data leaves (issue 14): recipients, consents to them, shares and exports
    # (one event per act and one per person carried), traces of leaked copies, alerts
    RECIPIENT_ADDED = "recipient.added"
    RECIPIENT_REVOKED = "recipient.revoked"
    TRANSFER_CONSENT = "consent.transfer"
    SHARED = "share"
    EXPORTED = "export"
    TRANSFERRED = "transfer.person"
    TRACED = "trace"
    ABUSE_ALERT = "alert.abuse"
    ALERT_CLEARED = "alert.cleared"
    # recognition features (issue 17): liveness, detection, comparison, corrections, alerts
    # threshold encrypted verification (issue 16): a deployment's key ceremony
    ENCRYPTION_SET_UP = "encrypted.setup"
    LIVENESS_FAILED = "liveness.failed"
    LIVENESS_CHALLENGE = "liveness.challenge"
    DETECTED = "detect"
    COMPARED = "compare"
    MATCH_FLAGGED = "match.flagged"
    UNKNOWN_FACE_ALERT = "alert.unknown_face"
    #: some of a person's templates deleted on request; the person and their consent stay
    TEMPLATES_DELETED = "template.deleted"


@dataclass(frozen=True)
class Event:
    kind: Kind
    at: datetime
    operator: str | None = None
    deployment: str | None = None
    subject: str | None = None  # a pseudonym, never the operator's reference
    rule_ids: tuple[str, ...] = ()
    details: Mapping[str, object] = field(default_factory=dict)
    #: the principal who acted (a pseudonymous id, never a name); None for the system itself
    by: str | None = None

    def leaf_bytes(self, event_id: str) -> bytes:
        """The exact bytes hashed into the Merkle tree (``by`` only when a principal acted,
        so that leaves written before principals existed keep their bytes)."""
        leaf: dict[str, object] = {
            "v": LEAF_VERSION,
            "id": event_id,
            "kind": str(self.kind),
            "at": self.at.isoformat(timespec="microseconds"),
            "operator": self.operator,
            "deployment": self.deployment,
            "subject": self.subject,
            "rules": list(self.rule_ids),
            "details": dict(self.details),
        }
        if self.by is not None:
            leaf["by"] = self.by
        return canonical_json(leaf)


@dataclass(frozen=True)
class Recorded:
    """Where an event landed in the ledger."""

    event_id: str
    index: int
