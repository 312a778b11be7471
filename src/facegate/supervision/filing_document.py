"""The CN-FR-15 filing document, and the material content whose change calls for amending it.

The Measures ask a processor holding face data of 100,000 people or more to file with the
provincial cyberspace administration: the processor's basic information; the purposes and
methods of processing; the amount of face data and how it is stored; the security
measures; the processing rules; and the personal information protection impact assessment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate._internal.canonical import canonical_json, sha256_hex
from facegate.core import Core
from facegate.errors import NotFound
from facegate.flows.registry import info as deployment_info
from facegate.reports.document import Item, Report, Section, Table, item
from facegate.reports.facts import key_custody, latest_report_event, signed_assessment
from facegate.reports.measures import technical_measures
from facegate.results import DeploymentInfo
from facegate.storage import tables as t
from facegate.supervision import metrics
from facegate.supervision.results import FilingState


@dataclass(frozen=True)
class NoticeRef:
    version: int
    sha256: str


@dataclass(frozen=True)
class FilingFacts:
    generated_at: datetime
    operator_id: str
    operator_name: str
    operator_contact: str
    people: int
    people_by_deployment: Mapping[str, int]
    templates: int
    #: deployments that are active or still hold templates
    deployments: tuple[DeploymentInfo, ...]
    notices: Mapping[str, NoticeRef]
    #: deployment id -> (event id, sha256, when) of its last PIA report
    pias: Mapping[str, tuple[str, str, str] | None]
    #: deployment id -> its assessment as the DPO signed it ("" while unsigned)
    signed: Mapping[str, str]
    ledger_size: int
    #: how the master key is held (:func:`facegate.masters.custody`)
    key_custody: str
    #: the operator's address as set with 'facegate operator set --address'
    operator_address: str = ""

    def material(self, *, threshold: int) -> dict[str, object]:
        """What a filing states that, when it changes, must be amended. The exact number of
        people changes daily and is not itself material; its order of magnitude is."""
        return {
            "processor": {"name": self.operator_name, "contact": self.operator_contact},
            "deployments": [
                {
                    "id": d.id,
                    "purpose": d.purpose,
                    "necessity": d.necessity,
                    "location_type": d.location_type,
                    "legal_basis": d.legal_basis,
                    "jurisdiction": d.jurisdiction,
                    "retention_days": d.retention_days,
                    "alternative": d.alternative,
                    "scheme": d.scheme,
                    "model_version": d.model_version,
                    "status": d.status,
                }
                for d in self.deployments
            ],
            "scale": scale_band(self.people, threshold=threshold),
        }


def material_sha256(material: Mapping[str, object]) -> str:
    return sha256_hex(canonical_json(dict(material)))


def changed_parts(before: Mapping[str, object], after: Mapping[str, object]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def scale_band(people: int, *, threshold: int) -> str:
    """The order of magnitude: ``"100,000+"``, ``"1,000,000+"``, ..."""
    band = threshold
    while people >= band * 10:
        band *= 10
    return f"{band:,}+"


def gather_filing_facts(core: Core, s: Session, *, operator_id: str, now: datetime) -> FilingFacts:
    op = s.get(t.Operator, operator_id)
    if op is None:
        raise NotFound(f"no operator {operator_id!r}")
    per_dep = metrics.people_by_deployment(s, operator_id=operator_id)
    deps = [
        d
        for d in s.scalars(
            select(t.Deployment)
            .where(t.Deployment.operator_id == operator_id)
            .order_by(t.Deployment.id)
        )
        if d.status == "live" or per_dep.get(d.id, 0) > 0
    ]
    notices = {d.id: n for d in deps if (n := core.notice(s, d.id)) is not None}
    templates = sum(metrics.deployment_counts(s, d.id).templates for d in deps)
    return FilingFacts(
        generated_at=now,
        operator_id=op.id,
        operator_name=op.name,
        operator_contact=op.contact,
        operator_address=op.address,
        people=sum(per_dep.values()),
        people_by_deployment=per_dep,
        templates=templates,
        deployments=tuple(
            deployment_info(d, notice_version=notices[d.id].version if d.id in notices else 0)
            for d in deps
        ),
        notices={k: NoticeRef(version=n.version, sha256=n.sha256) for k, n in notices.items()},
        pias={d.id: latest_report_event(s, report="pia", deployment_id=d.id) for d in deps},
        signed={d.id: signed_assessment(s, d.id) for d in deps},
        ledger_size=core.ledger.size(s),
        key_custody=key_custody(core),
    )


def build_filing_document(facts: FilingFacts, state: FilingState) -> Report:
    schemes = sorted({d.scheme for d in facts.deployments}) or ["(none)"]
    models = sorted({d.model_version for d in facts.deployments}) or ["(none)"]
    return Report(
        kind="filing",
        title="Filing of face recognition processing (CN-FR-15)",
        title_zh="人脸识别技术应用备案材料",
        subject=facts.operator_id,
        generated_at=facts.generated_at,
        rules=("CN-FR-15",),
        sections=(
            Section(
                title="1. The processor",
                title_zh="人脸信息处理者基本情况",
                items=(
                    item("Name", facts.operator_name),
                    item("Contact", facts.operator_contact),
                    item("Unified social credit code", ""),
                    item("Legal representative and person responsible", ""),
                    item("Address", facts.operator_address),
                ),
            ),
            Section(
                title="2. Purposes and methods of processing",
                title_zh="人脸信息处理目的和方式",
                rules=("CN-FR-4", "CN-FR-10"),
                intro=(
                    "Each deployment is one processing activity: faces are compared within "
                    "it only, by verification (1:1) or identification (1:N)."
                ),
                table=Table(
                    columns=("deployment", "purpose", "how"),
                    rows=tuple(
                        (
                            f"{d.name} ({d.id}, {d.status})",
                            d.purpose,
                            f"at a {d.location_type.replace('_', ' ')}; legal basis: "
                            f"{d.legal_basis}; alternative offered: {d.alternative}",
                        )
                        for d in facts.deployments
                    ),
                ),
            ),
            Section(
                title="3. Amount of face data and how it is stored",
                title_zh="处理人脸信息的数量和存储方式",
                rules=("CN-FR-15", "CN-FR-8"),
                items=(
                    item(
                        "People whose face data is stored",
                        f"{facts.people:,} as of {facts.generated_at.date().isoformat()} "
                        f"({metrics.PEOPLE_PROXY_NOTE})",
                    ),
                    item("Protected templates stored", f"{facts.templates:,}"),
                    item(
                        "Storage",
                        "protected, encrypted templates in the operator's own database; no "
                        "photos; nothing transmitted over the network without a separate "
                        "consent or legal basis",
                        "CN-FR-8",
                    ),
                    item(
                        "Retention",
                        "; ".join(f"{d.id}: {d.retention_days} days" for d in facts.deployments)
                        or "no deployment",
                        "CN-PIPL-19",
                    ),
                ),
                table=Table(
                    columns=("deployment", "people stored"),
                    rows=tuple(
                        (d.id, f"{facts.people_by_deployment.get(d.id, 0):,}")
                        for d in facts.deployments
                    ),
                ),
            ),
            Section(
                title="4. Security measures",
                title_zh="安全保护措施",
                rules=("CN-FR-14",),
                items=technical_measures(
                    scheme=", ".join(schemes),
                    model_version=", ".join(models),
                    ledger_size=facts.ledger_size,
                    custody=facts.key_custody,
                ),
            ),
            Section(
                title="5. Processing rules (notices shown before consent)",
                title_zh="人脸信息处理规则",
                rules=("CN-FR-5",),
                table=Table(
                    columns=("deployment", "notice version", "sha256"),
                    rows=tuple(
                        (k, str(n.version), n.sha256) for k, n in sorted(facts.notices.items())
                    ),
                ),
            ),
            Section(
                title="6. Personal information protection impact assessments",
                title_zh="个人信息保护影响评估报告",
                rules=("CN-FR-9",),
                items=tuple(
                    item(
                        f"PIA of {d.id}",
                        _pia_text(facts.signed.get(d.id, ""), facts.pias.get(d.id)),
                    )
                    for d in facts.deployments
                ),
            ),
            Section(
                title="7. Filing status",
                title_zh="备案状态",
                rules=("CN-FR-15",),
                items=_status_items(state),
            ),
        ),
        footnote=(
            "Drafted by facegate from the live system; complete the marked items and attach "
            "the PIA reports named above before submitting."
        ),
    )


def _pia_text(signed: str, ref: tuple[str, str, str] | None) -> str:
    # An unsigned assessment stays "to be completed"; a signed one is stated, with the report
    # to attach if one was issued.
    if not signed:
        return ""
    if ref is None:
        return f"{signed}; no report issued yet (facegate report pia)"
    event_id, digest, at = ref
    return f"{signed}; report of {at[:10]}, ledger event {event_id}, content sha256 {digest}"


def _status_items(state: FilingState) -> tuple[Item, ...]:
    items = [
        item("Filing required", "yes" if state.required else "no"),
        item("Threshold", f"{state.threshold:,} people"),
        item("Filing", f"{state.filing_id or 'none'} ({state.status})"),
    ]
    if state.pending:
        due = state.due_on.isoformat() if state.due_on else "?"
        note = " (provisional: the holiday calendar has no official data for part of it)"
        items.append(
            item(
                "Owed to the administration",
                f"{state.pending} by {due}, 30 working days after "
                f"{state.pending_since.date().isoformat() if state.pending_since else '?'}"
                + (note if state.due_provisional else ""),
            )
        )
    if state.reference:
        items.append(item("Filing reference", state.reference))
    return tuple(items)
