"""The scheduler's step: claim the pending messages that are due, and hand each to a dispatch.

Reminders may be due months ahead, so they wait in the schedule store, not in the broker (PRODUCT
§8). A claim leases each slot instead of removing it: a scheduler that dies between claiming and
handing over loses nothing, the slot comes due again when the lease runs out. Any number of
schedulers may claim at once; the store hands each (slot, version) to one of them.

The lease is taken in two steps, so a dead scheduler gives its slots back within seconds: the claim
holds the slots for `IN_HAND` only (renewed while a large batch is being handed over), and once a
slot is with the broker its hold becomes the configured lease, which covers the wait in the queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from attrs import define

if TYPE_CHECKING:
    from tidings.clock import Clock
    from tidings.store import ScheduleStore

__all__ = ["IN_HAND", "Scheduler"]

IN_HAND = timedelta(seconds=10)   # how long claimed slots are held before they are with the broker


@define
class Scheduler:
    """Moves due messages from the store to their dispatch."""

    store: ScheduleStore
    clock: Clock
    lease: timedelta
    dispatch: Callable[[str, int], None]    # the dispatch actor's `send`, or the dispatch itself (no broker)

    def enqueue_due(self, *, limit: int = 500) -> int:
        """Claim up to `limit` due messages and hand each to a dispatch; returns how many."""
        in_hand = min(IN_HAND, self.lease)
        claimed = self.store.claim_due(self.clock.now(), limit=limit, lease=in_hand)
        renew_at = time.monotonic() + in_hand.total_seconds() / 2
        for i, (slot, version) in enumerate(claimed):
            if time.monotonic() >= renew_at:   # a slow handover: the slots still in hand stay claimed
                self.store.hold(claimed[i:], until=self.clock.now() + in_hand)
                renew_at = time.monotonic() + in_hand.total_seconds() / 2
            self.dispatch(slot, version)
        if claimed:
            self.store.hold(claimed, until=self.clock.now() + self.lease)
        return len(claimed)
