"""What a report about one deployment is built from, read in one transaction.

The deployment row (and what the policy packs know of it), its operator and notice, the
impact assessment on record, live counts (people, templates, consents, ledger events by
kind), the ledger's size and latest signed checkpoint, and the deployment's registration
and go-live checks re-run now. Report builders (``pia``, ``art30``) are pure functions of
these facts, so they are tested without a database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.core import Core, aware, packs_of
from facegate.errors import LedgerError, NotFound
from facegate.flows.facts import current_notice, deployment_facts, document_facts, notice_facts
from facegate.flows.registry import info as deployment_info
from facegate.masters import custody
from facegate.policy import Act, Context, DeploymentFacts, NoticeFacts, decide, rules_for
from facegate.policy.registration import notice_draft
from facegate.reports.measures import EncryptedFacts
from facegate.results import DeploymentInfo
from facegate.storage import tables as t
from facegate.supervision.metrics import DeploymentCounts, deployment_counts
from facegate.transfers.records import RecipientRecord, recipient_records

#: ledger kinds (or kind prefixes) that mean data left the deployment for a recipient
RECIPIENT_KINDS = ("share", "export", "transfer")


@dataclass(frozen=True)
class RuleResult:
    act: str
    rule_id: str
    summary: str
    #: "" when the rule passes, else why it refuses
    refusal: str = ""


@dataclass(frozen=True)
class PolicyFacts:
    """The deployment's registration and go-live checks, run again against today's packs."""

    results: tuple[RuleResult, ...]

    @property
    def allowed(self) -> bool:
        return not any(r.refusal for r in self.results)

    @property
    def denials(self) -> dict[str, str]:
        return {r.rule_id: r.refusal for r in self.results if r.refusal}


@dataclass(frozen=True)
class AssessmentRecord:
    """The impact assessment on record (``pias`` table): written by people, signed by a
    principal with the dpo role (unsigned while the deployment is a draft)."""

    version: int
    sha256: str
    body: Mapping[str, str]
    drafted: bool
    confirmed_by: str
    completed_at: datetime
    keep_until: datetime
    #: the principal (role dpo) who signed it and when; None while unsigned
    signed_by: str | None
    signed_at: datetime | None
    #: still bound to the deployment's current purpose and method (else a new one is due)
    current: bool


@dataclass(frozen=True)
class ReportFacts:
    generated_at: datetime
    operator_id: str
    operator_name: str
    operator_contact: str
    deployment: DeploymentInfo
    #: what the policy packs know of the deployment (capabilities, egress, scope, ...)
    facts: DeploymentFacts
    notice_version: int
    notice_sha256: str
    notice_body: Mapping[str, str]
    counts: DeploymentCounts
    ledger_size: int
    ledger_origin: str
    ledger_key: str
    checkpoint: str
    policy: PolicyFacts
    #: how the master key is held (:func:`facegate.masters.custody`)
    key_custody: str
    assessment: AssessmentRecord | None = None
    #: the last PIA report issued for this deployment: (event id, content sha256, when)
    last_pia: tuple[str, str, str] | None = None
    #: the recipients recorded for this deployment and what each received (issue 14)
    recipient_records: tuple[RecipientRecord, ...] = ()
    #: the key ceremony of its threshold encrypted verification, if set up (issue 16), and
    #: where its key shares were made
    encrypted_ceremony: EncryptedFacts | None = None

    @property
    def packs(self) -> list[str]:
        return list(packs_of(self.deployment.jurisdiction))

    def recipients(self) -> dict[str, int]:
        """Ledger events that sent data to a recipient, by kind."""
        return {
            kind: n
            for kind, n in self.counts.events.items()
            if kind.split(".")[0] in RECIPIENT_KINDS
        }


def gather(
    core: Core, deployment_id: str, *, now: datetime, operator_id: str | None = None
) -> ReportFacts:
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, operator_id)
        op = s.get(t.Operator, dep.operator_id)
        assert op is not None  # foreign key
        notice = current_notice(s, dep)
        facts = deployment_facts(s, dep)
        if notice is not None:
            version, digest, body = notice.version, notice.sha256, dict(notice.body)
            shown = notice_facts(notice)
        else:  # a draft: the notice its sign-off would publish
            version, digest, body = 0, "", notice_draft(facts).document(0)
            shown = document_facts(0, "", body)
        return ReportFacts(
            generated_at=now,
            operator_id=op.id,
            operator_name=op.name,
            operator_contact=op.contact,
            deployment=deployment_info(dep, notice_version=version),
            facts=facts,
            notice_version=version,
            notice_sha256=digest,
            notice_body={str(k): str(v) for k, v in body.items()},
            counts=deployment_counts(s, dep.id),
            ledger_size=core.ledger.size(s),
            ledger_origin=core.ledger.origin,
            ledger_key=core.ledger.verifier_key,
            checkpoint=_checkpoint(core, s),
            policy=policy_facts(facts, shown, jurisdiction=dep.jurisdiction, now=now),
            key_custody=key_custody(core),
            assessment=assessment_record(s, dep.id, facts),
            last_pia=latest_report_event(s, report="pia", deployment_id=dep.id),
            recipient_records=recipient_records(s, dep),
            encrypted_ceremony=encrypted_ceremony(core, dep.id),
        )


def encrypted_ceremony(core: Core, deployment_id: str) -> EncryptedFacts | None:
    from facegate.encrypted.setup import EncryptedSetup

    try:
        done = EncryptedSetup.load(core, deployment_id)
        return EncryptedFacts(done.ceremony, done.made_at, done.node_keys)
    except NotFound:
        return None


def key_custody(core: Core) -> str:
    settings = core.settings
    return custody(settings.home.expanduser(), env_value=settings.master_key, hsm=settings.hsm)


def policy_facts(
    facts: DeploymentFacts, notice: NoticeFacts, *, jurisdiction: str, now: datetime
) -> PolicyFacts:
    """Run registration and go-live again, as the packs stand today."""
    rules = rules_for(packs_of(jurisdiction))
    summaries = {r.id: r.summary for r in rules}
    results: list[RuleResult] = []
    for act in (Act.REGISTER_DEPLOYMENT, Act.ACTIVATE_DEPLOYMENT):
        decision = decide(Context(act, facts, now, notice=notice), rules)
        refused = {f.rule_id: f.reason for f in decision.denials}
        results.extend(
            RuleResult(str(act), rid, summaries.get(rid, ""), refused.get(rid, ""))
            for rid in decision.rule_ids
        )
    return PolicyFacts(results=tuple(results))


def signed_assessment(s: Session, deployment_id: str) -> str:
    """The latest assessment as the DPO signed it, in words; "" while it is unsigned."""
    row = s.scalar(
        select(t.Pia)
        .where(t.Pia.deployment_id == deployment_id)
        .order_by(t.Pia.version.desc())
        .limit(1)
    )
    if row is None or row.signed_by is None or row.signed_at is None:
        return ""
    return (
        f"version {row.version} (sha256 {row.sha256}), signed by the DPO "
        f"(principal {row.signed_by}) on {aware(row.signed_at).date().isoformat()}"
    )


def assessment_record(
    s: Session, deployment_id: str, facts: DeploymentFacts
) -> AssessmentRecord | None:
    row = s.scalar(
        select(t.Pia)
        .where(t.Pia.deployment_id == deployment_id)
        .order_by(t.Pia.version.desc())
        .limit(1)
    )
    if row is None:
        return None
    return AssessmentRecord(
        version=row.version,
        sha256=row.sha256,
        body={str(k): str(v) for k, v in row.body.items()},
        drafted=row.drafted,
        confirmed_by=row.confirmed_by,
        completed_at=aware(row.completed_at),
        keep_until=aware(row.keep_until),
        signed_by=row.signed_by,
        signed_at=aware(row.signed_at) if row.signed_at else None,
        current=row.purpose_sha256 == facts.purpose_sha256
        and row.method_sha256 == facts.method_sha256,
    )


def latest_report_event(
    s: Session, *, report: str, deployment_id: str
) -> tuple[str, str, str] | None:
    """``(event_id, sha256, at)`` of the last ``report`` issued for a deployment, if any."""
    rows = s.execute(
        select(t.LedgerEntry.data)
        .where(t.LedgerEntry.kind == "report.issued")
        .order_by(t.LedgerEntry.idx.desc())
    )
    for (data,) in rows:
        leaf = json.loads(data)
        details = leaf.get("details", {})
        if leaf.get("deployment") == deployment_id and details.get("report") == report:
            return str(leaf["id"]), str(details.get("sha256", "")), str(leaf["at"])
    return None


def _checkpoint(core: Core, s: Session) -> str:
    try:
        return core.ledger.latest_note(s)
    except LedgerError:  # pragma: no cover - every home has an operator.created event
        return ""
