"""Every rule id of LEGAL-RULES.md: its source, the obligation, and a plain explanation.

This is the one place where article numbers live, so that a number marked "(provisional)"
can be corrected once. Packs cite these ids; ``facegate policy explain`` prints from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleText:
    id: str
    source: str
    obligation: str
    plain: str


def _t(rule_id: str, source: str, obligation: str, plain: str) -> RuleText:
    return RuleText(rule_id, source, obligation, plain)


_MEASURES = "CAC/MPS Measures on Face Recognition Applications (Order No. 19, in force 2025-06-01)"

TEXTS: tuple[RuleText, ...] = (
    # --- China ---
    _t(
        "CN-FR-2",
        f"{_MEASURES} Art 2",
        "Measures cover application use; pure R&D/training use is out of their scope "
        "(PIPL still applies)",
        "The face recognition Measures apply when faces are used to recognise people; a pure "
        "research or training project is outside them, but the privacy law still applies.",
    ),
    _t(
        "CN-FR-4",
        "Measures Art 4; PIPL Art 5-6, 28",
        "specific purpose, sufficient necessity, least intrusive means",
        "Faces may be used only for a specific purpose that really needs them, and only when "
        "a less intrusive way would not do.",
    ),
    _t(
        "CN-FR-5",
        "Measures Art 5; PIPL Art 17, 30",
        "prominent notice before processing: processor identity+contact, purpose, method, "
        "retention, impact, necessity, how to exercise rights; accessible",
        "Before your face is used you must be told, clearly and in words you can follow, who "
        "uses it, why, how, for how long, what it means for you and how to use your rights.",
    ),
    _t(
        "CN-FR-6",
        "Measures Art 6-7; PIPL Art 29, 31",
        "voluntary, explicit, SEPARATE consent; under 14: guardian consent",
        "Your face may be used only if you agreed to exactly this, on its own and of your own "
        "free will; for a child under 14 a parent or guardian must agree.",
    ),
    _t(
        "CN-FR-8",
        "Measures Art 8",
        "store face data on the recognition device; no transmission over the network unless "
        "law allows or separate consent; keep for the minimum time",
        "Face data stays on the device that recognises you and is kept no longer than needed; "
        "it may be sent elsewhere only if the law allows it or you agreed to that separately.",
    ),
    _t(
        "CN-FR-9",
        "Measures Art 9; PIPL Art 55-56",
        "personal information protection impact assessment (PIA) before processing, redone on "
        "change; kept >= 3 years",
        "Before starting, the operator must assess the risks to people, and assess again when "
        "the purpose or the way faces are used changes; the assessment is kept 3 years.",
    ),
    _t(
        "CN-FR-10",
        "Measures Art 10; SPC 2021 Art 10",
        "face recognition must not be the only way to verify where other ways exist; offer a "
        "reasonable alternative (residential compounds: on request)",
        "You must be offered another way (a key card, a PIN, a person at a desk) instead of "
        "your face.",
    ),
    _t(
        "CN-FR-12",
        "Measures Art 12 (provisional); PIPL Art 16",
        "no misleading/coercive pressure; refusing face recognition must not cost the service "
        "unless strictly necessary",
        "Saying no to face recognition must not cost you anything: you still get the service "
        "the other way.",
    ),
    _t(
        "CN-FR-13",
        "Measures Art 13; PIPL Art 26",
        "public places only for public security, with defined area and prominent signs; banned "
        "inside hotel rooms, public bathrooms, changing rooms, toilets",
        "Face recognition is never allowed in hotel rooms, public bathrooms, changing rooms or "
        "toilets; in public places only for public security, with clear signs.",
    ),
    _t(
        "CN-FR-14",
        "Measures Art 14 (provisional)",
        "encryption, security audit, access control, authorisation management, intrusion detection",
        "Face data must be protected: encrypted, access-controlled, audited and watched for "
        "intrusions.",
    ),
    _t(
        "CN-FR-15",
        "Measures Art 15",
        "holding face data of >= 100,000 people: file with the provincial cyberspace "
        "administration within 30 working days; amend on material change; cancel on stop",
        "An operator holding faces of 100,000 people or more must register with the "
        "provincial cyberspace administration within 30 working days.",
    ),
    _t(
        "CN-PIPL-14",
        "PIPL Art 14",
        "changing purpose, method or data type needs fresh consent",
        "If the purpose or the way your face is used changes, you must be asked again.",
    ),
    _t(
        "CN-PIPL-15",
        "PIPL Art 15, 47",
        "withdrawal as easy as consent; delete on purpose met, retention expired, withdrawal, "
        "service end, violation",
        "You can withdraw as easily as you agreed; then, or when the purpose is met or the "
        "service ends, your face data is deleted.",
    ),
    _t(
        "CN-PIPL-19",
        "PIPL Art 19",
        "shortest retention necessary",
        "Face data is kept only as long as the purpose needs, and no longer.",
    ),
    _t(
        "CN-PIPL-38",
        "PIPL Art 38-40; 2024 cross-border provisions",
        "cross-border transfer needs separate consent and a mechanism; sensitive data of >= "
        "10,000 people per year needs a security assessment",
        "Your face data may go abroad only if you agreed to that separately and a legal "
        "mechanism is in place; large transfers need a state security assessment.",
    ),
    _t(
        "CN-PIPL-44",
        "PIPL Art 44-50",
        "rights to know, access/copy, correct, delete, explanation; reasons for refusing a request",
        "You may know, see, copy, correct and delete what is held about you and ask for an "
        "explanation; a refusal must give its reasons.",
    ),
    _t(
        "CN-PIPL-57",
        "PIPL Art 57",
        "breach: remediate at once, notify regulator and individuals",
        "If face data leaks, the operator must act at once and tell the regulator and the "
        "people affected.",
    ),
    _t(
        "CN-PIPL-69",
        "PIPL Art 69; SPC 2021 Art 6",
        "presumed fault: the processor must prove it was not at fault",
        "If something goes wrong, the operator is presumed at fault unless it can prove "
        "otherwise, so every act is kept in a signed, tamper-evident log.",
    ),
    _t(
        "CN-SPC-2",
        "SPC 2021 Art 2",
        "infringements include: no published rules, no separate consent, beyond stated "
        "purpose, security failure, unlawful disclosure, illegal use in business or public "
        "places",
        "Using faces beyond what was announced, without separate consent, insecurely or by "
        "disclosing them unlawfully infringes your rights.",
    ),
    _t(
        "CN-SPC-7",
        "SPC 2021 Art 7, 11-12",
        "joint liability of co-processors; terms granting unlimited/irrevocable rights void",
        "Everyone who processes your face together is jointly liable, and terms that grant "
        "unlimited or irrevocable rights to it are void.",
    ),
    # --- European Union ---
    _t(
        "EU-GDPR-9",
        "GDPR Art 9(1), 9(2)(a)",
        "biometric data for unique identification prohibited unless an exception (explicit "
        "consent)",
        "Using your face to identify you is forbidden unless an exception applies, usually "
        "your explicit consent.",
    ),
    _t(
        "EU-GDPR-17",
        "GDPR Art 17",
        "erasure without undue delay",
        "You can have your data erased without undue delay.",
    ),
    _t(
        "EU-GDPR-30",
        "GDPR Art 30",
        "records of processing activities",
        "The operator keeps a record of what it processes, why, for how long and who it is.",
    ),
    _t(
        "EU-GDPR-33",
        "GDPR Art 33-34",
        "notify the authority within 72 h of becoming aware of a breach; individuals if high risk",
        "A data breach must be reported to the authority within 72 hours, and to you if it "
        "puts you at high risk.",
    ),
    _t(
        "EU-GDPR-35",
        "GDPR Art 35",
        "DPIA for large-scale special-category processing",
        "Before using faces the operator must assess the risks to people's rights (a DPIA).",
    ),
    _t(
        "EU-AI-5",
        "AI Act Art 5(1)(e)(f)(g)(h)",
        "banned: untargeted scraping of facial images; emotion recognition at work/school; "
        "inferring sensitive traits from biometrics; real-time remote biometric identification "
        "in public for law enforcement (narrow exceptions)",
        "Some uses are banned outright: scraping faces from the internet or CCTV, reading "
        "emotions at work or school, guessing sensitive traits, and live police identification "
        "in public.",
    ),
    _t(
        "EU-AI-12",
        "AI Act Art 12(3)",
        "remote biometric identification logs: start/end of each use, reference database, "
        "matched input, who verified",
        "Each use of remote identification is logged: when, against which database, which "
        "input matched and who checked it.",
    ),
    _t(
        "EU-AI-14",
        "AI Act Art 14(5)",
        "no action on a remote-identification match unless separately verified by at least "
        "two competent people",
        "Nobody acts on a remote identification match until two competent people have each "
        "checked it.",
    ),
    _t(
        "EU-AI-19",
        "AI Act Art 19, 26(6)",
        "keep logs >= 6 months",
        "The system's logs are kept for at least six months.",
    ),
    # --- United States ---
    _t(
        "US-IL-15a",
        "BIPA 740 ILCS 14/15(a)",
        "public retention schedule; destroy when purpose met or 3 years after last "
        "interaction, whichever first",
        "A public schedule says how long face data is kept; it is destroyed when the purpose "
        "is met or 3 years after your last interaction, whichever comes first.",
    ),
    _t(
        "US-IL-15b",
        "BIPA 15(b)",
        "written notice (collection, purpose, term) and written release before collection",
        "Before your face is collected you get written notice and sign a written release.",
    ),
    _t(
        "US-IL-15c",
        "BIPA 15(c)-(d)",
        "no selling or profiting; no disclosure without consent",
        "Face data may never be sold or traded for profit, nor disclosed without your consent.",
    ),
    _t(
        "US-TX-503",
        "Texas Bus. & Com. Code 503.001",
        "notice and consent before capture; destroy within 1 year after purpose expires",
        "In Texas you must be told and agree before capture; the data is destroyed within a "
        "year after the purpose ends.",
    ),
    _t(
        "US-WA-19.375",
        "RCW 19.375.020",
        "notice + consent or opt-out before commercial enrollment",
        "In Washington you must be told and agree (or be able to opt out) before a business "
        "enrolls your face.",
    ),
    # --- Standards and industry codes ---
    _t(
        "ISO-24745",
        "ISO/IEC 24745:2022",
        "confidentiality, integrity, irreversibility, unlinkability, renewability/"
        "revocability; discard sample and features after enrollment",
        "Stored face templates cannot be turned back into a face, cannot be linked across "
        "services and can be revoked.",
    ),
    _t(
        "ISO-30136",
        "ISO/IEC 30136:2018",
        "report accuracy, attack success, leakage, unlinkability of template protection",
        "The protection of face templates is measured and reported.",
    ),
    _t(
        "ISO-29184",
        "ISO/IEC 29184:2020",
        "notice wording, timing, accessibility; consent and changes",
        "Notices are clear, shown in time, accessible, and changes are announced.",
    ),
    _t(
        "KANTARA-CR",
        "Kantara Consent Receipt v1.1",
        "receipt fields: version, jurisdiction, consentTimestamp, collectionMethod, "
        "consentReceiptID, piiPrincipalId, piiControllers, policyUrl, services[].purposes[], "
        "sensitive, spiCat",
        "You get a signed receipt of your consent in a standard format.",
    ),
    _t(
        "IND-2019",
        "Biometric user privacy and security initiative (2019, led by Alipay)",
        "minimal sufficient collection and transparent retention; encrypted storage and a risk "
        "team; no abuse beyond defined scope; accountability (insurance, review, "
        "responsibility); fairness (no bias by sex or age)",
        "The industry's own code, stricter than the law: collect the least, keep it briefly "
        "and encrypted, stay within scope, name who is responsible, and treat everyone fairly.",
    ),
)

BY_ID: dict[str, RuleText] = {t.id: t for t in TEXTS}
_BY_FOLDED: dict[str, RuleText] = {t.id.casefold(): t for t in TEXTS}


def text_of(rule_id: str) -> RuleText | None:
    """The catalogue entry of ``rule_id`` (case-insensitive), or None."""
    return _BY_FOLDED.get(rule_id.strip().casefold())
