"""Ingest: one event through every enabled rule's trigger, and the intents it returns applied to the store.

Idempotent: an event id seen before is ignored, and replaying an event's intents (a worker died
before marking it seen) writes the same pending messages again. One client's events are planned one
at a time, whichever workers take them, because a trigger reads the store (repeat-visit: the pending
invitation, the client's other bookings) and then writes it. An event is one round trip to read and
one to write (`tidings.pipeline.plan`), plus one per sent-key check of a message it plans.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from attrs import define

from tidings.errors import EventError
from tidings.logging import get_logger
from tidings.models import KINDS, VERBS, Event, subject_from_dict, subject_to_dict
from tidings.pipeline.history import StoreHistory
from tidings.pipeline.intents import Intents
from tidings.pipeline.keys import event_order, slot_key
from tidings.pipeline.plan import Plan
from tidings.store.entries import Ignored

if TYPE_CHECKING:
    from tidings.clock import Clock
    from tidings.intake import EventReader
    from tidings.pipeline.deliverylog import DeliveryLog
    from tidings.plugin_types import Trigger
    from tidings.rules import Config, Rule
    from tidings.store import ScheduleStore
    from tidings.store.plan import PlanState

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
        """Run every enabled rule's trigger on a read event and apply its intents.

        The store is read once up front and written once at the end (`tidings.pipeline.plan`), under the
        client's planning lock; the log entries are announced once they are stored.
        """
        subject = event.subject
        client = subject.client.id if subject.client else None
        owner = f"ingest:client:{client}" if client else f"ingest:subject:{subject.id}"
        rules = [rule for rule in self.config.rules if rule.enabled and rule.kind == event.kind]
        scopes = [f"subject:{subject.id}", *([f"client:{client}"] if client else [])]
        slots = [slot_key(r, scope) for r in rules for scope in scopes]
        sent: set[str] = set()
        while True:
            plan = Plan(self.store, self._begin(owner, event, slots, client), sent=frozenset(sent))
            deferred = self.deliverylog.deferred(plan)
            try:
                self._plan(event, rules, plan, deferred)
            except BaseException:
                self.store.release(owner)   # nothing of a plan that failed half-way is written
                raise
            plan.release(owner)
            found = self.store.apply_plan(plan.ops)
            if not found:
                break
            sent |= found   # a message it planned was sent before: nothing was written, plan again knowing it
        for entry in deferred.held or ():
            self.deliverylog.announce(entry)

    def _plan(self, event: Event, rules: list[Rule], plan: Plan, deferred: DeliveryLog) -> None:
        subject = event.subject
        if plan.state.seen:
            log.info("event_ignored", event_id=event.id, reason="duplicate_event")
            return
        newer = None
        if not plan.put_subject(event.kind, subject_to_dict(subject), occurred_at=event.occurred_at,
                                order=event_order(event.type, event.id)):
            # a later event of this subject was ingested first (two workers took them in the other order):
            # triggers see the stored snapshot as the subject's state, and the core keeps what it planned
            stored = plan.subject(subject.id)
            newer = subject_from_dict(stored["subject"]) if stored is not None else None
            log.info("event_out_of_order", event_id=event.id, subject=subject.id, reason="newer_snapshot_stored")
        history = StoreHistory(plan, self.config, self.rules, newer=newer)
        intents = Intents(self.config, plan, self.clock, deferred)
        reacted = False
        for rule in rules:
            for intent in self.triggers[rule.trigger].plan(event, rule, history):
                reacted = intents.apply(intent, event, rule) or reacted
        if not reacted and (event.kind not in KINDS or event.verb not in VERBS):
            # accepted for third-party triggers, but a typo such as appointment.canceled shows in --explain
            deferred.record(Ignored(subject=subject.id, event=event.id, type=event.type,
                                    client=subject.client.id if subject.client else None, at=self.clock.now()))
        # marked last: a crash before the plan is written replays the event, and replaying intents is harmless
        plan.add_event(event.id)

    def _begin(self, owner: str, event: Event, slots: list[str], client: str | None) -> PlanState:
        """Take the planning lock and read the plan's state; the lock lapses after the lease, so a worker that
        died holding it does not block."""
        lease = self.config.tidings.lease.elapsed()
        waited = 0.0
        while True:
            state = self.store.begin_plan(owner, ttl=lease, event_id=event.id, subject_id=event.subject.id,
                                          slots=slots, client_id=client)
            if state is not None:
                return state
            if waited > lease.total_seconds():
                raise TimeoutError(f"{owner} stayed locked for {waited:.0f} s")   # Dramatiq retries the event later
            time.sleep(0.005)
            waited += 0.005
