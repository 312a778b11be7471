"""Calendar arithmetic the rules need: years and months as the law counts them.

Chinese working days (CN-FR-15) come from :mod:`facegate.policy.workdays`, which
knows the official holiday arrangement.
"""

from __future__ import annotations

import calendar
from datetime import datetime


def add_months(when: datetime, months: int) -> datetime:
    """The same day ``months`` later; the last day of the month where that day is missing."""
    total = when.month - 1 + months
    year, month = when.year + total // 12, total % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def add_years(when: datetime, years: int) -> datetime:
    return add_months(when, 12 * years)
