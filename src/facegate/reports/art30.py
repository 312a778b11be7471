"""The record of processing activities (EU-GDPR-30) for one deployment.

Art. 30(1) asks for: (a) the controller's name and contact details (and any joint
controller, representative and data protection officer); (b) the purposes; (c) the
categories of data subjects and of personal data; (d) the categories of recipients;
(e) transfers to third countries and their safeguards; (f) the time limits for erasure;
(g) a general description of the technical and organisational security measures.
"""

from __future__ import annotations

from facegate.reports.document import Item, Report, Section, Table, item
from facegate.reports.facts import ReportFacts
from facegate.reports.measures import technical_measures
from facegate.reports.pia import legal_basis_text
from facegate.supervision.metrics import PEOPLE_PROXY_NOTE

#: (category, what exactly is held, where)
DATA_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    (
        "biometric data (special category, Art. 9)",
        "protected face templates: keyed, non-invertible transforms of a face embedding, "
        "encrypted; never a photo or a raw embedding",
        "main database, sealed",
    ),
    (
        "identifier",
        "the operator's reference for the person (e.g. employee or flat number), sealed; "
        "looked up by a keyed hash only",
        "main database, sealed",
    ),
    (
        "consent record",
        "notice version and hash, purpose hash, method, time given, expiry, hash of the "
        "person's access code",
        "main database",
    ),
    (
        "evidence log",
        "events with a random pseudonym, hashes and rule ids; no name, reference or face",
        "Merkle ledger",
    ),
)


def build_art30(facts: ReportFacts) -> Report:
    dep = facts.deployment
    c = facts.counts
    recipients = facts.recipients()
    return Report(
        kind="art30",
        title="Record of processing activities (GDPR Art. 30)",
        title_zh="个人信息处理活动记录",
        subject=dep.id,
        generated_at=facts.generated_at,
        rules=("EU-GDPR-30",),
        sections=(
            Section(
                title="(a) Controller",
                title_zh="个人信息处理者",
                items=(
                    item("Name", facts.operator_name),
                    item("Contact details", facts.operator_contact),
                    item("Joint controllers", "none recorded", "CN-SPC-7"),
                    item("Representative in the Union (Art. 27), if any", ""),
                    item("Data protection officer, if any", ""),
                ),
            ),
            Section(
                title="(b) Purposes of the processing",
                title_zh="处理目的",
                items=(
                    item("Processing activity", f"{dep.name} ({dep.id})"),
                    item("Purpose", dep.purpose, "CN-FR-4"),
                    item("Legal basis", legal_basis_text(dep.legal_basis), "EU-GDPR-9"),
                    item("Necessity", dep.necessity, "CN-FR-4"),
                ),
            ),
            Section(
                title="(c) Categories of data subjects and of personal data",
                title_zh="个人及个人信息的种类",
                items=(
                    item(
                        "Data subjects",
                        f"people who gave separate consent to this deployment at a "
                        f"{dep.location_type.replace('_', ' ')}; now {c.subjects} people, "
                        f"{c.people_stored} with a stored template ({PEOPLE_PROXY_NOTE})",
                    ),
                ),
                table=Table(columns=("category", "what is held", "where"), rows=DATA_CATEGORIES),
            ),
            Section(
                title="(d) Recipients",
                title_zh="接收方",
                rules=("CN-SPC-7", "CN-FR-8"),
                items=_recipients(facts, recipients),
            ),
            Section(
                title="(e) Transfers to a third country or international organisation",
                title_zh="跨境传输",
                rules=("CN-PIPL-38",),
                items=_abroad(facts, recipients),
            ),
            Section(
                title="(f) Time limits for erasure",
                title_zh="保存期限",
                rules=("CN-PIPL-19", "CN-PIPL-15", "EU-AI-19"),
                items=(
                    item(
                        "Face templates",
                        f"at most {dep.retention_days} days each; at once on withdrawal or "
                        "erasure (the data key is destroyed)",
                    ),
                    item(
                        "Identifier and consent record",
                        "until the person withdraws or is erased, or the consent expires",
                    ),
                    item(
                        "Evidence log",
                        "kept as evidence (at least 6 months); pseudonymous, and unlinkable "
                        "to anyone once their key is destroyed",
                    ),
                ),
            ),
            Section(
                title="(g) Technical and organisational security measures",
                title_zh="安全保护措施",
                rules=("CN-FR-14",),
                items=technical_measures(
                    scheme=dep.scheme,
                    model_version=dep.model_version,
                    ledger_size=facts.ledger_size,
                    custody=facts.key_custody,
                    encrypted=facts.encrypted_ceremony,
                ),
            ),
            Section(
                title="Impact assessment",
                title_zh="个人信息保护影响评估",
                rules=("EU-GDPR-35", "CN-FR-9"),
                items=(item("Latest PIA / DPIA", _assessment(facts)),),
            ),
        ),
        footnote=(
            f"Generated by facegate from the live system on {facts.generated_at.isoformat()}."
        ),
    )


def _assessment(facts: ReportFacts) -> str:
    a = facts.assessment
    if a is None or a.signed_by is None or a.signed_at is None:
        return ""  # to be completed: nothing signed yet
    signed = (
        f"version {a.version} (sha256 {a.sha256}), signed by the DPO (principal {a.signed_by}) "
        f"on {a.signed_at.date().isoformat()}"
    )
    if facts.last_pia is None:
        return signed
    event_id, digest, at = facts.last_pia
    return f"{signed}; report of {at[:10]}, ledger event {event_id}, content sha256 {digest}"


def _recipients(facts: ReportFacts, events: dict[str, int]) -> tuple[Item, ...]:
    """Each recipient recorded with its agreement (facegate.transfers), and what it got."""
    if facts.recipient_records:
        return tuple(
            item(f"Recipient {i}", r.describe(), "CN-SPC-7")
            for i, r in enumerate(facts.recipient_records, 1)
        )
    return (
        item(
            "Recipients to whom data has been or will be disclosed",
            "; ".join(f"{k}: {n} events" for k, n in events.items())
            if events
            else "none: no recipient is recorded for this deployment",
        ),
    )


def _abroad(facts: ReportFacts, events: dict[str, int]) -> tuple[Item, ...]:
    abroad = [r for r in facts.recipient_records if r.cross_border]
    if abroad:
        return tuple(
            item(
                f"Transfer to {r.country}",
                f"{r.name}: {r.people} people; safeguard: {r.mechanism.replace('_', ' ')}; "
                "each person's separate consent",
                "CN-PIPL-38",
            )
            for r in abroad
        )
    return (
        item(
            "Transfers and safeguards",
            "none: face data never leaves the installation"
            if not facts.facts.egress and not events
            else "no transfer abroad is recorded; face data may leave the installation, each "
            "transfer needing the person's separate consent and, abroad, a transfer mechanism",
            "CN-FR-8",
        ),
    )
