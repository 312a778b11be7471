"""China: the Personal Information Protection Law (CN-PIPL-*) and the Supreme People's
Court 2021 provisions on face recognition (CN-SPC-*). Part of the ``cn`` pack."""

from __future__ import annotations

from datetime import timedelta

from facegate.policy.facts import ERASURE_EXEMPTIONS, RIGHTS, SEARCHING, TRANSFER_MECHANISMS
from facegate.policy.packs._common import not_live
from facegate.policy.places import place
from facegate.policy.rules import (
    DEPLOYMENT_LEVEL,
    ERASURES,
    SETUP,
    SUBJECT_LEVEL,
    Act,
    Context,
    Finding,
    Rule,
    allow,
    deny,
)

CROSS_BORDER_ASSESSMENT_PEOPLE = 10_000
_MIN_REASONS = 10  # characters: "no" is not a reason
#: the product's bounds on a retention period, under every pack
RETENTION_RANGE = (1, 3650)

#: the capability an act exercises (CN-SPC-2 / IND-2019: nothing beyond the declared method)
ACT_CAPABILITY = {Act.VERIFY: "verify", Act.SCAN: "identify", Act.IDENTIFY: "identify"}


def retention_out_of_range(rule_id: str, ctx: Context) -> Finding | None:
    """A denial when the retention lies outside what any purpose can need."""
    low, high = RETENTION_RANGE
    days = ctx.deployment.retention_days
    if not low <= days <= high:
        return deny(
            rule_id,
            f"a retention of {days} days is outside {low} to {high} days",
            "Set the shortest retention the purpose needs, in days (--retention-days).",
        )
    return None


def within_declared_method(rule_id: str, ctx: Context) -> Finding | None:
    """Processing only by a capability the deployment declared (shared with IND-2019)."""
    caps = ctx.deployment.capabilities
    if ctx.act is Act.ENROLL:
        if not caps & {"verify", *SEARCHING}:
            return deny(
                rule_id,
                "this deployment declares no recognition capability to enroll faces for",
                "Declare what the deployment does (verify and/or identify).",
            )
        return allow(rule_id)
    cap = ACT_CAPABILITY[ctx.act]
    if cap not in caps and not (cap == "identify" and caps & SEARCHING):
        return deny(
            rule_id,
            f"this deployment did not declare '{cap}'; using it goes beyond the stated method",
            f"Change the deployment ('{cap}' capability; the DPO signs a new PIA) first.",
        )
    return allow(rule_id)


def _fresh_consent_on_change(ctx: Context) -> Finding | None:
    c = ctx.consent
    if c is None:
        return None  # CN-FR-6 refuses processing without consent
    changed_notice = ctx.notice is None or c.notice_sha256 != ctx.notice.sha256
    changed_purpose = c.purpose_sha256 != ctx.deployment.purpose_sha256
    if changed_notice or changed_purpose:
        return deny(
            "CN-PIPL-14",
            "the notice or purpose changed after this person consented",
            "Show the person the new notice and record a fresh consent.",
        )
    return allow("CN-PIPL-14")


def _deletion(ctx: Context) -> Finding | None:
    if ctx.act in ERASURES:
        return allow(
            "CN-PIPL-15",
            "delete the person's templates",
            "destroy the person's data key",
            "write a deletion receipt to the ledger",
        )
    if ctx.act is Act.HOLD:
        # PIPL Art 47: deletion may wait only while a retention period set by law runs
        if ctx.ground != "legal_obligation":
            return deny(
                "CN-PIPL-15",
                f"{ctx.ground or 'no ground'!r} is not a ground to keep face data a person asked\n"
                "to have deleted",
                "Only a retention period set by a law or administrative regulation\n"
                "('legal_obligation') defers deletion (PIPL Art 47); otherwise erase it.",
            )
        return allow("CN-PIPL-15", "stop all processing; delete when the legal period ends")
    if ctx.deployment.status == "ended":
        return not_live("CN-PIPL-15", ctx)
    return allow("CN-PIPL-15")


def _shortest_retention(ctx: Context) -> Finding | None:
    d = ctx.deployment
    if ctx.act is Act.ENROLL:
        due = ctx.now + timedelta(days=d.retention_days)
        if d.purpose_ends_at is not None:
            due = min(due, d.purpose_ends_at)
        return allow("CN-PIPL-19", "delete the template when its TTL ends", due=due)
    if ctx.act is Act.EXPIRE:
        return allow("CN-PIPL-19", "delete what outlived its retention, with a receipt")
    refused = retention_out_of_range("CN-PIPL-19", ctx)
    if refused is not None:
        return refused
    if d.purpose_ends_at is not None and ctx.now + timedelta(days=d.retention_days) > (
        d.purpose_ends_at
    ):
        return deny(
            "CN-PIPL-19",
            f"templates would be kept {d.retention_days} days, past the end of the purpose "
            f"({d.purpose_ends_at.date()})",
            "Shorten the retention so that nothing outlives the purpose.",
        )
    return allow("CN-PIPL-19", f"ttl = {d.retention_days} days from enrollment")


def _cross_border(ctx: Context) -> Finding | None:
    t = ctx.need_transfer()
    if not t.cross_border:
        return None
    c = ctx.consent
    if c is None or not c.egress:
        return deny(
            "CN-PIPL-38",
            "this person has not separately consented to their face data going abroad",
            "Ask for a separate consent naming the foreign recipient and country first.",
        )
    if t.mechanism not in TRANSFER_MECHANISMS:
        return deny(
            "CN-PIPL-38",
            "no lawful cross-border mechanism is in place",
            "Pass a CAC security assessment, file a standard contract or obtain certification.",
        )
    if t.people_abroad_this_year >= CROSS_BORDER_ASSESSMENT_PEOPLE and (
        t.mechanism != "security_assessment"
    ):
        return deny(
            "CN-PIPL-38",
            f"sensitive data of {t.people_abroad_this_year} people abroad this year needs a "
            "CAC security assessment",
            f"At {CROSS_BORDER_ASSESSMENT_PEOPLE} people a year only a security assessment "
            "will do.",
        )
    return allow(
        "CN-PIPL-38",
        f"count this person towards this year's cross-border total ({t.destination or 'abroad'})",
    )


def _answer(ctx: Context) -> Finding:
    r = ctx.need_request()
    if r.right not in RIGHTS:
        raise ValueError(f"unknown right {r.right!r}; one of {sorted(RIGHTS)}")
    if len(r.reasons.strip()) < _MIN_REASONS:
        what = "refusal" if r.refused else "answer"
        return deny(
            "CN-PIPL-44",
            f"an {what} to the person's '{r.right}' request must give its reasons",
            "State the reasons (what was done, or why not, and how the person can complain).",
        )
    if r.refused and r.right == "delete" and r.exemption not in ERASURE_EXEMPTIONS:
        return deny(
            "CN-PIPL-44",
            "a refusal to delete must rest on a ground the law allows",
            "Name the ground (e.g. legal_obligation), or delete the data.",
        )
    return allow("CN-PIPL-44", "answer the request promptly and record the answer")


def _breach(ctx: Context) -> Finding:
    i = ctx.need_incident()
    if ctx.act is Act.RECORD_INCIDENT:
        return allow(
            "CN-PIPL-57",
            "take remedial measures at once",
            "notify the personal information protection authority",
            "notify the people affected (unless the measures effectively avoid harm)",
            due=i.detected_at,
        )
    if i.regulator_notified_at is None:
        return deny(
            "CN-PIPL-57",
            "the authority has not been notified of the breach",
            "Notify the personal information protection authority before closing it.",
        )
    if not i.individuals_notified and not i.harm_avoided:
        return deny(
            "CN-PIPL-57",
            "the people affected have not been notified of the breach",
            "Notify them (what leaked, the measures taken, what they can do).",
        )
    return allow("CN-PIPL-57")


def _evidence(ctx: Context) -> Finding | None:
    if ctx.system is None:
        return None  # processing before any self-check: nothing measured yet
    if not ctx.system.ledger_verified:
        return deny(
            "CN-PIPL-69",
            "the evidence ledger does not verify; the processor could not prove its conduct",
            "Investigate with 'facegate ledger verify' and restore from a witnessed copy.",
        )
    return allow("CN-PIPL-69")


def _spc_infringement(ctx: Context) -> Finding | None:
    if ctx.act in DEPLOYMENT_LEVEL:
        return within_declared_method("CN-SPC-2", ctx)
    if ctx.act is Act.REGISTER_DEPLOYMENT:
        where = place(ctx.deployment.location_type)
        if where is not None and where.business and not ctx.deployment.signage:
            return deny(
                "CN-SPC-2",
                f"face recognition in a business place ({where.en}) without published rules and\n"
                "signs infringes the people recognised",
                "Post signs and publish the rules (the notice) at the site.",
            )
        return allow("CN-SPC-2")
    if not ctx.need_transfer().same_purpose:
        return deny(
            "CN-SPC-2",
            "disclosing face data for a purpose other than the stated one infringes the person",
            "Disclose only for the deployment's stated purpose.",
        )
    return allow("CN-SPC-2")


def _co_processor(ctx: Context) -> Finding:
    t = ctx.need_transfer()
    if not t.agreement_recorded:
        return deny(
            "CN-SPC-7",
            f"no agreement with {t.recipient} is recorded",
            "Record the recipient and the agreement (purpose, term, duties) first.",
        )
    if t.terms_irrevocable or t.terms_unlimited:
        return deny(
            "CN-SPC-7",
            "the terms grant the recipient unlimited or irrevocable rights to face data",
            "Such terms are void; limit the recipient's use in purpose, scope and time.",
        )
    return allow(
        "CN-SPC-7", f"record {t.recipient} on the ledger; co-processors are jointly liable"
    )


_TRANSFER = frozenset({Act.SHARE, Act.EXPORT})
_INCIDENT = frozenset({Act.RECORD_INCIDENT, Act.CLOSE_INCIDENT})

RULES: tuple[Rule, ...] = (
    Rule(
        "CN-PIPL-14",
        "a changed notice or purpose voids consent",
        SUBJECT_LEVEL,
        _fresh_consent_on_change,
    ),
    Rule(
        "CN-PIPL-15",
        "withdrawal and erasure delete; nothing is used after the service ends",
        DEPLOYMENT_LEVEL | ERASURES | {Act.HOLD, Act.GIVE_CONSENT},
        _deletion,
    ),
    Rule(
        "CN-PIPL-19",
        "a finite retention no longer than the purpose",
        SETUP | {Act.ENROLL, Act.EXPIRE},
        _shortest_retention,
    ),
    Rule(
        "CN-PIPL-38",
        "cross-border: separate consent, a mechanism, assessment at 10,000",
        frozenset({Act.EXPORT}),
        _cross_border,
    ),
    Rule(
        "CN-PIPL-44",
        "requests answered, refusals with reasons",
        frozenset({Act.ANSWER_REQUEST}),
        _answer,
    ),
    Rule("CN-PIPL-57", "breaches remedied and notified", _INCIDENT, _breach),
    Rule(
        "CN-PIPL-69",
        "a verifiable evidence ledger",
        frozenset({Act.START_SERVICE}) | DEPLOYMENT_LEVEL,
        _evidence,
    ),
    Rule(
        "CN-SPC-2",
        "no use beyond the stated purpose and method; signs in business places",
        DEPLOYMENT_LEVEL | {Act.SHARE, Act.REGISTER_DEPLOYMENT},
        _spc_infringement,
    ),
    Rule("CN-SPC-7", "recipients recorded; no unlimited terms", _TRANSFER, _co_processor),
)
