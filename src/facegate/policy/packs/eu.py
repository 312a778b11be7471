"""European Union: the GDPR (EU-GDPR-*) and the AI Act (EU-AI-*)."""

from __future__ import annotations

from datetime import timedelta

from facegate.policy.dates import add_months
from facegate.policy.facts import ERASURE_EXEMPTIONS, IMPLIED_METHODS, REMOTE_IDENTIFICATION
from facegate.policy.packs._common import (
    consent_required,
    impact_assessment,
    not_live,
)
from facegate.policy.packs.cn_pipl import retention_out_of_range
from facegate.policy.places import place
from facegate.policy.rules import (
    DEPLOYMENT_LEVEL,
    ERASURES,
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
        return _bystanders(ctx) or allow("EU-GDPR-9")
    if ctx.act is Act.GIVE_CONSENT:
        c = ctx.need_consent()
        if c.method in IMPLIED_METHODS or not c.separate:
            return deny(
                "EU-GDPR-9",
                f"a consent captured as {c.method!r} is not explicit consent",
                "Ask for an express statement of consent to biometric processing, on its own.",
            )
        return allow("EU-GDPR-9")
    if ctx.act is Act.USE_ALTERNATIVE:
        return allow("EU-GDPR-9", "consent is freely given only if refusing costs nothing")
    if ctx.act is Act.SCAN:
        return _bystanders(ctx) or allow("EU-GDPR-9")
    if d.legal_basis != "consent":
        return allow("EU-GDPR-9", f"document the Art 9(2) basis '{d.legal_basis}'")
    return consent_required("EU-GDPR-9")(ctx)


def _bystanders(ctx: Context) -> Finding | None:
    """A search of everyone in view processes the faces of people who never consented."""
    d = ctx.deployment
    if d.capture == "in_view" and d.legal_basis == "consent":
        return deny(
            "EU-GDPR-9",
            "a search of everyone in view processes the biometric data of people who did not\n"
            "consent; consent of the enrolled cannot cover them",
            "Capture only people who ask to use face recognition (capture 'on_request'), or\n"
            "rely on another Art 9(2) exception that covers everyone in view.",
        )
    return None


def _erasure(ctx: Context) -> Finding | None:
    if ctx.act in ERASURES:
        return allow(
            "EU-GDPR-17",
            "erase without undue delay and give a receipt",
            due=ctx.now + timedelta(days=ERASURE_DAYS),
        )
    if ctx.act is Act.HOLD:
        if ctx.ground not in ERASURE_EXEMPTIONS:
            return deny(
                "EU-GDPR-17",
                f"{ctx.ground or 'no ground'!r} is not an Art 17(3) ground to keep data a person\n"
                "asked to have erased",
                "Erase the data, or name the ground: " + ", ".join(sorted(ERASURE_EXEMPTIONS)),
            )
        return allow("EU-GDPR-17", "stop all processing; erase once the ground ends")
    if ctx.act in DEPLOYMENT_LEVEL or ctx.act is Act.GIVE_CONSENT:
        if ctx.deployment.status == "ended":
            return not_live("EU-GDPR-17", ctx)
        return None
    if ctx.act in SETUP:
        return retention_out_of_range("EU-GDPR-17", ctx)
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
    d = ctx.deployment
    missing = [
        name
        for name, value in (
            ("the controller's name", d.controller),
            ("the controller's contact details", d.controller_contact),
            ("the data protection officer", d.dpo),
            ("the purpose", d.purpose),
            ("the retention period", d.retention_days),
        )
        if not value
    ]
    if missing:
        return deny(
            "EU-GDPR-30",
            "the record of processing lacks " + ", ".join(missing),
            "Set the operator's contact and DPO ('facegate operator set --contact ... --dpo ...')\n"
            "and complete the record.",
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
    where = place(d.location_type)
    if where is None:
        return deny(
            "EU-AI-5",
            f"{d.location_type!r} is not a place type facegate can classify, so it cannot tell\n"
            "whether a prohibited practice would take place there",
            "Choose the place type that describes the site (facegate policy places).",
        )
    if "untargeted_scraping" in caps:
        return deny(
            "EU-AI-5",
            "untargeted scraping of facial images to build a database is prohibited",
            "Remove the capability; enroll only people who consented.",
        )
    if "emotion_recognition" in caps and (where.workplace or where.education):
        return deny(
            "EU-AI-5",
            f"emotion recognition at a place of work or education ({where.en}: its staff or\n"
            "pupils are in view) is prohibited",
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
        and where.publicly_accessible
        and d.declarations.law_enforcement
    ):
        return deny(
            "EU-AI-5",
            f"real-time remote biometric identification in a publicly accessible space\n"
            f"({where.en}) for law enforcement is prohibited",
            "The narrow exceptions need prior judicial authorisation, which facegate does not\n"
            "support; do not deploy this.",
        )
    return allow("EU-AI-5")


def _remote(ctx: Context) -> bool:
    return bool(ctx.deployment.capabilities & REMOTE_IDENTIFICATION)


def _logs(ctx: Context) -> Finding | None:
    if not _remote(ctx):
        return None
    if ctx.act is Act.SCAN:
        if ctx.system is not None and not ctx.system.ledger_verified:
            return deny(
                "EU-AI-12",
                "remote identification needs reliable automatic logs, and the ledger does not "
                "verify",
                "Investigate with 'facegate ledger verify', restore the log, run 'facegate "
                "selfcheck'.",
            )
        return allow("EU-AI-12")
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
    if ctx.act is Act.SCAN:
        return None
    if ctx.act is Act.IDENTIFY:
        return allow("EU-AI-14", "the match stays pending until two people confirm it")
    review = ctx.need_review()
    if review.unqualified:
        return deny(
            "EU-AI-14",
            "a match may be verified only by people with the competence and authority to do "
            "so (principals with the reviewer role)",
            "Have two principals with the 'reviewer' role verify it, each with their own key.",
        )
    people = {p.strip().casefold() for p in review.reviewers if p.strip()}
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


_MATCH = frozenset({Act.SCAN, Act.IDENTIFY, Act.ACT_ON_MATCH})


RULES: tuple[Rule, ...] = (
    Rule(
        "EU-GDPR-9",
        "an Art 9(2) exception, normally explicit consent; none for people in view",
        SETUP | {Act.GIVE_CONSENT, Act.USE_ALTERNATIVE} | PROCESSING,
        _legal_basis,
    ),
    Rule(
        "EU-GDPR-17",
        "erasure without undue delay; kept only on an Art 17(3) ground",
        SETUP | ERASURES | DEPLOYMENT_LEVEL | {Act.HOLD, Act.ANSWER_REQUEST, Act.GIVE_CONSENT},
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
        "a DPIA signed by the DPO before go-live, redone on change",
        frozenset({Act.ACTIVATE_DEPLOYMENT}) | DEPLOYMENT_LEVEL,
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
