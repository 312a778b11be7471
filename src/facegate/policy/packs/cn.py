"""China: the 2025 CAC/MPS face recognition measures (CN-FR-*); with :mod:`cn_pipl` (PIPL
and the SPC 2021 provisions) they form the ``cn`` pack.

A research deployment (CN-FR-2) is outside the Measures: the rules that rest on the Measures
alone (CN-FR-10, CN-FR-15) stay silent for it; those that rest on the PIPL too still run.
"""

from __future__ import annotations

from datetime import datetime, time

from facegate.policy.dates import add_years
from facegate.policy.facts import (
    BANNED_LOCATIONS,
    CONSENT_BASES,
    CONTROLS,
    IMPLIED_METHODS,
    PUBLIC_LOCATIONS,
    SCOPES,
)
from facegate.policy.packs import cn_pipl
from facegate.policy.packs._common import (
    PIA_KEPT_YEARS,
    consent_required,
    impact_assessment,
    known,
)
from facegate.policy.rules import (
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
    if len(d.necessity.strip()) < _MIN_STATEMENT:
        return deny(
            "CN-FR-4",
            "the deployment gives no necessity justification",
            "Explain why face recognition is necessary and why less intrusive means fall short.",
        )
    return allow("CN-FR-4")


def _notice(ctx: Context) -> Finding | None:
    n = ctx.notice
    if ctx.act is Act.GIVE_CONSENT:
        c = ctx.consent
        if n is None or c is None:
            raise ValueError("a give_consent decision needs Context.notice and Context.consent")
        if c.notice_version != n.version:
            return deny(
                "CN-FR-5",
                f"the person was shown notice version {c.notice_version}, but the current one "
                f"is {n.version}",
                "Show the person the current notice, then record their consent.",
            )
        return allow("CN-FR-5")
    if n is None:
        if ctx.act is Act.ACTIVATE_DEPLOYMENT:
            raise ValueError("an activate_deployment decision needs Context.notice")
        return None  # processing: the caller did not supply the notice facts
    if n.missing:
        return deny(
            "CN-FR-5",
            "the notice lacks " + ", ".join(n.missing),
            "Publish a notice that states every required field before processing.",
        )
    if ctx.act is Act.ACTIVATE_DEPLOYMENT:
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
    if ctx.consent is not None and ctx.consent.notice_version < 1:
        return deny(
            "CN-FR-5",
            "no record of which notice this person was shown",
            "Record the notice version shown when recording consent.",
        )
    return allow("CN-FR-5")


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
    c = ctx.consent
    if ctx.act is Act.GIVE_CONSENT:
        if c is None:
            raise ValueError("a give_consent decision needs Context.consent")
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
    elif d.legal_basis == "law" and known(ctx):
        return allow("CN-FR-6", "cite the law that requires this processing in the record")
    else:
        refused = consent_required("CN-FR-6")(ctx)
        if refused is not None and not refused.allowed:
            return refused
        assert c is not None  # consent_required refuses a missing consent
    if c.subject_age is not None and c.subject_age < GUARDIAN_AGE and not c.by_guardian:
        return deny(
            "CN-FR-6",
            f"the person is under {GUARDIAN_AGE}; a parent or guardian must consent",
            "Record the consent of the child's parent or guardian (by_guardian).",
        )
    return allow("CN-FR-6")


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
            "Register the deployment with egress allowed (and a new PIA) if a transfer is\n"
            "lawful, then collect separate egress consents.",
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
    if len(d.alternative.strip()) < 3:
        return deny(
            "CN-FR-10",
            "no non-face alternative is offered",
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
    if d.location_type in BANNED_LOCATIONS:
        return deny(
            "CN-FR-13",
            f"face recognition is banned in a {d.location_type.replace('_', ' ')}",
            "Hotel rooms, public bathrooms, changing rooms and toilets may not have it at all.",
        )
    if d.location_type in PUBLIC_LOCATIONS:
        if not d.signage:
            return deny(
                "CN-FR-13",
                "a public place needs prominent signs marking the recognition area",
                "Put up signs, then register with signage declared.",
            )
        if "public security" not in d.purpose.lower() and "公共安全" not in d.purpose:
            return deny(
                "CN-FR-13",
                "in a public place face recognition may serve public security only",
                "State a public-security purpose or choose a non-public location.",
            )
        return allow("CN-FR-13", "keep prominent signs marking the recognition area")
    return allow("CN-FR-13")


def _security_controls(ctx: Context) -> Finding:
    controls = ctx.need_system().controls
    absent = [c for c in CONTROLS if controls.get(c) is False]
    if absent:
        return deny(
            "CN-FR-14",
            "security controls missing: " + ", ".join(absent).replace("_", " "),
            "Put every missing control in place before serving requests.",
        )
    unchecked = [c for c in CONTROLS if controls.get(c) is None]
    return allow(
        "CN-FR-14",
        *(
            f"{c.replace('_', ' ')}: not checkable here; the operator must attest it"
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
    if s.people_stored < FILING_THRESHOLD:
        return allow("CN-FR-15")
    if s.filed_at is not None:
        return allow(
            "CN-FR-15",
            "amend the filing on any material change; cancel it when processing stops",
        )
    deadline = add_working_days(china_date(s.threshold_reached_at or ctx.now), FILING_WORKING_DAYS)
    # the deadline runs to the end of its day in China
    due = datetime.combine(deadline.due, time.max, tzinfo=CHINA_TZ)
    if ctx.now > due:
        return deny(
            "CN-FR-15",
            f"face data of {s.people_stored} people is held and the filing was due {deadline.due}",
            "File with the provincial cyberspace administration, then record the filing date.",
        )
    return allow(
        "CN-FR-15",
        "file with the provincial cyberspace administration (100,000 people reached)"
        + (" (deadline provisional: no official holiday data yet)" if deadline.provisional else ""),
        due=due,
    )


_ALL_SETUP = SETUP | {Act.GIVE_CONSENT} | PROCESSING

MEASURES: tuple[Rule, ...] = (
    Rule("CN-FR-2", "the deployment's scope is application or research", SETUP, _scope),
    Rule("CN-FR-4", "specific purpose and sufficient necessity", SETUP, _purpose_and_necessity),
    Rule(
        "CN-FR-5",
        "a complete, accessible Chinese notice, shown before consent",
        frozenset({Act.ACTIVATE_DEPLOYMENT, Act.GIVE_CONSENT}) | PROCESSING,
        _notice,
    ),
    Rule("CN-FR-6", "separate, explicit consent (a guardian's under 14)", _ALL_SETUP, _consent),
    Rule(
        "CN-FR-8",
        "face data stays on the device unless separately consented",
        SETUP | {Act.SHARE, Act.EXPORT},
        _local_storage_and_egress,
    ),
    Rule(
        "CN-FR-9",
        "a PIA before go-live, redone when purpose or method change",
        frozenset({Act.ACTIVATE_DEPLOYMENT}) | PROCESSING,
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
        frozenset({Act.START_SERVICE}),
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
