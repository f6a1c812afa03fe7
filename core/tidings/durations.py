"""Durations of rules (PRODUCT §4): minutes and hours elapse, days, weeks and months are calendar days."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from attrs import frozen

_PATTERN = re.compile(r"^\s*(\d+)\s*(mo|m|h|d|w)\s*$")
_DAYS = {"d": 1, "w": 7, "mo": 30}   # a month is 30 days (PRODUCT §4)
HINT = "use a number followed by m, h, d, w or mo (like 30m, 24h, 2w, 3mo)"


@frozen
class Duration:
    """A rule's duration: `amount` of `unit` (m, h, d, w, mo)."""

    amount: int
    unit: str

    @classmethod
    def parse(cls, text: object) -> Duration:
        """Parse "24h", "2w", "3mo"; raises ValueError naming the value and the way out."""
        if isinstance(text, Duration):
            return text
        match = _PATTERN.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"{text!r} is not a duration: {HINT}")
        return cls(int(match.group(1)), match.group(2))

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    @property
    def is_calendar(self) -> bool:
        return self.unit in _DAYS

    def elapsed(self) -> timedelta:
        """The duration as elapsed time (for m and h exact; for calendar units, nominal days)."""
        if self.unit == "m":
            return timedelta(minutes=self.amount)
        if self.unit == "h":
            return timedelta(hours=self.amount)
        return timedelta(days=self.amount * _DAYS[self.unit])

    def after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """`moment` plus this duration; calendar units keep the local time of day in `zone`."""
        return self._shift(moment, zone, 1)

    def before(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """`moment` minus this duration; calendar units keep the local time of day in `zone`."""
        return self._shift(moment, zone, -1)

    def _shift(self, moment: datetime, zone: ZoneInfo, sign: int) -> datetime:
        if not self.is_calendar:
            return (moment.astimezone(timezone.utc) + sign * self.elapsed()).astimezone(zone)
        local = moment.astimezone(zone).replace(tzinfo=None) + sign * self.elapsed()
        return localize(local, zone)


def not_zero(why: str) -> Callable[[Any, Any, Duration], None]:
    """An attrs validator refusing a zero duration (``"0d"``) where it means nothing, saying `why`.

    The error names the key (cattrs reports it under the attribute), the value and the reason:
    ``rules[3] (repeat).after: '0d' is zero: an invitation to come back at the visit itself ...``.
    """
    def validate(_: Any, attribute: Any, value: Duration) -> None:
        if isinstance(value, Duration) and value.amount == 0:
            raise ValueError(f"{str(value)!r} is zero: {why}; use a positive duration", attribute)
    return validate


def localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """Attach `zone` to a local wall time; a time in a spring-forward gap moves forward by the gap."""
    aware = naive.replace(tzinfo=zone, fold=0)
    # a wall time that does not exist comes back different from a UTC round trip
    round_trip = aware.astimezone(timezone.utc).astimezone(zone)
    # (fold=0 reads a gap time with the offset before the change, so the round trip lands after the gap)
    return round_trip if round_trip.replace(tzinfo=None) != naive else aware
