"""The standards every deployment is held to, whatever its law: facegate's own baseline.

- ISO-24745 (biometric information protection): templates only ever protected and sealed,
  with their keys kept apart from the data; nothing leaves in a form that links elsewhere.
- ISO-30136 (performance of template protection): a match threshold inside the range where
  the scheme's measured false-match rate stays low (``THRESHOLD_RANGES``).
- ISO-29184 (online privacy notices and consent): the person consents to the notice in force,
  which is complete, has a plain version, and a change of it asks people again.
- KANTARA-CR (Consent Receipt v1.1): a receipt names the controller and how to reach them.
"""

from __future__ import annotations

from typing import Final

from facegate.policy.rules import (
    DEPLOYMENT_LEVEL,
    SETUP,
    Act,
    Context,
    Finding,
    Rule,
    allow,
    deny,
)

#: the match thresholds a scheme may be run at: from the threshold at which the false-match
#: rate of unrelated faces reaches 1 in 100 on the hardest shared photo sets (orl, faces94,
#: celebrities: 297,440 impostor pairs, 2 keys; ``python bench/thresholds.py``) to 0.99.
#: Below the floor, more than one stranger in a hundred would be taken for someone enrolled
#: (the calibrated defaults sit at or above it: 0.80 and 0.5176).
THRESHOLD_RANGES: Final[dict[str, tuple[float, float]]] = {
    "biohash-v1": (0.79, 0.99),
    "biohash-v1:2048": (0.79, 0.99),
    "biohash-v1:4096": (0.79, 0.99),
    "biohash-v2": (0.85, 0.99),
    "phasefold-v1": (0.51, 0.99),
}


def threshold_range(scheme: str) -> tuple[float, float] | None:
    return THRESHOLD_RANGES.get(scheme)


def _threshold(ctx: Context) -> Finding:
    d = ctx.deployment
    bounds = threshold_range(d.scheme)
    if bounds is None:
        return deny(
            "ISO-30136",
            f"no measured threshold range exists for the template scheme {d.scheme!r}",
            "Use a scheme whose accuracy has been measured (facegate bench protection).",
        )
    low, high = bounds
    if not low <= d.threshold <= high:
        return deny(
            "ISO-30136",
            f"a match threshold of {d.threshold:g} is outside the range measured for "
            f"{d.scheme} ({low:g} to {high:g})",
            f"Below {low:g} more than one stranger in a thousand would match someone; leave\n"
            "the threshold out to use the calibrated default.",
        )
    return allow("ISO-30136")


def _protection(ctx: Context) -> Finding | None:
    if ctx.act in {Act.SHARE, Act.EXPORT}:
        if not ctx.need_transfer().reprotected:
            return deny(
                "ISO-24745",
                "templates would leave under the deployment's own key, linkable to it",
                "Export re-protects every template under a key made for the recipient.",
            )
        return allow("ISO-24745")
    system = ctx.system if ctx.act is not Act.START_SERVICE else ctx.need_system()
    if system is None:
        return None  # processing before any self-check: nothing measured yet
    if not system.ledger_verified:
        return deny(
            "ISO-24745",
            "the integrity of the records cannot be shown: the ledger does not verify",
            "Investigate with 'facegate ledger verify' and restore from a witnessed copy,\n"
            "then run 'facegate selfcheck'.",
        )
    if system.controls.get("encryption") is False:
        return deny(
            "ISO-24745",
            "templates were found stored without their sealing",
            "Investigate at once: only sealed, protected templates may be at rest.",
        )
    if not system.keys_apart:
        return deny(
            "ISO-24745",
            "the keys that open templates are not kept apart from the data (master key\n"
            "readable by others, or the key store inside the main database)",
            "Keep master.key at mode 0600 outside the database and the key store separate,\n"
            "then run 'facegate selfcheck'.",
        )
    return allow("ISO-24745")


def _notice(ctx: Context) -> Finding | None:
    n = ctx.notice
    if ctx.act is Act.ACTIVATE_DEPLOYMENT:
        n = ctx.need_notice()
        if n.missing or not n.plain:
            lacks = ", ".join(n.missing) if n.missing else "a plain version"
            return deny(
                "ISO-29184",
                f"the notice lacks {lacks}",
                "Set the operator's identity, contact and DPO ('facegate operator set'), then\n"
                "have the DPO sign again.",
            )
        return allow("ISO-29184", "publish the notice before any consent is asked")
    if ctx.act is Act.GIVE_CONSENT:
        c = ctx.need_consent()
        if n is None or c.notice_version != n.version:
            return deny(
                "ISO-29184",
                "consent must follow the notice in force, and the person did not see it",
                "Show the person the current notice, then record their consent with its\n"
                "version (--notice-version).",
            )
        return allow("ISO-29184")
    given = ctx.consent
    if given is None:
        return None
    if n is None or given.notice_sha256 != n.sha256:
        return deny(
            "ISO-29184",
            "the notice changed after this person consented; they have not been asked again",
            "Show the person the new notice and record a fresh consent.",
        )
    return allow("ISO-29184")


def _receipt(ctx: Context) -> Finding:
    d = ctx.deployment
    missing = [
        name
        for name, value in (("controller", d.controller), ("contact", d.controller_contact))
        if not value.strip()
    ]
    if missing:
        return deny(
            "KANTARA-CR",
            "the consent receipt would not say "
            + " or ".join(
                "who the controller is" if m == "controller" else "how to reach them"
                for m in missing
            ),
            "Set the operator's name and contact: 'facegate operator set --contact ...'.",
        )
    return allow("KANTARA-CR", "give the person a signed receipt with every v1.1 field")


RULES: tuple[Rule, ...] = (
    Rule(
        "ISO-24745",
        "only protected, sealed templates; keys apart from the data; re-protected to leave",
        DEPLOYMENT_LEVEL | {Act.START_SERVICE, Act.SHARE, Act.EXPORT},
        _protection,
    ),
    Rule("ISO-30136", "a threshold inside the measured range", SETUP, _threshold),
    Rule(
        "ISO-29184",
        "a complete notice in force before consent; changes ask again",
        frozenset(
            {Act.ACTIVATE_DEPLOYMENT, Act.GIVE_CONSENT, Act.ENROLL, Act.VERIFY, Act.IDENTIFY}
        ),
        _notice,
    ),
    Rule(
        "KANTARA-CR",
        "receipts name the controller and a contact",
        frozenset({Act.GIVE_CONSENT}),
        _receipt,
    ),
)
