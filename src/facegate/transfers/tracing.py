"""``facegate trace FILE``: which export a leaked copy came from, ledgered as evidence.

The file may be any re-encoding of any part of an export (:func:`templates_in`). Every
template found is tested against every export key of the operator (revoked ones included)
and every deployment key of the operator (a copy of the operator's own store): see
:mod:`facegate.transfers.trace` for the statistics. The trace itself is a ledger event (the
file's hash, the verdict, the export's events), so a court sees what was found and when.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from facegate.actors import Actor
from facegate.core import Core, aware
from facegate.flows.enforce import require
from facegate.ledger.events import Event, Kind
from facegate.storage import tables as t
from facegate.templates import get_scheme
from facegate.templates.hazmat import keys
from facegate.transfers.canaries import canary_embeddings
from facegate.transfers.fileformat import templates_in
from facegate.transfers.keys import open_export_key
from facegate.transfers.reprotect import ExportKeys, mask_of, supports, transform_of
from facegate.transfers.results import TraceReport
from facegate.transfers.trace import Candidate, attribute

__all__ = ["trace"]


def trace(core: Core, actor: Actor, data: bytes) -> TraceReport:
    require(actor, "supervise", "trace leaked files")
    file_sha256 = hashlib.sha256(data).hexdigest()
    candidates, exports = _candidates(core, actor.operator_id)
    templates = templates_in(data, {c.mask.size for c in candidates})
    verdict = attribute(templates, candidates)
    export = exports.get(verdict.label or "")
    recipient: str | None = None
    events: dict[str, str] = {}
    canaries = 0
    if export is not None:
        recipient, events = _events(core, export)
        canaries = _canaries_in(core, export, templates)
    kind = verdict.kind or "none"
    deployment_id = export.deployment_id if export is not None else verdict.label
    with core.db.transaction() as s:
        recorded = core.record(
            s,
            Event(
                Kind.TRACED,
                core.clock(),
                operator=actor.operator_id,
                deployment=deployment_id,
                by=actor.principal_id,
                details={
                    "file_sha256": file_sha256,
                    "templates": verdict.templates,
                    "attributed": verdict.attributed,
                    "verdict": kind,
                    "export_id": export.id if export is not None else None,
                    "evidence_log10": round(verdict.evidence_log10, 1),
                    "canaries_found": canaries,
                    "events": events,
                },
            ),
        )
    return TraceReport(
        file_sha256=file_sha256,
        templates=verdict.templates,
        attributed=verdict.attributed,
        verdict=kind,
        export_id=export.id if export is not None else None,
        deployment_id=deployment_id,
        recipient_id=export.recipient_id if export is not None else None,
        recipient=recipient,
        exported_at=aware(export.created_at) if export is not None else None,
        confidence=verdict.confidence,
        false_attribution_log10=verdict.false_attribution_log10,
        evidence_log10=verdict.evidence_log10,
        canaries_found=canaries,
        counts=verdict.counts,
        ledger_events=events,
        event_id=recorded[0].event_id,
    )


def _events(core: Core, export: t.TransferExport) -> tuple[str, dict[str, str]]:
    """The recipient's name, and the ledger events a court checks: the agreement, the
    export, and the revocation if there was one."""
    with core.db.read() as s:
        rec = s.get(t.TransferRecipient, export.recipient_id)
        assert rec is not None  # foreign key
        events = {"recipient_added": rec.event_id, "export": export.event_id}
        if rec.revoked_at is not None:
            for event_id, leaf in s.execute(
                select(t.LedgerEntry.event_id, t.LedgerEntry.data).where(
                    t.LedgerEntry.kind == str(Kind.RECIPIENT_REVOKED),
                    t.LedgerEntry.deployment_id == rec.deployment_id,
                )
            ):
                if json.loads(bytes(leaf))["details"].get("recipient_id") == rec.id:
                    events["recipient_revoked"] = event_id
        return rec.name, events


def _candidates(
    core: Core, operator_id: str
) -> tuple[list[Candidate], dict[str, t.TransferExport]]:
    """Every key the operator made templates under: its exports' and its deployments'."""
    with core.db.read() as s:
        exports = list(
            s.scalars(select(t.TransferExport).where(t.TransferExport.operator_id == operator_id))
        )
        deployments = list(
            s.scalars(select(t.Deployment).where(t.Deployment.operator_id == operator_id))
        )
        s.expunge_all()
    out = []
    for e in exports:
        seed = ExportKeys.of(open_export_key(core, e)).transform_seed
        out.append(Candidate(e.id, "export", mask_of(get_scheme(e.scheme), seed)))
    for d in deployments:
        scheme = get_scheme(d.scheme)
        if supports(scheme):
            protector = core.keyring.protector(d)
            seed = keys.derive(protector.deployment_key, label=keys.TEMPLATE_TRANSFORM)
            out.append(Candidate(d.id, "deployment", mask_of(scheme, seed)))
    return out, {e.id: e for e in exports}


def _canaries_in(core: Core, export: t.TransferExport, templates: list[bytes]) -> int:
    """How many of the export's canary rows are in the file, byte for byte."""
    ek = ExportKeys.of(open_export_key(core, export))
    planted = transform_of(get_scheme(export.scheme), ek.transform_seed).protect_many(
        canary_embeddings(ek.canary_seed, export.canaries)
    )
    found = set(templates)
    return sum(1 for row in planted if bytes(row) in found)
