"""The personal information protection impact assessment of one deployment.

One document serves both laws: China's PIA (CN-FR-9: purpose and method lawful, legitimate
and necessary; impact on people's rights; risks of leakage, tampering, loss or misuse;
whether the protective measures are lawful, effective and proportionate; kept >= 3 years)
and the GDPR's DPIA (EU-GDPR-35: a systematic description, necessity and proportionality,
risks to rights and freedoms, the measures that address them). It is drafted from the live
system; what software cannot know is marked for the operator to complete before signing.
"""

from __future__ import annotations

from datetime import date, datetime

from facegate.reports.document import Report, Section, Table, item
from facegate.reports.facts import ReportFacts
from facegate.reports.measures import technical_measures
from facegate.supervision.metrics import PEOPLE_PROXY_NOTE

#: CN-FR-9: a PIA is kept at least this many years
KEEP_YEARS = 3

RISKS: tuple[tuple[str, str, str], ...] = (
    (
        "The database is copied or leaked",
        "only protected templates, sealed under per-subject keys held in a separate key "
        "store; the master key is never in the database",
        "low",
    ),
    (
        "Templates are linked across deployments or operators",
        "the template transform is keyed per deployment; templates of two deployments do "
        "not match each other",
        "low",
    ),
    (
        "A photo or raw embedding is kept and later misused",
        "neither is ever written; the embedding lives only inside one request",
        "low",
    ),
    (
        "Face data is shared, sold or sent abroad unlawfully",
        "no transfer without a separate consent or legal basis; every recipient is recorded "
        "on the ledger",
        "depends on the operator's conduct",
    ),
    (
        "Records are altered to hide misuse",
        "Merkle ledger with signed checkpoints; any rewrite is detected by verification",
        "low",
    ),
    (
        "Use beyond the stated purpose (function creep)",
        "the purpose's hash is bound into each consent; a changed purpose voids it",
        "low",
    ),
    (
        "A wrong match admits or flags the wrong person",
        "calibrated threshold; a non-match never denies service, the alternative stays open",
        "medium: review the threshold against the site's population",
    ),
)


def build_pia(facts: ReportFacts) -> Report:
    dep = facts.deployment
    c = facts.counts
    return Report(
        kind="pia",
        title="Personal information protection impact assessment (PIA / DPIA)",
        title_zh="个人信息保护影响评估报告",
        subject=dep.id,
        generated_at=facts.generated_at,
        rules=("CN-FR-9", "EU-GDPR-35"),
        sections=(
            Section(
                title="1. The processing",
                title_zh="处理活动概述",
                rules=("CN-FR-9", "EU-GDPR-35"),
                items=(
                    item("Personal information processor (controller)", facts.operator_name),
                    item("Contact", facts.operator_contact, "CN-FR-5"),
                    item("Deployment", f"{dep.name} ({dep.id})"),
                    item("Purpose", dep.purpose, "CN-FR-4"),
                    item(
                        "Method",
                        "A camera image is decoded in memory, the face detected, aligned and "
                        "turned into an embedding, which is protected at once; templates are "
                        "compared within this deployment only. Capabilities: "
                        + ", ".join(sorted(facts.facts.capabilities))
                        + f"; scope: {facts.facts.scope}; face data "
                        + ("may leave" if facts.facts.egress else "never leaves")
                        + " the installation.",
                        "CN-FR-2",
                        "CN-FR-8",
                    ),
                    item("Face model and match threshold", f"{dep.model_version}, {dep.threshold}"),
                    item("Location type", dep.location_type.replace("_", " "), "CN-FR-13"),
                    item("Prominent signs posted", "yes" if dep.signage else "no", "CN-FR-13"),
                    item("Legal basis", legal_basis_text(dep.legal_basis), "CN-FR-6", "EU-GDPR-9"),
                    item("Policy packs", ", ".join(facts.packs)),
                    item("Status", f"{dep.status} since {_day(dep.created_at)}"),
                    item(
                        "Scale now",
                        f"people who consented: {c.subjects}; with a stored template: "
                        f"{c.people_stored}; templates: {c.templates}; consents: "
                        f"{c.consents} ({PEOPLE_PROXY_NOTE})",
                    ),
                ),
            ),
            Section(
                title="2. Lawfulness, legitimacy and necessity",
                title_zh="处理目的、方式的合法性、正当性、必要性",
                rules=("CN-FR-4", "CN-FR-10", "CN-FR-13", "CN-PIPL-19"),
                items=(
                    item("Why face recognition is necessary", dep.necessity, "CN-FR-4"),
                    item("Non-face alternative offered", dep.alternative, "CN-FR-10"),
                    item(
                        "Retention",
                        f"each template at most {dep.retention_days} days, or until consent "
                        "is withdrawn",
                        "CN-PIPL-19",
                    ),
                    item("Policy check today", _verdict(facts)),
                ),
                table=_policy_table(facts),
            ),
            _assessment_section(facts),
            Section(
                title="4. Impact on people's rights and interests",
                title_zh="对个人权益的影响",
                rules=("CN-PIPL-44", "CN-FR-12", "CN-PIPL-15"),
                items=(
                    item(
                        "Nature of the data",
                        "Face information is sensitive personal information: it cannot be "
                        "changed if leaked and can identify a person without their knowledge.",
                    ),
                    item("What people are told (notice)", _notice(facts), "CN-FR-5"),
                    item("Rights offered", facts.notice_body.get("rights", ""), "CN-PIPL-44"),
                    item(
                        "Refusing face recognition",
                        f"costs nothing: the alternative ({dep.alternative}) stays open",
                        "CN-FR-12",
                    ),
                    item(
                        "Rights exercised so far",
                        f"{c.events.get('consent.withdrawn', 0)} withdrawals, "
                        f"{c.events.get('erase', 0)} erasures, "
                        f"{c.events.get('policy.denied', 0)} refusals recorded",
                        "CN-PIPL-15",
                    ),
                ),
            ),
            Section(
                title="5. Risks of leakage, tampering, loss and misuse",
                title_zh="人脸信息泄露、篡改、丢失、毁损或被非法获取、出售、使用的风险",
                rules=("CN-FR-9", "EU-GDPR-35"),
                table=Table(columns=("risk", "how it is met", "residual risk"), rows=RISKS),
            ),
            Section(
                title="6. Protective measures",
                title_zh="保护措施是否合法、有效并与风险程度相适应",
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
                title="7. Record of processing so far",
                title_zh="处理活动记录",
                rules=("CN-PIPL-69",),
                intro=(
                    f"Events about this deployment in the ledger ({facts.ledger_origin}, "
                    f"{facts.ledger_size} entries in all), verifiable offline with key "
                    f"{facts.ledger_key}."
                ),
                table=Table(
                    columns=("event", "count"),
                    rows=tuple((k, str(n)) for k, n in sorted(c.events.items())),
                ),
                items=(item("Latest signed checkpoint", facts.checkpoint),),
            ),
            Section(
                title="8. Conclusion and sign-off",
                title_zh="评估结论",
                rules=("CN-FR-9",),
                items=(
                    item("Result", _verdict(facts)),
                    item(
                        "Assessment on record",
                        "none"
                        if facts.assessment is None
                        else f"version {facts.assessment.version}, "
                        + ("current" if facts.assessment.current else "OUT OF DATE"),
                    ),
                    item("Previous assessment", _previous(facts)),
                    item(
                        "Redo",
                        "before any change of purpose, method, location, scheme or model",
                        "CN-FR-9",
                    ),
                    item(
                        "Keep this report until at least",
                        _day(_years_later(facts.generated_at, KEEP_YEARS)),
                        "CN-FR-9",
                    ),
                    item("Assessor, date and signature", ""),
                ),
            ),
        ),
        footnote=(
            f"Drafted by facegate from the live system on {facts.generated_at.isoformat()}; "
            "items marked to be completed must be filled in and the report signed before "
            "the deployment goes live."
        ),
    )


def legal_basis_text(basis: str) -> str:
    if basis == "consent":
        return (
            "separate, explicit consent of each person to this deployment, bound to the "
            "notice they were shown (PIPL Art 29; GDPR Art 9(2)(a))"
        )
    return basis


def _verdict(facts: ReportFacts) -> str:
    if facts.policy.allowed:
        checked = len({r.rule_id for r in facts.policy.results})
        return f"no rule refuses registering or running this deployment ({checked} rules checked)"
    return "REFUSED: " + "; ".join(f"{r}: {why}" for r, why in facts.policy.denials.items())


def _policy_table(facts: ReportFacts) -> Table:
    """One row per rule: its result at registration and at go-live ("-": not consulted)."""
    acts = ("register_deployment", "activate_deployment")
    rows: dict[str, dict[str, str]] = {}
    summaries: dict[str, str] = {}
    for r in facts.policy.results:
        summaries[r.rule_id] = r.summary
        rows.setdefault(r.rule_id, {})[r.act] = f"refused: {r.refusal}" if r.refusal else "passes"
    return Table(
        columns=("rule", "what it checks", "registration", "go-live"),
        rows=tuple(
            (rid, summaries[rid], *(results.get(act, "-") for act in acts))
            for rid, results in rows.items()
        ),
    )


#: the questions PIPL Art 56 asks, as the assessment record names them
ASSESSMENT_PARTS = (
    ("lawfulness", "Purpose and method lawful and legitimate"),
    ("necessity", "Necessity"),
    ("impact", "Impact on people's rights and interests"),
    ("risks", "Security risks"),
    ("safeguards", "Safeguards, and whether they are proportionate"),
    ("conclusion", "Conclusion"),
)


def _assessment_section(facts: ReportFacts) -> Section:
    a = facts.assessment
    title, title_zh = "3. The assessment on record", "已记录的评估"
    if a is None:
        return Section(
            title=title,
            title_zh=title_zh,
            rules=("CN-FR-9",),
            items=(item("Assessment", ""),),
        )
    # empty while unsigned: the report then shows the signature is still owed
    who = (
        f"{a.confirmed_by} (principal {a.signed_by}, role dpo) on {_day(a.signed_at)}"
        if a.signed_by and a.signed_at
        else ""
    )
    return Section(
        title=title,
        title_zh=title_zh,
        rules=("CN-FR-9", "EU-GDPR-35"),
        items=(
            item(
                "Record",
                f"version {a.version}, {_day(a.completed_at)}, sha256 {a.sha256 or '(unsigned)'}",
            ),
            item("Signed by the DPO", who, "CN-FR-9"),
            item(
                "Still valid",
                "yes: it assessed the current purpose and method"
                if a.current
                else "NO: the purpose or method changed since; assess again before processing",
                "CN-FR-9",
            ),
            item("Keep until", _day(a.keep_until), "CN-FR-9"),
            *(item(label, a.body.get(key, "")) for key, label in ASSESSMENT_PARTS),
        ),
    )


def _notice(facts: ReportFacts) -> str:
    return f"version {facts.notice_version} (sha256 {facts.notice_sha256}), stating: " + ", ".join(
        sorted(facts.notice_body)
    )


def _previous(facts: ReportFacts) -> str:
    if facts.last_pia is None:
        return "none recorded in the ledger"
    event_id, digest, at = facts.last_pia
    return f"{at[:10]}, ledger event {event_id}, content sha256 {digest}"


def _day(moment: datetime | date) -> str:
    return moment.strftime("%Y-%m-%d")


def _years_later(moment: datetime, years: int) -> date:
    day = moment.date()
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
