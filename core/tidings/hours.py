"""Opening hours of a location and the next opening after a moment, in the location's zone."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from attrs import frozen

from tidings.durations import localize
from tidings.errors import InvalidValue, Problem

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@frozen
class WeekHours:
    """Opening intervals per weekday (0 = Monday); an absent day is closed."""

    days: tuple[tuple[tuple[time, time | None], ...], ...]   # end None means midnight (24:00)

    @classmethod
    def parse(cls, table: object) -> WeekHours:
        """Parse {mon = "09:00-13:00,14:00-18:00", ...}.

        Raises:
            InvalidValue: a ValueError listing every bad day and interval at once, each under its
                day (``mon``: ``'9-18' is not an interval ...``), so that one run of `tidings check`
                shows them all.
        """
        if not isinstance(table, dict):
            raise ValueError(f"{table!r} is not a table of days (like {{ mon = \"09:00-18:00\" }})")
        problems = [Problem(str(day), f"unknown day {day!r} (choose from: {', '.join(DAYS)})")
                    for day in table if day not in DAYS]
        days = []
        for day in DAYS:
            spec = table.get(day)
            intervals, found = ((), []) if spec is None else _parse_day(spec)
            problems.extend(Problem(day, message) for message in found)
            days.append(intervals)
        if problems:
            raise InvalidValue(problems)
        return cls(tuple(days))

    def next_open(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """`moment` if the location is open then, else the start of the next opening."""
        if not any(self.days):
            return moment
        local = moment.astimezone(zone)
        for offset in range(0, 8):
            day = (local + timedelta(days=offset)).date() if offset else local.date()
            for start, end in self.days[day.weekday()]:
                opens = localize(datetime.combine(day, start), zone)
                closes = (localize(datetime.combine(day + timedelta(days=1), time(0)), zone) if end is None
                          else localize(datetime.combine(day, end), zone))
                if local < opens:
                    return opens
                if local < closes:
                    return moment.astimezone(zone)
        raise AssertionError("a week with an opening always has a next opening")


def _parse_day(spec: object) -> tuple[tuple[tuple[time, time | None], ...], list[str]]:
    """One day's intervals, and what is wrong with each bad one (every one, not the first)."""
    if not isinstance(spec, str) or not spec.strip():
        return (), [f"{spec!r} is not opening hours (like \"09:00-18:00\" or \"09:00-13:00,14:00-18:00\")"]
    out: list[tuple[time, time | None]] = []
    problems: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        match = _INTERVAL.match(part)
        if not match:
            problems.append(f"{part!r} is not an interval like \"09:00-18:00\"")
            continue
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            problems.append(f"{part!r} has an impossible time")
            continue
        start, end = time(h1, m1), (None if h2 == 24 else time(h2, m2))
        if end is not None and end <= start:
            problems.append(f"{part!r} ends before it starts")
            continue
        if out and (out[-1][1] is None or start < out[-1][1]):
            problems.append(f"{part!r} overlaps or precedes the interval before it")
            continue
        out.append((start, end))
    return tuple(out), problems
