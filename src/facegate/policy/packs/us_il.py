"""Illinois: the Biometric Information Privacy Act, 740 ILCS 14 (US-IL-*)."""

from __future__ import annotations

from datetime import timedelta

from facegate.policy.dates import add_years
from facegate.policy.facts import WRITTEN_METHODS
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

LAST_INTERACTION_YEARS = 3
#: a template's TTL is set at enrollment, so it may not exceed 3 years from then
MAX_RETENTION_DAYS = 3 * 365


def _retention_schedule(ctx: Context) -> Finding | None:
    d = ctx.deployment
    if ctx.act is Act.ENROLL:
        due = min(
            ctx.now + timedelta(days=d.retention_days),
            add_years(ctx.now, LAST_INTERACTION_YEARS),
        )
        if d.purpose_ends_at is not None:
            due = min(due, d.purpose_ends_at)
        return allow(
            "US-IL-15a",
            "ttl = min(purpose end, last interaction + 3 years): destroy the template then",
            due=due,
        )
    if ctx.act in ERASURES:
        return allow("US-IL-15a", "destroy the biometric identifiers permanently")
    if ctx.act in DEPLOYMENT_LEVEL:
        return not_live("US-IL-15a", ctx) if d.status == "ended" else None
    refused = retention_out_of_range("US-IL-15a", ctx)
    if refused is not None:
        return refused
    if d.retention_days > MAX_RETENTION_DAYS:
        return deny(
            "US-IL-15a",
            f"a retention of {d.retention_days} days outlives BIPA's 3 years after the last "
            "interaction",
            f"Set at most {MAX_RETENTION_DAYS} days.",
        )
    if d.purpose_ends_at is not None and ctx.now + timedelta(days=d.retention_days) > (
        d.purpose_ends_at
    ):
        return deny(
            "US-IL-15a",
            "templates would outlive the purpose; BIPA destroys them when the purpose is met",
            "Shorten the retention to end with the purpose.",
        )
    return allow(
        "US-IL-15a",
        "the retention schedule is public on the deployment's public page (no key needed)",
        "ttl = min(purpose end, last interaction + 3 years)",
    )


def _written_release(ctx: Context) -> Finding | None:
    if ctx.act is Act.GIVE_CONSENT:
        refused = not_live("US-IL-15b", ctx, what="consent")
        if refused is not None:
            return refused
        c = ctx.need_consent()
        if c.method not in WRITTEN_METHODS or not c.form_sha256:
            return deny(
                "US-IL-15b",
                f"a consent captured as {c.method!r} without the signed document's hash is not\n"
                "a written release",
                "Have the person sign a written release (paper or electronic signature) after\n"
                "reading the written notice, and record its SHA-256 (--form FILE).",
            )
        return allow("US-IL-15b")
    if ctx.act in DEPLOYMENT_LEVEL:
        refused = not_live("US-IL-15b", ctx)
        if refused is not None:
            return refused
        if ctx.act is Act.SCAN and ctx.deployment.capture == "in_view":
            return deny(
                "US-IL-15b",
                "a search of everyone in view collects the face geometry of people who gave no\n"
                "written release",
                "Capture only people who signed a release and ask to use it (capture\n"
                "'on_request').",
            )
    if ctx.act is Act.REGISTER_DEPLOYMENT and ctx.deployment.capture == "in_view":
        return deny(
            "US-IL-15b",
            "a search of everyone in view collects the face geometry of people who gave no\n"
            "written release",
            "Capture only people who signed a release and ask to use it (capture 'on_request').",
        )
    if subject_level(ctx):
        return consent_required("US-IL-15b", written=True)(ctx)
    return allow("US-IL-15b") if ctx.act in SETUP else None


def _no_sale(ctx: Context) -> Finding:
    t = ctx.need_transfer()
    if t.for_profit:
        return deny(
            "US-IL-15c",
            "selling, leasing, trading or otherwise profiting from biometric data is forbidden",
            "Do not transfer face data for payment or any other benefit.",
        )
    c = ctx.consent
    if c is None or not c.disclosure:
        return deny(
            "US-IL-15c",
            f"this person has not consented to disclosure to {t.recipient}",
            "Ask for the person's consent to this disclosure first.",
        )
    return allow("US-IL-15c")


RULES: tuple[Rule, ...] = (
    Rule(
        "US-IL-15a",
        "a public retention schedule; destroyed at purpose end or 3 years",
        SETUP | ERASURES | DEPLOYMENT_LEVEL,
        _retention_schedule,
    ),
    Rule(
        "US-IL-15b",
        "written notice and a written release before collection",
        SETUP | {Act.GIVE_CONSENT} | PROCESSING,
        _written_release,
    ),
    Rule(
        "US-IL-15c",
        "no sale or profit; disclosure only with consent",
        frozenset({Act.SHARE, Act.EXPORT}),
        _no_sale,
    ),
)
