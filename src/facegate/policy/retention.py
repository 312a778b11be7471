"""How long a template may live under a deployment's packs.

``default_retention_days`` is what a deployment gets when its operator names no period;
``template_expiry`` is the TTL to stamp on a template (BIPA: min(purpose end, last
interaction + 3 years); Texas: within a year after the purpose ends).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from facegate.policy.dates import add_years
from facegate.policy.engine import packs_named

#: the longest retention facegate accepts under any pack
PRODUCT_MAX_DAYS = 3650
#: the period a deployment gets when its operator names none (shortened to the packs' cap)
DEFAULT_DAYS = 365


def max_retention_days(packs: Sequence[str]) -> int:
    caps = [p.max_retention_days for p in packs_named(packs) if p.max_retention_days]
    return min([PRODUCT_MAX_DAYS, *caps])


def default_retention_days(packs: Sequence[str]) -> int:
    return min(DEFAULT_DAYS, max_retention_days(packs))


def template_expiry(
    packs: Sequence[str],
    *,
    enrolled_at: datetime,
    retention_days: int,
    purpose_ends_at: datetime | None = None,
    last_interaction: datetime | None = None,
) -> datetime:
    """The moment a template must be gone. Pass ``last_interaction`` (its latest verify or
    identify match) to recompute it after use; it never extends past the retention."""
    names = set(packs)
    ends = [enrolled_at + timedelta(days=retention_days)]
    if purpose_ends_at is not None:
        ends.append(purpose_ends_at)
    if "us-il" in names:
        ends.append(add_years(last_interaction or enrolled_at, 3))
    return min(ends)
