"""The Gate's transfer methods: recipients and their agreements, a person's consent to one
recipient, share and export, trace a leaked copy, alerts (issue 14; one mixin, to keep the
Gate's module readable). See :mod:`facegate.transfers` and ``docs/transfers.md``.

    rec = gate.add_recipient(dep.id, name="New Property Co", contact="+86 21 5555 0199",
                             role="processor", country="CN", purpose=..., same_purpose=True,
                             retention_days=365, irrevocable=False, for_profit=False,
                             mechanism="none", max_people=500, agreement_sha256=...,
                             ends_at=...)
    out = gate.share(dep.id, rec.id, everyone=True)   # out.file and out.key_file to hand over
    gate.trace(leaked_bytes).recipient                 # who let it out
"""

from __future__ import annotations

from typing import Any

from facegate.actors import Actor
from facegate.core import Core
from facegate.transfers import alerts, flow, recipients, tracing
from facegate.transfers.alerts import AlertInfo
from facegate.transfers.results import (
    RecipientInfo,
    TraceReport,
    TransferConsentReceipt,
    TransferResult,
)
from facegate.transfers.specs import (
    RecipientAgreement,
    TransferConsentTerms,
    TransferRequest,
    build,
)


class TransferMethods:
    _core: Core
    _actor: Actor

    # --- recipients ------------------------------------------------------------------------

    def add_recipient(
        self, deployment_id: str, agreement: RecipientAgreement | None = None, **fields: Any
    ) -> RecipientInfo:
        """Record a recipient of a deployment's face data and its agreement (every term
        required: see :class:`RecipientAgreement`); ledgered (CN-SPC-7)."""
        agreement = agreement if agreement is not None else build(RecipientAgreement, fields)
        return recipients.add_recipient(self._core, self._actor, deployment_id, agreement)

    def list_recipients(self, deployment_id: str) -> list[RecipientInfo]:
        return recipients.list_recipients(self._core, self._actor, deployment_id)

    def revoke_recipient(
        self, recipient_id: str, *, reason: str, deployment_id: str | None = None
    ) -> RecipientInfo:
        """End the agreement: nothing more goes to it, its export keys are revoked."""
        return recipients.revoke_recipient(
            self._core, self._actor, recipient_id, reason=reason, deployment_id=deployment_id
        )

    def give_transfer_consent(
        self,
        deployment_id: str,
        subject_ref: str,
        terms: TransferConsentTerms | None = None,
        **fields: Any,
    ) -> TransferConsentReceipt:
        """Record a person's separate consent to their face data going to one recipient."""
        terms = terms if terms is not None else build(TransferConsentTerms, fields)
        return recipients.give_transfer_consent(
            self._core, self._actor, deployment_id, subject_ref, terms
        )

    # --- share and export ------------------------------------------------------------------

    def share(
        self,
        deployment_id: str,
        recipient_id: str,
        *,
        subjects: list[str] | None = None,
        everyone: bool = False,
    ) -> TransferResult:
        """Disclose people's face data to a recipient, re-protected under a key made for this
        share; each person decided by the packs (:class:`PolicyDenied` citing the rule)."""
        request = build(
            TransferRequest,
            {"recipient_id": recipient_id, "subjects": subjects, "everyone": everyone},
        )
        return flow.transfer(self._core, self._actor, deployment_id, request, "share")

    def export(
        self,
        deployment_id: str,
        recipient_id: str,
        *,
        subjects: list[str] | None = None,
        everyone: bool = False,
    ) -> TransferResult:
        """Move people's face data off the device or abroad, to a recipient (see
        :meth:`share`); cross-border exports count towards the year's total (CN-PIPL-38)."""
        request = build(
            TransferRequest,
            {"recipient_id": recipient_id, "subjects": subjects, "everyone": everyone},
        )
        return flow.transfer(self._core, self._actor, deployment_id, request, "export")

    def trace(self, data: bytes) -> TraceReport:
        """Which export a leaked file (any part, any encoding) came from; ledgered."""
        return tracing.trace(self._core, self._actor, data)

    # --- alerts ----------------------------------------------------------------------------

    def list_alerts(self, *, open_only: bool = False) -> list[AlertInfo]:
        return alerts.list_alerts(self._core, self._actor, open_only=open_only)

    def clear_alert(self, alert_id: str, *, reason: str) -> AlertInfo:
        """Lift an alert's block early, with reasons (a supervising principal)."""
        return alerts.clear_alert(self._core, self._actor, alert_id, reason=reason)

    def deliver_alerts(self, *, url: str | None = None) -> list[AlertInfo]:
        """Send the alerts not yet delivered to the regulator."""
        return alerts.deliver_pending(self._core, self._actor, url=url)
