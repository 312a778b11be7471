"""Chinese working days on the official arrangement, across the 2025 National Day week.

2025: 1-8 October are holidays (National Day with Mid-Autumn); Sunday 28 September and
Saturday 11 October are make-up working days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from facegate.errors import InvalidInput
from facegate.policy.workdays import (
    add_working_days,
    calendar_years,
    china_date,
    count_working_days,
    is_working_day,
)


def test_the_national_day_week_and_its_make_up_days() -> None:
    assert is_working_day(date(2025, 9, 28)) == (True, True)  # Sunday, make-up day
    assert is_working_day(date(2025, 10, 11)) == (True, True)  # Saturday, make-up day
    for day in range(1, 9):
        assert is_working_day(date(2025, 10, day)) == (False, True)
    assert is_working_day(date(2025, 10, 12)) == (False, True)  # an ordinary Sunday
    assert is_working_day(date(2025, 10, 9)) == (True, True)


def test_thirty_working_days_across_national_day() -> None:
    # Friday 26 September: 28/9, 29/9, 30/9, then 9/10, 10/10, 11/10 (Sat) ... 13/11.
    d = add_working_days(date(2025, 9, 26), 30)
    assert d.due == date(2025, 11, 13)
    assert not d.provisional
    assert d.calendar.startswith("chinese-calendar ")
    # Starting on a holiday counts from the first working day after it.
    assert add_working_days(date(2025, 10, 1), 30).due == date(2025, 11, 18)
    assert add_working_days(date(2025, 9, 30), 30).due == date(2025, 11, 18)
    # Without the make-up days the same period would end later: they are counted.
    assert add_working_days(date(2025, 9, 26), 1).due == date(2025, 9, 28)
    assert add_working_days(date(2025, 10, 8), 3).due == date(2025, 10, 11)


def test_working_days_left_and_overdue() -> None:
    d = add_working_days(date(2025, 9, 26), 30)
    assert d.working_days_left(date(2025, 9, 26)) == 30
    assert d.working_days_left(date(2025, 9, 29)) == 28
    assert d.working_days_left(date(2025, 10, 5)) == 27  # in the holiday week
    assert d.working_days_left(date(2025, 11, 13)) == 0
    assert d.working_days_left(date(2025, 11, 14)) == -1
    assert count_working_days(date(2025, 9, 30), date(2025, 10, 8)) == 0


def test_a_year_without_official_data_is_provisional() -> None:
    _first, last = calendar_years()
    start = date(last, 12, 31)
    d = add_working_days(start, 5)
    assert d.provisional
    # weekdays stand in for working days
    assert all(is_working_day(x)[1] is False for x in (date(last + 1, 1, 1), date(last + 1, 1, 2)))
    assert d.due.weekday() < 5
    assert count_working_days(start, d.due) == 5


def test_the_day_is_the_day_in_china() -> None:
    # 17:00 UTC on 30 September is 01:00 on 1 October in Beijing.
    assert china_date(datetime(2025, 9, 30, 17, 0, tzinfo=UTC)) == date(2025, 10, 1)
    assert china_date(datetime(2025, 9, 30, 15, 59)) == date(2025, 9, 30)  # naive = UTC


def test_a_period_must_be_positive() -> None:
    with pytest.raises(InvalidInput):
        add_working_days(date(2025, 1, 1), 0)
