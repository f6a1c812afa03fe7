from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tidings.durations import Duration

WARSAW = ZoneInfo("Europe/Warsaw")


def elapsed(earlier: datetime, later: datetime) -> timedelta:
    # aware datetimes sharing a tzinfo subtract as wall times: compare in UTC
    return later.astimezone(timezone.utc) - earlier.astimezone(timezone.utc)


@pytest.mark.parametrize(("text", "amount", "unit"), [("30m", 30, "m"), ("24h", 24, "h"), ("2d", 2, "d"),
                                                       ("2w", 2, "w"), ("3mo", 3, "mo"), (" 6mo ", 6, "mo")])
def test_durations_parse_a_number_and_a_unit(text: str, amount: int, unit: str) -> None:
    assert Duration.parse(text) == Duration(amount, unit)


@pytest.mark.parametrize("text", ["3 months", "24x", "h", "1.5h", "-2d", "", "3M", 24])
def test_anything_else_is_an_error_that_names_the_value(text: object) -> None:
    with pytest.raises(ValueError, match="is not a duration: use a number followed by m, h, d, w or mo"):
        Duration.parse(text)


def test_a_month_is_thirty_days() -> None:
    start = datetime(2026, 1, 31, 12, 0, tzinfo=WARSAW)
    assert Duration.parse("3mo").after(start, WARSAW) == datetime(2026, 5, 1, 12, 0, tzinfo=WARSAW)
    assert Duration.parse("6mo").elapsed() == timedelta(days=180)


def test_weeks_keep_the_local_time_across_daylight_saving() -> None:
    # Given a visit at 12:00 before the spring change in Warsaw (29 March 2026)
    visit = datetime(2026, 3, 20, 12, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
    # When it is followed 2w later
    later = Duration.parse("2w").after(visit, WARSAW)
    # Then it is 12:00 local again, which is one hour less of elapsed time
    assert later.astimezone(WARSAW).hour == 12
    assert elapsed(visit, later) == timedelta(days=14, hours=-1)


def test_hours_are_elapsed_time_across_daylight_saving() -> None:
    before_change = datetime(2026, 3, 28, 12, 0, tzinfo=WARSAW)
    later = Duration.parse("24h").after(before_change, WARSAW)
    assert elapsed(before_change, later) == timedelta(hours=24)
    assert later.astimezone(WARSAW).hour == 13


def test_calendar_days_are_counted_in_the_given_zone_not_the_offset_of_the_input() -> None:
    # 23:30 UTC is already the next day in Warsaw
    moment = datetime(2026, 7, 1, 23, 30, tzinfo=timezone.utc)
    assert Duration.parse("1d").after(moment, WARSAW) == datetime(2026, 7, 3, 1, 30, tzinfo=WARSAW)


def test_a_local_time_that_does_not_exist_moves_forward_by_the_gap() -> None:
    visit = datetime(2026, 3, 28, 2, 30, tzinfo=WARSAW)   # 29 March 02:30 does not exist in Warsaw
    later = Duration.parse("1d").after(visit, WARSAW)
    assert (later.hour, later.minute) == (3, 30)
    assert later.utcoffset() == timedelta(hours=2)


def test_before_subtracts_calendar_days_in_the_zone() -> None:
    visit = datetime(2026, 10, 25, 12, 0, tzinfo=WARSAW)   # the day of the autumn change, after it
    reminder = Duration.parse("1d").before(visit, WARSAW)
    assert reminder == datetime(2026, 10, 24, 12, 0, tzinfo=WARSAW)
    assert elapsed(reminder, visit) == timedelta(hours=25)
