"""French business days: weekends, public holidays, Alsace-Moselle."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from relance.calendar import BusinessCalendar, calendar_for, is_business_day, next_business_day

HOLIDAYS_2026 = [
    date(2026, 1, 1), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 8), date(2026, 5, 14),
    date(2026, 5, 25), date(2026, 7, 14), date(2026, 8, 15), date(2026, 11, 1), date(2026, 11, 11),
    date(2026, 12, 25),
]


@pytest.mark.parametrize("day", HOLIDAYS_2026)
def test_french_public_holidays_are_not_business_days(day: date) -> None:
    assert not is_business_day(day)


@pytest.mark.parametrize("day", [date(2026, 4, 3), date(2025, 12, 26)])   # a Friday each
def test_good_friday_and_26_december_only_in_alsace_moselle(day: date) -> None:
    assert is_business_day(day)
    for department in ("57", "67", "68"):
        assert not is_business_day(day, subdivision=department)


def test_alsace_moselle_holiday_sets() -> None:
    national = calendar_for("FR").holidays_in(2026)
    for department in ("57", "67", "68"):
        local = calendar_for("FR", department).holidays_in(2026)
        assert local - national == {date(2026, 4, 3), date(2026, 12, 26)}


def test_easter_monday_ascension_whit_monday_2026() -> None:
    assert next_business_day(date(2026, 4, 6)) == date(2026, 4, 7)
    assert next_business_day(date(2026, 5, 14)) == date(2026, 5, 15)
    assert next_business_day(date(2026, 5, 25)) == date(2026, 5, 26)


def test_weekends() -> None:
    assert not is_business_day(date(2026, 4, 11))   # Saturday
    assert not is_business_day(date(2026, 4, 12))   # Sunday
    assert is_business_day(date(2026, 4, 13))
    assert next_business_day(date(2026, 4, 11)) == date(2026, 4, 13)


def test_next_business_day_is_the_day_itself_on_a_business_day() -> None:
    assert next_business_day(date(2026, 4, 16)) == date(2026, 4, 16)


def test_holiday_then_weekend_chains() -> None:
    # Friday 1 May 2026 (Fête du Travail), then the weekend.
    assert next_business_day(date(2026, 5, 1)) == date(2026, 5, 4)
    # Friday 25 Dec 2026, Saturday 26 (a holiday in Alsace-Moselle only), Sunday.
    assert next_business_day(date(2026, 12, 25)) == date(2026, 12, 28)
    assert next_business_day(date(2026, 12, 24), subdivision="57") == date(2026, 12, 24)


def test_year_boundary() -> None:
    assert next_business_day(date(2026, 12, 31)) == date(2026, 12, 31)
    assert next_business_day(date(2027, 1, 1)) == date(2027, 1, 4)   # Friday holiday, then weekend


def test_settings_can_turn_skipping_off() -> None:
    everyday = BusinessCalendar("FR", skip_weekends=False, skip_holidays=False)
    assert everyday.is_business_day(date(2026, 5, 1))
    assert everyday.next_business_day(date(2026, 4, 11)) == date(2026, 4, 11)
    weekdays = calendar_for("FR", None, True, False)
    assert weekdays.is_business_day(date(2026, 5, 14))
    assert not weekdays.is_business_day(date(2026, 5, 16))


def test_calendar_for_is_shared() -> None:
    assert calendar_for("FR", "57") is calendar_for("FR", "57")


def test_fast_enough_for_the_hot_path() -> None:
    calendar = calendar_for()
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(730)]
    for day in days:
        calendar.next_business_day(day)
    start = time.perf_counter()
    for _ in range(100):
        for day in days:
            calendar.next_business_day(day)
            calendar.is_business_day(day)
    assert time.perf_counter() - start < 1.0    # 146,000 lookups
