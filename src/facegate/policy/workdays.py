"""Chinese working days: weekends and public holidays skipped, make-up working days counted.

Deadlines such as CN-FR-15's "30 working days" run on the official State Council holiday
arrangement, which ``chinese-calendar`` publishes year by year (including the weekend days
that are declared working days to make up for a holiday week). For a year the installed
package has no data for yet, weekdays stand in for working days and the result is marked
``provisional``: the deadline is recomputed from the stored start each time it is read, so
upgrading the package corrects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import chinese_calendar  # type: ignore[import-untyped]

from facegate.errors import InvalidInput

#: China keeps one time zone without daylight saving: UTC+8 (Asia/Shanghai)
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
_SATURDAY = 5
#: a bound on any search, far beyond any statutory period
_MAX_SPAN = timedelta(days=3660)


@dataclass(frozen=True)
class Deadline:
    """The ``working_days``-th working day after ``start`` (``start`` itself not counted)."""

    start: date
    due: date
    working_days: int
    provisional: bool
    calendar: str

    def working_days_left(self, today: date) -> int:
        """Working days from ``today`` (exclusive) to ``due`` (inclusive); negative when the
        deadline has passed (minus the working days since)."""
        if today <= self.due:
            return count_working_days(today, self.due)
        return -count_working_days(self.due, today)


def calendar_name() -> str:
    first, last = calendar_years()
    return f"chinese-calendar {chinese_calendar.__version__} (official data {first}-{last})"


def calendar_years() -> tuple[int, int]:
    """The first and last year the installed holiday data covers."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def china_date(moment: datetime) -> date:
    """The calendar date in China at ``moment`` (a naive value is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA_TZ).date()


def is_working_day(day: date) -> tuple[bool, bool]:
    """``(working, official)``: whether ``day`` is a working day in China, and whether that
    comes from the official arrangement (``False``: a weekday guess for an unpublished year)."""
    first, last = calendar_years()
    if first <= day.year <= last:
        return bool(chinese_calendar.is_workday(day)), True
    return day.weekday() < _SATURDAY, False


def add_working_days(start: date, working_days: int) -> Deadline:
    """The date ``working_days`` Chinese working days after ``start``."""
    if working_days < 1:
        raise InvalidInput(f"a period of {working_days} working days makes no sense")
    day, counted, provisional = start, 0, False
    while counted < working_days:
        day += timedelta(days=1)
        if day - start > _MAX_SPAN:  # pragma: no cover - guards a broken calendar
            raise InvalidInput(f"no {working_days} working days found after {start}")
        working, official = is_working_day(day)
        provisional = provisional or not official
        counted += working
    return Deadline(
        start=start,
        due=day,
        working_days=working_days,
        provisional=provisional,
        calendar=calendar_name(),
    )


def count_working_days(after: date, until: date) -> int:
    """Working days in ``(after, until]``."""
    n, day = 0, after
    while day < until:
        day += timedelta(days=1)
        n += is_working_day(day)[0]
    return n
