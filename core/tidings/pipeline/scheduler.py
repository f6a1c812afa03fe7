"""The scheduler's step: claim the pending messages that are due, and hand each to a dispatch.

Reminders may be due months ahead, so they wait in the schedule store, not in the broker (PRODUCT
§8). A claim leases each slot instead of removing it: a scheduler that dies between claiming and
handing over loses nothing, the slot comes due again when the lease runs out. Any number of
schedulers may claim at once; the store hands each (slot, version) to one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from attrs import define

if TYPE_CHECKING:
    from tidings.clock import Clock
    from tidings.store import ScheduleStore

__all__ = ["Scheduler"]


@define
class Scheduler:
    """Moves due messages from the store to their dispatch."""

    store: ScheduleStore
    clock: Clock
    lease: timedelta
    dispatch: Callable[[str, int], None]    # the dispatch actor's `send`, or the dispatch itself (no broker)

    def enqueue_due(self, *, limit: int = 500) -> int:
        """Claim up to `limit` due messages and hand each to a dispatch; returns how many."""
        claimed = self.store.claim_due(self.clock.now(), limit=limit, lease=self.lease)
        for slot, version in claimed:
            self.dispatch(slot, version)
        return len(claimed)
