"""Names the pages show for the words the Gate uses (statuses, roles, places, the parts of
an impact assessment), marked for the catalogues and translated when shown."""

from __future__ import annotations

from datetime import timedelta
from typing import Final, Literal

from babel.dates import format_timedelta

from facegate.policy.places import PLACES
from facegate.web.public import N_, STATUS

ROLES: Final = {
    "admin": N_("administrator"),
    "operator": N_("operator staff"),
    "dpo": N_("data protection officer"),
    "reviewer": N_("reviewer"),
    "auditor": N_("auditor"),
}
PIA_LABELS: Final = {
    "lawfulness": N_("Lawfulness"),
    "impact": N_("Impact on people"),
    "risks": N_("Risks"),
    "safeguards": N_("Safeguards"),
    "conclusion": N_("Conclusion"),
}
REQUEST_KINDS: Final = {
    "access": N_("access"),
    "erase": N_("erasure"),
    "withdraw": N_("withdrawal"),
    "complaint": N_("complaint"),
    "correction": N_("correction"),
}

METHOD_NAMES: Final = {
    "signed_form": N_("a signed paper form"),
    "written_release": N_("a written release"),
    "electronic_signature": N_("an electronic signature"),
    "explicit_click": N_("an explicit 'I agree' on a screen"),
    "recorded_verbal": N_("a recorded spoken consent"),
}


def place_name(name: str, language: str) -> str:
    """A kind of place in the page's language (the taxonomy carries both)."""
    place = PLACES.get(name)
    if place is None:
        return name
    return place.zh if language == "zh-CN" else place.en


def span(delta: timedelta, language: str) -> str:
    """How long ``delta`` is (its sign dropped), in days and hours, or hours and minutes,
    as people of ``language`` write it ("3 days 4 hours", "3天 4小时")."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    locale = language.replace("-", "_")

    def unit(n: int, what: Literal["day", "hour", "minute"], seconds: int) -> str:
        return format_timedelta(
            timedelta(seconds=n * seconds), granularity=what, threshold=1e9, locale=locale
        )

    if days:
        return f"{unit(days, 'day', 86400)} {unit(hours, 'hour', 3600)}"
    return f"{unit(hours, 'hour', 3600)} {unit(mins, 'minute', 60)}"


__all__ = ["METHOD_NAMES", "PIA_LABELS", "REQUEST_KINDS", "ROLES", "STATUS", "place_name", "span"]
