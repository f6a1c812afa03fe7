from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tidings.errors import InvalidValue
from tidings.hours import WeekHours

WARSAW = ZoneInfo("Europe/Warsaw")
SALON = WeekHours.parse({"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-13:00,14:00-18:00",
                         "thu": "09:00-18:00", "fri": "09:00-18:00", "sat": "10:00-14:00"})


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=WARSAW)


def test_a_time_within_the_hours_is_kept() -> None:
    assert SALON.next_open(at(2026, 3, 2, 10, 15), WARSAW) == at(2026, 3, 2, 10, 15)


def test_a_time_before_opening_moves_to_the_opening_of_that_day() -> None:
    assert SALON.next_open(at(2026, 3, 2, 7, 0), WARSAW) == at(2026, 3, 2, 9, 0)


def test_a_lunch_break_moves_to_the_afternoon_interval() -> None:
    assert SALON.next_open(at(2026, 3, 4, 13, 20), WARSAW) == at(2026, 3, 4, 14, 0)


def test_closing_time_itself_is_outside_the_hours() -> None:
    assert SALON.next_open(at(2026, 3, 2, 18, 0), WARSAW) == at(2026, 3, 3, 9, 0)


def test_saturday_afternoon_moves_over_the_closed_sunday_across_the_spring_change() -> None:
    # Saturday 28 March 2026, 14:30 (+01:00) -> Monday 30 March 09:00 (+02:00)
    opened = SALON.next_open(at(2026, 3, 28, 14, 30), WARSAW)
    assert opened == at(2026, 3, 30, 9, 0)
    assert opened.utcoffset().total_seconds() == 7200


def test_a_time_in_another_zone_is_judged_in_the_location_zone() -> None:
    utc_evening = datetime(2026, 3, 2, 17, 30, tzinfo=ZoneInfo("UTC"))   # 18:30 in Warsaw: closed
    assert SALON.next_open(utc_evening, WARSAW) == at(2026, 3, 3, 9, 0)


@pytest.mark.parametrize(("table", "message"), [
    ({"mon": "9-18"}, "mon: '9-18' is not an interval"),
    ({"mon": "18:00-09:00"}, "ends before it starts"),
    ({"mon": "09:00-13:00,12:00-18:00"}, "overlaps"),
    ({"monday": "09:00-18:00"}, "unknown day 'monday'"),
    ({"mon": "09:00-25:00"}, "impossible time"),
])
def test_bad_hours_are_errors_naming_the_day_and_value(table: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WeekHours.parse(table)


def test_a_day_open_until_midnight() -> None:
    late = WeekHours.parse({"fri": "20:00-24:00"})
    assert late.next_open(at(2026, 3, 6, 23, 59), WARSAW) == at(2026, 3, 6, 23, 59)
    assert late.next_open(at(2026, 3, 7, 0, 0), WARSAW) == at(2026, 3, 13, 20, 0)


def test_every_bad_day_and_interval_is_reported_at_once_under_its_day() -> None:
    with pytest.raises(InvalidValue) as caught:
        WeekHours.parse({"mon": "9-18", "tue": "18:00-09:00,10:00-11:00,10:30-12:00", "monday": "09:00-18:00",
                         "wed": "09:00-25:00", "sat": "10:00-14:00"})
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("monday", "unknown day 'monday' (choose from: mon, tue, wed, thu, fri, sat, sun)"),
        ("mon", "'9-18' is not an interval like \"09:00-18:00\""),
        ("tue", "'18:00-09:00' ends before it starts"),
        ("tue", "'10:30-12:00' overlaps or precedes the interval before it"),
        ("wed", "'09:00-25:00' has an impossible time"),
    ]
