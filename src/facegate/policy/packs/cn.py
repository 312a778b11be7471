"""China: the 2025 CAC/MPS face recognition measures (CN-FR-*); with :mod:`cn_pipl` (PIPL
and the SPC 2021 provisions) they form the ``cn`` pack.

A research deployment (CN-FR-2) is outside the Measures: the rules that rest on the Measures
alone (CN-FR-10, CN-FR-15) stay silent for it; those that rest on the PIPL too still run.
"""

from __future__ import annotations

from datetime import datetime, time

from facegate.policy.dates import add_years
from facegate.policy.facts import (
    CONSENT_BASES,
    CONTROLS,
    IMPLIED_METHODS,
    NON_ANSWERS,
    SCOPES,
)
from facegate.policy.packs import cn_pipl
from facegate.policy.packs._common import (
    PIA_KEPT_YEARS,
    consent_required,
    impact_assessment,
    not_live,
    subject_level,
)
from facegate.policy.places import place
from facegate.policy.rules import (
    DEPLOYMENT_LEVEL,
    PROCESSING,
    SETUP,
    Act,
    Context,
    Finding,
    Rule,
    allow,
    deny,
)
from facegate.policy.workdays import CHINA_TZ, add_working_days, china_date

_MIN_STATEMENT = 10  # characters: a purpose of "x" is no purpose
_MIN_NECESSITY = 30  # a necessity statement explains; a few words do not
GUARDIAN_AGE = 14
FILING_THRESHOLD = 100_000
FILING_WORKING_DAYS = 30
CHINESE = "zh-CN"


def _research(ctx: Context) -> bool:
    return ctx.deployment.scope == "research"


def _scope(ctx: Context) -> Finding:
    scope = ctx.deployment.scope
    if scope not in SCOPES:
        return deny(
            "CN-FR-2",
            f"unknown deployment scope {scope!r}",
            "Declare the scope: 'application' (recognising people) or 'research' (R&D or\n"
            "model training only).",
        )
    if scope == "research":
        return allow(
            "CN-FR-2",
            "research scope: the Measures' application rules are not applied, the PIPL is; "
            "do not use this deployment to recognise people in a service",
        )
    return allow("CN-FR-2")


def _purpose_and_necessity(ctx: Context) -> Finding:
    d = ctx.deployment
    if len(d.purpose.strip()) < _MIN_STATEMENT:
        return deny(
            "CN-FR-4",
            "the deployment has no specific purpose",
            "State what face recognition is for, e.g. 'residents open the gate'.",
        )
    necessity = d.necessity.strip()
    if ctx.act is Act.REGISTER_DEPLOYMENT and not necessity:
        # a draft: the necessity statement is written when the DPO signs the assessment
        return allow("CN-FR-4", "the DPO writes the necessity statement at sign-off")
    if len(necessity) < _MIN_NECESSITY or necessity.casefold() == d.purpose.strip().casefold():
        return deny(
            "CN-FR-4",
            "the necessity statement does not explain why face recognition is needed",
            "Explain, in your own words, why face recognition is necessary for this purpose\n"
            f"and why less intrusive means fall short (at least {_MIN_NECESSITY} characters).",
        )
    return allow("CN-FR-4")


def _notice(ctx: Context) -> Finding | None:
    d = ctx.deployment
    if ctx.act is Act.REGISTER_DEPLOYMENT:
        where = place(d.location_type)
        if where is not None and where.physical and not d.signage:
            return deny(
                "CN-FR-5",
                f"a {where.en} needs prominent signs telling people face recognition is used",
                "Post signs at the recognition area (what, who, why, how to refuse), then\n"
                "register with signage declared.",
            )
        return allow("CN-FR-5")
    if ctx.act is Act.ACTIVATE_DEPLOYMENT:
        return _complete_notice(ctx)
    refused = not_live("CN-FR-5", ctx)
    if refused is not None:
        return refused
    n = ctx.need_notice()
    if ctx.act is Act.GIVE_CONSENT and ctx.need_consent().notice_version != n.version:
        return deny(
            "CN-FR-5",
            f"the person was shown notice version {ctx.need_consent().notice_version}, but "
            f"the current one is {n.version}",
            "Show the person the current notice, then record their consent.",
        )
    if ctx.act is Act.SCAN and d.capture == "in_view" and not d.signage:
        return deny(
            "CN-FR-5",
            "a search of everyone in view needs prominent signs: people who did not enrol\n"
            "were never shown the notice",
            "Post signs at the recognition area, or capture only people who ask to use it.",
        )
    return allow("CN-FR-5")


def _complete_notice(ctx: Context) -> Finding:
    n = ctx.need_notice()
    if n.missing:
        return deny(
            "CN-FR-5",
            "the notice lacks " + ", ".join(n.missing),
            "Set the operator's identity, contact and DPO ('facegate operator set') and\n"
            "publish a notice that states every required field.",
        )
    if CHINESE not in n.languages:
        return deny(
            "CN-FR-5",
            "the notice has no Chinese version",
            "Publish the notice in Chinese (and any other language people here read).",
        )
    if not n.plain:
        return deny(
            "CN-FR-5",
            "the notice has no accessible plain-language version",
            "Add a short plain version that people can take in at a glance or hear read.",
        )
    return allow("CN-FR-5", "show the notice prominently before any face is captured")


def _consent(ctx: Context) -> Finding | None:
    d = ctx.deployment
    if ctx.act in SETUP:
        if d.legal_basis not in CONSENT_BASES | {"law"}:
            return deny(
                "CN-FR-6",
                f"{d.legal_basis!r} is not a legal basis for processing face data in China",
                "Face data is sensitive: process it on separate consent, or cite the law that\n"
                "requires the processing (legal basis 'law').",
            )
        return allow("CN-FR-6")
    if ctx.act is Act.GIVE_CONSENT:
        c = ctx.need_consent()
        if c.method in IMPLIED_METHODS:
            return deny(
                "CN-FR-6",
                f"a consent captured as {c.method!r} is not voluntary and explicit",
                "Ask the person to agree by an act of their own (signing, pressing 'I agree').",
            )
        if not c.separate:
            return deny(
                "CN-FR-6",
                "the consent to face recognition is bundled with other terms",
                "Ask for consent to face recognition on its own, apart from any other terms.",
            )
        return _guardian(ctx) or allow("CN-FR-6")
    if d.legal_basis == "law":
        return allow("CN-FR-6", "cite the law that requires this processing in the record")
    refused = consent_required("CN-FR-6")(ctx)
    if refused is not None and not refused.allowed:
        return refused
    return _guardian(ctx) or allow("CN-FR-6")


def _guardian(ctx: Context) -> Finding | None:
    c = ctx.need_consent()
    if c.age_basis == "adult_attested":
        return None
    if c.subject_age is None:
        return deny(
            "CN-FR-6",
            "the person's age is not recorded, so a child's consent cannot be told apart",
            "Record the person's age (--age) or that they attested being an adult\n"
            "(--adult-attested).",
        )
    if c.subject_age < GUARDIAN_AGE and not (c.by_guardian and c.guardian_identified):
        return deny(
            "CN-FR-6",
            f"the person is under {GUARDIAN_AGE}; a parent or guardian must consent",
            "Record the consent of the child's parent or guardian: their name (--guardian)\n"
            "and the form they signed (--guardian-form).",
        )
    return None


def _local_storage_and_egress(ctx: Context) -> Finding | None:
    d = ctx.deployment
    if ctx.act in SETUP:
        notes = ["keep face data on this installation; every template carries a TTL"]
        if d.egress:
            notes.append("before any transfer, collect each person's separate egress consent")
        return allow("CN-FR-8", *notes)
    t = ctx.need_transfer()
    if not d.egress:
        return deny(
            "CN-FR-8",
            "this deployment keeps face data on the device; it may not be transmitted",
            "Change the deployment to allow egress (a new PIA signed by the DPO) if a\n"
            "transfer is lawful, then collect separate egress consents.",
        )
    c = ctx.consent
    if d.legal_basis != "law" and (c is None or not c.egress):
        return deny(
            "CN-FR-8",
            "this person has not separately consented to their face data leaving the device",
            "Ask for a separate consent to the transfer (naming the recipient) first.",
        )
    return allow("CN-FR-8", f"record the transfer to {t.recipient} on the ledger")


def _alternative(ctx: Context) -> Finding | None:
    if _research(ctx):
        return None
    d = ctx.deployment
    answer = " ".join(d.alternative.split()).strip(" .").casefold()
    if len(answer) < 3 or answer in NON_ANSWERS:
        return deny(
            "CN-FR-10",
            f"{d.alternative!r} is not a non-face alternative",
            "Offer another way in (key card, PIN, staffed desk) and name it with --alternative.",
        )
    if not d.alternative_enabled:
        return deny(
            "CN-FR-10",
            "the non-face alternative is not enabled",
            "Enable the alternative before the deployment goes live.",
        )
    return allow("CN-FR-10")


def _refusal_costs_nothing(ctx: Context) -> Finding:
    d = ctx.deployment
    if ctx.act is Act.USE_ALTERNATIVE and not d.alternative_enabled:
        return deny(
            "CN-FR-12",
            "a person who refused face recognition cannot use the alternative",
            "Re-enable the non-face alternative: refusing must never block the service.",
        )
    if d.declarations.alternative_penalty:
        return deny(
            "CN-FR-12",
            "the alternative costs more or gives a lesser service than face recognition",
            "Offer the alternative on the same terms; refusing must cost nothing.",
        )
    if ctx.act is Act.USE_ALTERNATIVE:
        return allow("CN-FR-12", "record the refusal; never make it cost the person anything")
    return allow("CN-FR-12")


def _location(ctx: Context) -> Finding:
    d = ctx.deployment
    where = place(d.location_type)
    if where is None:
        return deny(
            "CN-FR-13",
            f"{d.location_type!r} is not a place type facegate can classify; it might be a\n"
            "private space where face recognition is banned",
            "Choose the place type that describes the site (facegate policy places).",
        )
    if where.banned:
        return deny(
            "CN-FR-13",
            f"face recognition is banned in a {where.en}",
            "Hotel rooms, public bathrooms, changing rooms, toilets and other private spaces\n"
            "may not have it at all.",
        )
    if where.public:
        if not d.signage:
            return deny(
                "CN-FR-13",
                f"a {where.en} is a public place: it needs prominent signs marking the area",
                "Put up signs, then register with signage declared.",
            )
        basis = d.public_security
        missing = ["authority", "instrument", "area"] if basis is None else basis.missing()
        if missing:
            return deny(
                "CN-FR-13",
                f"in a {where.en} face recognition may serve public security only; the basis\n"
                "lacks its " + ", ".join(missing),
                "Give the public-security authority, the legal instrument that empowers it and\n"
                "the defined recognition area (--security-authority/-instrument/-area).",
            )
        return allow("CN-FR-13", "keep prominent signs marking the recognition area")
    return allow("CN-FR-13")


def _security_controls(ctx: Context) -> Finding | None:
    if ctx.system is None:
        return None  # processing before any self-check: nothing measured yet
    controls = ctx.system.controls
    absent = [c for c in CONTROLS if controls.get(c) is False]
    if absent:
        return deny(
            "CN-FR-14",
            "security controls missing: " + ", ".join(absent).replace("_", " "),
            "Put every missing control in place, then run 'facegate selfcheck'.",
        )
    if ctx.act is not Act.START_SERVICE:
        return allow("CN-FR-14")
    unchecked = [c for c in CONTROLS if controls.get(c) is None]
    return allow(
        "CN-FR-14",
        *(
            f"{c.replace('_', ' ')}: not measurable here; the operator must attest it"
            for c in unchecked
        ),
    )


def _keep_pia(ctx: Context) -> Finding | None:
    r = ctx.need_record()
    if r.kind != "pia":
        return None
    keep = add_years(r.created_at, PIA_KEPT_YEARS)
    if ctx.now < keep:
        return deny(
            "CN-FR-9",
            f"an impact assessment must be kept {PIA_KEPT_YEARS} years (until {keep.date()})",
            "Keep the PIA; delete it only after that date.",
        )
    return allow("CN-FR-9")


def _filing(ctx: Context) -> Finding | None:
    s = ctx.scale
    if s is None or _research(ctx):
        return None
    if s.people_stored < FILING_THRESHOLD and s.clock_started_at is None:
        return allow("CN-FR-15")
    if s.filed_at is not None:
        return allow(
            "CN-FR-15",
            "amend the filing on any material change; cancel it when processing stops",
        )
    deadline = add_working_days(china_date(s.clock_started_at or ctx.now), FILING_WORKING_DAYS)
    # the deadline runs to the end of its day in China
    due = datetime.combine(deadline.due, time.max, tzinfo=CHINA_TZ)
    if ctx.now > due:
        return deny(
            "CN-FR-15",
            f"face data of {s.people_stored} people is held and the filing was due {deadline.due}",
            "File with the provincial cyberspace administration, then record it:\n"
            "'facegate filing submitted --reference NUMBER'.",
        )
    return allow(
        "CN-FR-15",
        "file with the provincial cyberspace administration (100,000 people reached)"
        + (" (deadline provisional: no official holiday data yet)" if deadline.provisional else ""),
        due=due,
    )


def _processing_gate(ctx: Context) -> Finding | None:
    """CN-FR-6 and the other consent rules judge people; this runs them only where a person
    is judged (enroll, verify, the person a search matched)."""
    return _consent(ctx) if subject_level(ctx) or ctx.act in SETUP | {Act.GIVE_CONSENT} else None


_NOTICE_ACTS = SETUP | {Act.GIVE_CONSENT} | DEPLOYMENT_LEVEL

MEASURES: tuple[Rule, ...] = (
    Rule("CN-FR-2", "the deployment's scope is application or research", SETUP, _scope),
    Rule("CN-FR-4", "specific purpose and sufficient necessity", SETUP, _purpose_and_necessity),
    Rule(
        "CN-FR-5",
        "a complete Chinese notice, shown and posted before capture",
        _NOTICE_ACTS,
        _notice,
    ),
    Rule(
        "CN-FR-6",
        "separate, explicit consent (a guardian's under 14)",
        SETUP | {Act.GIVE_CONSENT} | PROCESSING,
        _processing_gate,
    ),
    Rule(
        "CN-FR-8",
        "face data stays on the device unless separately consented",
        SETUP | {Act.SHARE, Act.EXPORT},
        _local_storage_and_egress,
    ),
    Rule(
        "CN-FR-9",
        "a PIA signed by the DPO before go-live, redone when purpose or method change",
        frozenset({Act.ACTIVATE_DEPLOYMENT}) | DEPLOYMENT_LEVEL,
        impact_assessment("CN-FR-9", "PIA"),
    ),
    Rule("CN-FR-9", "a PIA is kept at least 3 years", frozenset({Act.DELETE_RECORD}), _keep_pia),
    Rule("CN-FR-10", "an enabled non-face alternative is offered", SETUP, _alternative),
    Rule(
        "CN-FR-12",
        "refusing face recognition costs nothing",
        SETUP | {Act.USE_ALTERNATIVE},
        _refusal_costs_nothing,
    ),
    Rule("CN-FR-13", "banned and public locations", SETUP, _location),
    Rule(
        "CN-FR-14",
        "encryption, audit, access control, authorisation, intrusion detection",
        frozenset({Act.START_SERVICE}) | DEPLOYMENT_LEVEL,
        _security_controls,
    ),
    Rule(
        "CN-FR-15",
        "file at 100,000 people within 30 working days",
        frozenset({Act.ENROLL}),
        _filing,
    ),
)

RULES: tuple[Rule, ...] = MEASURES + cn_pipl.RULES
