"""China: PIPL, the 2025 CAC/MPS face recognition measures, and the SPC 2021 provisions."""

from __future__ import annotations

from facegate.policy.rules import (
    BANNED_LOCATIONS,
    PROCESSING,
    PUBLIC_LOCATIONS,
    Act,
    Context,
    Finding,
    Rule,
    allow,
    deny,
)

_REGISTER = frozenset({Act.REGISTER_DEPLOYMENT})
_MIN_STATEMENT = 10  # characters: a purpose of "x" is no purpose


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


def _alternative(ctx: Context) -> Finding:
    if len(ctx.deployment.alternative.strip()) < 3:
        return deny(
            "CN-FR-10",
            "no non-face alternative is offered",
            "Offer another way in (key card, PIN, staffed desk) and name it with --alternative.",
        )
    return allow("CN-FR-10")


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
    return allow("CN-FR-13")


def _consent(ctx: Context) -> Finding:
    c = ctx.consent
    if c is None:
        return deny(
            "CN-FR-6",
            "this person has not given separate consent to this deployment",
            "Show the person the notice and record their consent first, or use the\n"
            "non-face alternative the deployment offers.",
        )
    if c.expires_at is not None and c.expires_at <= ctx.now:
        return deny(
            "CN-FR-6",
            "this person's consent has expired",
            "Ask the person to consent again after reading the current notice.",
        )
    return allow("CN-FR-6")


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


RULES: tuple[Rule, ...] = (
    Rule("CN-FR-4", "specific purpose and sufficient necessity", _REGISTER, _purpose_and_necessity),
    Rule("CN-FR-10", "a non-face alternative is offered", _REGISTER, _alternative),
    Rule("CN-FR-13", "banned and public locations", _REGISTER, _location),
    Rule("CN-FR-6", "separate, valid consent before processing", PROCESSING, _consent),
    Rule(
        "CN-PIPL-14",
        "a changed notice or purpose voids consent",
        PROCESSING,
        _fresh_consent_on_change,
    ),
)
