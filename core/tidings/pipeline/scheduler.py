"""The scheduler's step: claim the pending messages that are due, and hand them to dispatch in batches.

Reminders may be due months ahead, so they wait in the schedule store, not in the broker (PRODUCT
§8). A claim leases each slot instead of removing it: a scheduler that dies between claiming and
handing over loses nothing, the slot comes due again when the lease runs out. Any number of
schedulers may claim at once; the store hands each (slot, version) to one of them.

The claimed slots go to dispatch `batch` at a time (one Dramatiq message each, not one per slot),
so a worker delivers a batch concurrently, and the broker carries a fraction of the messages. A
batch is no weaker than single messages: each of its slots is checked on its own (its version, its
sent key, its sending lock), and a batch that is lost or half done comes back with its lease.

The lease is taken in two steps, so a dead scheduler gives its slots back within seconds: the claim
holds the slots for `IN_HAND` only (renewed while a large batch is being handed over), and once a
slot is with the broker its hold becomes the configured lease, which covers the wait in the queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from attrs import define

if TYPE_CHECKING:
    from tidings.clock import Clock
    from tidings.store import ScheduleStore

__all__ = ["BATCH", "IN_HAND", "Scheduler"]

BATCH = 50   # claimed slots per dispatch message: enough for a worker's concurrency, few enough to spread over workers
IN_HAND = timedelta(seconds=10)   # how long claimed slots are held before they are with the broker


@define
class Scheduler:
    """Moves due messages from the store to their dispatch, in batches."""

    store: ScheduleStore
    clock: Clock
    lease: timedelta
    # the dispatch actor's `send` of a batch of (slot, version), or the dispatch itself (no broker)
    hand_over: Callable[[Sequence[tuple[str, int]]], None]
    batch: int = BATCH

    def enqueue_due(self, *, limit: int = 500) -> int:
        """Claim up to `limit` due messages and hand them over, `batch` at a time; returns how many."""
        in_hand = min(IN_HAND, self.lease)
        claimed = self.store.claim_due(self.clock.now(), limit=limit, lease=in_hand)
        renew_at = time.monotonic() + in_hand.total_seconds() / 2
        for start in range(0, len(claimed), self.batch):
            if time.monotonic() >= renew_at:   # a slow handover: the slots still in hand stay claimed
                self.store.hold(claimed[start:], until=self.clock.now() + in_hand)
                renew_at = time.monotonic() + in_hand.total_seconds() / 2
            self.hand_over(claimed[start:start + self.batch])
        if claimed:
            self.store.hold(claimed, until=self.clock.now() + self.lease)
        return len(claimed)
