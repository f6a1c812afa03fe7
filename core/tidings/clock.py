"""Time is injected: code asks a Clock for now, so simulate and tests run on a virtual clock."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol

from attrs import define


class Clock(Protocol):
    """Tells the current time, always aware."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@define
class VirtualClock:
    """A clock that stands still until told to move (simulate, tests)."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a virtual clock takes aware times only")
        self.current = moment
