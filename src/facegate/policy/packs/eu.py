"""European Union: the GDPR (EU-GDPR-*) and the AI Act (EU-AI-*)."""

from __future__ import annotations

from datetime import timedelta

from facegate.policy.dates import add_months
from facegate.policy.facts import (
    ERASURE_EXEMPTIONS,
    IMPLIED_METHODS,
    PUBLIC_LOCATIONS,
    REMOTE_IDENTIFICATION,
    WORK_OR_SCHOOL,
)
from facegate.policy.packs._common import consent_required, impact_assessment, known
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

#: GDPR Art 9(2) exceptions facegate supports (as legal-basis names)
ARTICLE_9_BASES = frozenset(
    {"consent", "employment_law", "vital_interests", "substantial_public_interest", "law"}
)
BREACH_HOURS = 72
ERASURE_DAYS = 30  # "without undue delay", at the latest one month (GDPR Art 12(3))
LOG_MONTHS = 6
REVIEWERS = 2


def _legal_basis(ctx: Context) -> Finding | None:
    d = ctx.deployment
    if ctx.act in SETUP:
        if d.legal_basis not in ARTICLE_9_BASES:
            return deny(
                "EU-GDPR-9",
                f"{d.legal_basis!r} is no exception to the ban on biometric identification",
                "Use explicit consent (legal basis 'consent') or another Art 9(2) exception:\n"
                "employment_law, vital_interests, substantial_public_interest.",
            )
        return allow("EU-GDPR-9")
    if ctx.act is Act.GIVE_CONSENT:
        c = ctx.consent
        if c is None:
            raise ValueError("a give_consent decision needs Context.consent")
        if c.method in IMPLIED_METHODS or not c.separate:
            return deny(
                "EU-GDPR-9",
                f"a consent captured as {c.method!r} is not explicit consent",
                "Ask for an express statement of consent to biometric processing, on its own.",
            )
        return allow("EU-GDPR-9")
    if d.legal_basis != "consent" and known(ctx):
        return allow("EU-GDPR-9", f"document the Art 9(2) basis '{d.legal_basis}'")
    return consent_required("EU-GDPR-9")(ctx)


def _erasure(ctx: Context) -> Finding | None:
    if ctx.act is Act.WITHDRAW:
        return allow(
            "EU-GDPR-17",
            "erase without undue delay and give a receipt",
            due=ctx.now + timedelta(days=ERASURE_DAYS),
        )
    r = ctx.need_request()
    if r.right != "delete":
        return None
    if r.refused and r.exemption not in ERASURE_EXEMPTIONS:
        return deny(
            "EU-GDPR-17",
            "an erasure request may be refused only on an Art 17(3) ground",
            "Erase the data, or name the ground: " + ", ".join(sorted(ERASURE_EXEMPTIONS)) + ".",
        )
    return allow(
        "EU-GDPR-17",
        "complete the erasure without undue delay and receipt it",
        due=r.received_at + timedelta(days=ERASURE_DAYS),
    )


def _records(ctx: Context) -> Finding | None:
    if not known(ctx):
        return None
    d = ctx.deployment
    missing = [
        name
        for name, value in (
            ("the controller's name", d.controller),
            ("the controller's contact details", d.controller_contact),
            ("the purpose", d.purpose),
            ("the retention period", d.retention_days),
        )
        if not value
    ]
    if missing:
        return deny(
            "EU-GDPR-30",
            "the record of processing lacks " + ", ".join(missing),
            "Give the operator a contact (name, address or e-mail) and complete the record.",
        )
    return allow("EU-GDPR-30", "keep the record of processing; export it on request")


def _breach(ctx: Context) -> Finding:
    i = ctx.need_incident()
    due = i.detected_at + timedelta(hours=BREACH_HOURS)
    if ctx.act is Act.RECORD_INCIDENT:
        notes = ["notify the supervisory authority within 72 hours"]
        if i.high_risk:
            notes.append("notify the people affected without undue delay")
        return allow("EU-GDPR-33", *notes, due=due)
    if i.regulator_notified_at is None:
        return deny(
            "EU-GDPR-33",
            "the supervisory authority has not been notified of the breach",
            "Notify the authority before closing the incident.",
        )
    if i.regulator_notified_at > due and not i.delay_reason.strip():
        return deny(
            "EU-GDPR-33",
            "the authority was notified after 72 hours without reasons for the delay",
            "Record the reasons for the delay with the notification.",
        )
    if i.high_risk and not i.individuals_notified:
        return deny(
            "EU-GDPR-33",
            "a high-risk breach must be communicated to the people affected",
            "Tell them in clear language what happened and what they can do.",
        )
    return allow("EU-GDPR-33")


def _prohibited(ctx: Context) -> Finding:
    d = ctx.deployment
    caps = d.capabilities
    if "untargeted_scraping" in caps:
        return deny(
            "EU-AI-5",
            "untargeted scraping of facial images to build a database is prohibited",
            "Remove the capability; enroll only people who consented.",
        )
    if "emotion_recognition" in caps and d.location_type in WORK_OR_SCHOOL:
        return deny(
            "EU-AI-5",
            "emotion recognition at work or in education is prohibited",
            "Remove the emotion-recognition capability from this deployment.",
        )
    if "sensitive_trait_inference" in caps:
        return deny(
            "EU-AI-5",
            "inferring race, opinions, beliefs, sex life or orientation from faces is prohibited",
            "Remove the capability.",
        )
    if (
        "realtime_remote_identification" in caps
        and d.location_type in PUBLIC_LOCATIONS
        and d.declarations.law_enforcement
    ):
        return deny(
            "EU-AI-5",
            "real-time remote biometric identification in public for law enforcement is prohibited",
            "The narrow exceptions need prior judicial authorisation, which facegate does not\n"
            "support; do not deploy this.",
        )
    return allow("EU-AI-5")


def _remote(ctx: Context) -> bool:
    return bool(ctx.deployment.capabilities & REMOTE_IDENTIFICATION) and known(ctx)


def _logs(ctx: Context) -> Finding | None:
    if not _remote(ctx):
        return None
    if ctx.act is Act.IDENTIFY:
        return allow(
            "EU-AI-12",
            "log the start and end of use, the reference database, the matched input and "
            "who verified the result",
        )
    r = ctx.need_review()
    missing = [
        name
        for name, value in (
            ("the matched input", r.input_sha256),
            ("the reference database", r.reference_database),
            ("who verified", r.reviewers),
        )
        if not value
    ]
    if missing:
        return deny(
            "EU-AI-12",
            "the remote-identification log lacks " + ", ".join(missing),
            "Record every field of the use before acting on it.",
        )
    return allow("EU-AI-12")


def _two_reviewers(ctx: Context) -> Finding | None:
    if not _remote(ctx):
        return None
    if ctx.act is Act.IDENTIFY:
        return allow("EU-AI-14", "the match stays pending until two people confirm it")
    people = {p.strip().casefold() for p in ctx.need_review().reviewers if p.strip()}
    if len(people) < REVIEWERS:
        return deny(
            "EU-AI-14",
            f"{len(people)} person(s) verified this match; at least {REVIEWERS} must",
            "Have a second competent person verify the match separately before acting.",
        )
    return allow("EU-AI-14")


def _log_floor(ctx: Context) -> Finding | None:
    r = ctx.need_record()
    if r.kind != "log":
        return None
    keep = add_months(r.created_at, LOG_MONTHS)
    if ctx.now < keep:
        return deny(
            "EU-AI-19",
            f"logs must be kept at least {LOG_MONTHS} months (this one until {keep.date()})",
            "Delete log entries only once they are older than six months.",
        )
    return allow("EU-AI-19")


_MATCH = frozenset({Act.IDENTIFY, Act.ACT_ON_MATCH})

RULES: tuple[Rule, ...] = (
    Rule(
        "EU-GDPR-9",
        "an Art 9(2) exception, normally explicit consent",
        SETUP | {Act.GIVE_CONSENT} | PROCESSING,
        _legal_basis,
    ),
    Rule(
        "EU-GDPR-17",
        "erasure without undue delay",
        frozenset({Act.WITHDRAW, Act.ANSWER_REQUEST}),
        _erasure,
    ),
    Rule("EU-GDPR-30", "a complete record of processing", SETUP, _records),
    Rule(
        "EU-GDPR-33",
        "breach notified within 72 hours",
        frozenset({Act.RECORD_INCIDENT, Act.CLOSE_INCIDENT}),
        _breach,
    ),
    Rule(
        "EU-GDPR-35",
        "a DPIA before go-live, redone on change",
        frozenset({Act.ACTIVATE_DEPLOYMENT}) | PROCESSING,
        impact_assessment("EU-GDPR-35", "DPIA"),
    ),
    Rule("EU-AI-5", "prohibited AI practices", SETUP, _prohibited),
    Rule("EU-AI-12", "remote identification is logged in full", _MATCH, _logs),
    Rule("EU-AI-14", "two people verify a remote match", _MATCH, _two_reviewers),
    Rule(
        "EU-AI-19",
        "logs kept at least six months",
        frozenset({Act.DELETE_RECORD}),
        _log_floor,
    ),
)
