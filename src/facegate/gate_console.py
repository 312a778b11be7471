"""The Gate's methods for the operator console: what its pages read that the Gate did not
offer yet (a deployment's registration as a spec, reports as data, the witnesses' state,
the regulator's orders). One mixin, registered on :class:`facegate.gate.Gate`; every method
checks the acting principal's role first, as the flows do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from facegate.actors import Actor
from facegate.core import Core, aware
from facegate.errors import InvalidInput
from facegate.flows import registry
from facegate.flows.enforce import require
from facegate.reports.document import Report
from facegate.specs import DeploymentSpec
from facegate.storage import tables as t
from facegate.supervision.results import FilingState

#: reports about one deployment; the filing is about the operator
DEPLOYMENT_REPORTS = ("pia", "art30")


@dataclass(frozen=True)
class WitnessState:
    key: str
    name: str
    added_at: datetime
    #: the largest ledger size this witness cosigned, and when its cosignature arrived
    cosigned_size: int | None
    cosigned_at: datetime | None


@dataclass(frozen=True)
class OrderState:
    id: str
    kind: str
    deployment_id: str | None
    reason: str
    issued_at: datetime
    due_at: datetime | None
    acknowledged_at: datetime | None
    note: str


class ConsoleMethods:
    _core: Core
    _actor: Actor

    def deployment_spec(self, deployment_id: str) -> DeploymentSpec:
        """What a deployment was registered (or last changed) with, to fill a change form."""
        require(self._actor, "read", "read deployments")
        with self._core.db.read() as s:
            dep = self._core.deployment(s, deployment_id, self._actor.operator_id)
            return registry.spec_of(dep, None)

    def report(self, kind: str, deployment_id: str | None = None, *, issue: bool) -> Report:
        """The ``pia`` or ``art30`` report of a deployment, or the operator's ``filing``
        document. ``issue``: record its digest in the ledger (CN-FR-9: the report's date is
        then provable); without it, a preview nothing records."""
        from facegate.reports.facts import gather
        from facegate.reports.issue import BUILDERS, issue_report
        from facegate.supervision.filings import filing_document

        require(self._actor, "read", "read reports")
        operator = self._actor.operator_id
        if kind == "filing":
            return filing_document(self._core, operator_id=operator)
        if kind not in DEPLOYMENT_REPORTS or deployment_id is None:
            raise InvalidInput(
                f"no report {kind!r} for {deployment_id!r}",
                advice="Reports: pia or art30 of a deployment, or the operator's filing.",
            )
        if issue:  # its digest is recorded, naming who issued it
            return issue_report(
                self._core,
                kind,
                deployment_id,
                operator_id=operator,
                by=self._actor.principal_id,
            ).report
        now = self._core.clock()
        return BUILDERS[kind](gather(self._core, deployment_id, now=now, operator_id=operator))

    def filing_state(self) -> FilingState:
        """Where the operator stands with the CN-FR-15 filing (nothing changes)."""
        from facegate.supervision.filings import filing_status

        require(self._actor, "read", "read the filing")
        return filing_status(self._core, operator_id=self._actor.operator_id)

    def witness_states(self) -> list[WitnessState]:
        """Every registered witness with the newest size it cosigned, and when."""
        require(self._actor, "read", "read the ledger's witnesses")
        with self._core.db.read() as s:
            latest = (
                select(
                    t.LedgerCosignature.witness_key,
                    func.max(t.LedgerCosignature.size).label("size"),
                )
                .group_by(t.LedgerCosignature.witness_key)
                .subquery()
            )
            rows = s.execute(
                select(t.LedgerWitness, latest.c.size, t.LedgerCosignature.received_at)
                .outerjoin(latest, latest.c.witness_key == t.LedgerWitness.key)
                .outerjoin(
                    t.LedgerCosignature,
                    (t.LedgerCosignature.witness_key == t.LedgerWitness.key)
                    & (t.LedgerCosignature.size == latest.c.size),
                )
                .order_by(t.LedgerWitness.added_at)
            ).all()
            return [
                WitnessState(
                    key=w.key,
                    name=w.name,
                    added_at=aware(w.added_at),
                    cosigned_size=size,
                    cosigned_at=aware(at) if at is not None else None,
                )
                for w, size, at in rows
            ]

    def regulator_orders(self) -> list[OrderState]:
        """The signed orders received from the regulator, newest first."""
        require(self._actor, "read", "read the regulator's orders")
        with self._core.db.read() as s:
            rows = s.scalars(select(t.RegulatorOrder).order_by(t.RegulatorOrder.issued_at.desc()))
            return [
                OrderState(
                    id=o.id,
                    kind=o.kind,
                    deployment_id=o.deployment_id,
                    reason=o.reason,
                    issued_at=aware(o.issued_at),
                    due_at=aware(o.due_at) if o.due_at else None,
                    acknowledged_at=aware(o.acknowledged_at) if o.acknowledged_at else None,
                    note=o.note,
                )
                for o in rows
            ]
