"""Texas: Capture or Use of Biometric Identifier, Bus. & Com. Code 503.001 (US-TX-503)."""

from __future__ import annotations

from datetime import timedelta

from facegate.policy.dates import add_years
from facegate.policy.packs._common import consent_required, not_live, subject_level
from facegate.policy.packs.cn_pipl import retention_out_of_range
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

DESTROY_WITHIN_YEARS = 1


def _notice_consent_and_destruction(ctx: Context) -> Finding | None:
    d = ctx.deployment
    if ctx.act in ERASURES:
        return allow("US-TX-503", "destroy the biometric identifier within a year of the purpose")
    if ctx.act in DEPLOYMENT_LEVEL | {Act.GIVE_CONSENT}:
        refused = not_live("US-TX-503", ctx)
        if refused is not None:
            return refused
        if ctx.act is Act.SCAN and d.capture == "in_view":
            return _in_view()
        if ctx.act is Act.GIVE_CONSENT:
            return allow("US-TX-503")
    if subject_level(ctx):
        return consent_required("US-TX-503")(ctx)
    if ctx.act not in SETUP:
        return None
    if d.capture == "in_view":
        return _in_view()
    refused = retention_out_of_range("US-TX-503", ctx)
    if refused is not None:
        return refused
    if d.purpose_ends_at is None:
        return allow(
            "US-TX-503",
            "destroy each person's identifier within a year after their purpose ends "
            "('facegate purpose-end')",
        )
    latest = add_years(d.purpose_ends_at, DESTROY_WITHIN_YEARS)
    if ctx.now + timedelta(days=d.retention_days) > latest:
        return deny(
            "US-TX-503",
            f"templates would be kept past {latest.date()}, over a year after the purpose ends",
            "Shorten the retention so that everything is destroyed within a year of the end.",
        )
    return allow("US-TX-503")


def _in_view() -> Finding:
    return deny(
        "US-TX-503",
        "a search of everyone in view captures the face geometry of people who were not told\n"
        "and did not consent",
        "Capture only people who consented and ask to use it (capture 'on_request').",
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "US-TX-503",
        "notice and consent before capture; destroyed within a year of purpose end",
        SETUP | PROCESSING | ERASURES | {Act.GIVE_CONSENT},
        _notice_consent_and_destruction,
    ),
)
