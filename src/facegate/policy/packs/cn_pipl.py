"""China: the Personal Information Protection Law (CN-PIPL-*) and the Supreme People's
Court 2021 provisions on face recognition (CN-SPC-*). Part of the ``cn`` pack."""

from __future__ import annotations

from datetime import timedelta

from facegate.policy.facts import RIGHTS, TRANSFER_MECHANISMS
from facegate.policy.packs._common import known
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

CROSS_BORDER_ASSESSMENT_PEOPLE = 10_000

#: the capability an act exercises (CN-SPC-2 / IND-2019: nothing beyond the declared method)
ACT_CAPABILITY = {Act.VERIFY: "verify", Act.IDENTIFY: "identify"}


def within_declared_method(rule_id: str, ctx: Context) -> Finding | None:
    """Processing only by a capability the deployment declared (shared with IND-2019)."""
    if not known(ctx):
        return None
    caps = ctx.deployment.capabilities
    if ctx.act is Act.ENROLL:
        needed = {"verify", "identify", "remote_identification", "realtime_remote_identification"}
        if not caps & needed:
            return deny(
                rule_id,
                "this deployment declares no recognition capability to enroll faces for",
                "Declare what the deployment does (verify and/or identify).",
            )
        return allow(rule_id)
    cap = ACT_CAPABILITY[ctx.act]
    if cap not in caps and not (cap == "identify" and caps & {"remote_identification"}):
        return deny(
            rule_id,
            f"this deployment did not declare '{cap}'; using it goes beyond the stated method",
            f"Register the change ('{cap}' capability, a new PIA and notice) first.",
        )
    return allow(rule_id)


def _fresh_consent_on_change(ctx: Context) -> Finding | None:
    c = ctx.consent
    if c is None:
        return None
    changed_notice = (
        ctx.current_notice_sha256 is not None and c.notice_sha256 != ctx.current_notice_sha256
    )
    changed_purpose = bool(ctx.deployment.purpose_sha256) and (
        c.purpose_sha256 != ctx.deployment.purpose_sha256
    )
    if changed_notice or changed_purpose:
        return deny(
            "CN-PIPL-14",
            "the notice or purpose changed after this person consented",
            "Show the person the new notice and record a fresh consent.",
        )
    return allow("CN-PIPL-14")


def _deletion(ctx: Context) -> Finding | None:
    if ctx.act is Act.WITHDRAW:
        return allow(
            "CN-PIPL-15",
            "delete the person's templates",
            "destroy the person's data key",
            "write a deletion receipt to the ledger",
        )
    if not known(ctx):
        return None
    if ctx.deployment.status == "ended":
        return deny(
            "CN-PIPL-15",
            "this deployment has ended; its face data must be deleted, not used",
            "Erase the remaining templates.",
        )
    return allow("CN-PIPL-15")


def _shortest_retention(ctx: Context) -> Finding | None:
    d = ctx.deployment
    if ctx.act is Act.ENROLL:
        if not known(ctx) or d.retention_days is None:
            return None
        due = ctx.now + timedelta(days=d.retention_days)
        if d.purpose_ends_at is not None:
            due = min(due, d.purpose_ends_at)
        return allow("CN-PIPL-19", "delete the template when its TTL ends", due=due)
    if not known(ctx):
        return None
    if d.retention_days is None or d.retention_days < 1:
        return deny(
            "CN-PIPL-19",
            "the deployment sets no retention period",
            "Set the shortest retention the purpose needs (retention_days).",
        )
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
    if r.refused and not r.reasons.strip():
        return deny(
            "CN-PIPL-44",
            f"a refusal of the person's '{r.right}' request must give its reasons",
            "State the reasons for refusing, and how the person can complain.",
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


def _evidence(ctx: Context) -> Finding:
    if not ctx.need_system().ledger_verified:
        return deny(
            "CN-PIPL-69",
            "the evidence ledger does not verify; the processor could not prove its conduct",
            "Investigate with 'facegate ledger verify' and restore from a witnessed copy.",
        )
    return allow("CN-PIPL-69")


def _spc_infringement(ctx: Context) -> Finding | None:
    if ctx.act in PROCESSING:
        return within_declared_method("CN-SPC-2", ctx)
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
        PROCESSING,
        _fresh_consent_on_change,
    ),
    Rule(
        "CN-PIPL-15",
        "withdrawal deletes; nothing is used after the service ends",
        PROCESSING | {Act.WITHDRAW},
        _deletion,
    ),
    Rule(
        "CN-PIPL-19",
        "a finite retention no longer than the purpose",
        SETUP | {Act.ENROLL},
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
        frozenset({Act.START_SERVICE}),
        _evidence,
    ),
    Rule(
        "CN-SPC-2",
        "no use beyond the stated purpose and method",
        PROCESSING | {Act.SHARE},
        _spc_infringement,
    ),
    Rule("CN-SPC-7", "recipients recorded; no unlimited terms", _TRANSFER, _co_processor),
)
