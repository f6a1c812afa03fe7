"""Ingest: one event through every enabled rule's trigger, and the intents it returns applied to the store.

Idempotent: an event id seen before is ignored, and replaying an event's intents (a worker died
before marking it seen) writes the same pending messages again. One client's events are planned one
at a time, whichever workers take them, because a trigger reads the store (repeat-visit: the pending
invitation, the client's other bookings) and then writes it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from attrs import Factory, define, field

from tidings.errors import EventError
from tidings.logging import get_logger
from tidings.models import KINDS, VERBS, Event, subject_from_dict, subject_to_dict
from tidings.pipeline.history import StoreHistory
from tidings.pipeline.intents import Intents
from tidings.pipeline.keys import event_order
from tidings.store.entries import Ignored

if TYPE_CHECKING:
    from tidings.clock import Clock
    from tidings.intake import EventReader
    from tidings.pipeline.deliverylog import DeliveryLog
    from tidings.plugin_types import Trigger
    from tidings.rules import Config, Rule
    from tidings.store import ScheduleStore

__all__ = ["Ingest"]

log = get_logger("tidings.pipeline")


@define
class Ingest:
    """Plans events against one configuration and store; the body of the ingest actor."""

    config: Config
    rules: Mapping[str, Rule]
    triggers: Mapping[str, Trigger]
    store: ScheduleStore
    clock: Clock
    deliverylog: DeliveryLog
    reader: EventReader
    intents: Intents = field(default=Factory(
        lambda self: Intents(self.config, self.store, self.clock, self.deliverylog), takes_self=True))

    def __call__(self, raw: Mapping[str, Any]) -> None:
        """Read one event (as the actor carries it) and plan it; a malformed one is logged and dropped."""
        try:
            event = self.reader.read(raw)
        except EventError as e:
            # a malformed event is reported and dropped: it never blocks the events after it
            log.error("event_rejected", event_id=e.event_id, field=e.field, reason=str(e))
            return
        self.plan(event)

    def plan(self, event: Event) -> None:
        """Run every enabled rule's trigger on a read event and apply its intents."""
        subject = event.subject
        owner = f"ingest:client:{subject.client.id}" if subject.client else f"ingest:subject:{subject.id}"
        self._lock(owner)
        try:
            if self.store.has_event(event.id):
                log.info("event_ignored", event_id=event.id, reason="duplicate_event")
                return
            newer = None
            if not self.store.put_subject(event.kind, subject_to_dict(subject), occurred_at=event.occurred_at,
                                          order=event_order(event.type, event.id)):
                # a later event of this subject was ingested first (two workers took them in the other order):
                # triggers see the stored snapshot as the subject's state, and the core keeps what it planned
                stored = self.store.subject(subject.id)
                newer = subject_from_dict(stored["subject"]) if stored is not None else None
                log.info("event_out_of_order", event_id=event.id, subject=subject.id, reason="newer_snapshot_stored")
            history = StoreHistory(self.store, self.config, self.rules, newer=newer)
            reacted = False
            for rule in self.config.rules:
                if not rule.enabled or rule.kind != event.kind:
                    continue
                for intent in self.triggers[rule.trigger].plan(event, rule, history):
                    reacted = self.intents.apply(intent, event, rule) or reacted
            if not reacted and (event.kind not in KINDS or event.verb not in VERBS):
                # accepted for third-party triggers, but a typo such as appointment.canceled shows in --explain
                self.deliverylog.record(Ignored(subject=subject.id, event=event.id, type=event.type,
                                                client=subject.client.id if subject.client else None, at=self.clock.now()))
            # marked last: a crash before this replays the event, and replaying intents is harmless
            self.store.add_event(event.id)
        finally:
            self.store.release(owner)

    def _lock(self, key: str) -> None:
        """Wait for a store lock; it lapses after the lease, so a worker that died holding it does not block."""
        lease = self.config.tidings.lease.elapsed()
        waited = 0.0
        while not self.store.acquire(key, ttl=lease):
            if waited > lease.total_seconds():
                raise TimeoutError(f"{key} stayed locked for {waited:.0f} s")   # Dramatiq retries the event later
            time.sleep(0.005)
            waited += 0.005
