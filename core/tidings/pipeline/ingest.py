"""Ingest: one event through every enabled rule's trigger, and the intents it returns applied to the store.

Idempotent: an event id seen before is ignored, and replaying an event's intents (a worker died
before marking it seen) writes the same pending messages again. One client's events are planned one
at a time, whichever workers take them, because a trigger reads the store (repeat-visit: the pending
invitation, the client's other bookings) and then writes it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
from attrs import define

from tidings.errors import EventError
from tidings.logging import get_logger
from tidings.models import KINDS, VERBS, Event, subject_from_dict, subject_to_dict
from tidings.pipeline.history import StoreHistory
from tidings.pipeline.keys import event_order, event_position, idempotency_key, slot_key
from tidings.plugin_types import Drop, Restore, Send, Skip, Suspend
from tidings.store.records import Dropped, EventRef, Ignored, PendingMessage, Planned

if TYPE_CHECKING:
    from tidings.clock import Clock
    from tidings.intake import EventReader
    from tidings.pipeline.deliverylog import DeliveryLog
    from tidings.plugin_types import Intent, Trigger
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
                    reacted = self._apply(intent, event, rule) or reacted
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

    def _apply(self, intent: Intent, event: Event, rule: Rule) -> bool:
        """Apply one intent to the store; returns whether it changed or recorded anything."""
        subject = event.subject
        slot = slot_key(rule, getattr(intent, "scope", None) or f"subject:{subject.id}")
        decided = Planned(rule=rule.id, subject=subject.id, client=subject.client.id if subject.client else None,
                          event=event.id, at=self.clock.now(), status="skipped", reason=intent.reason)
        if isinstance(intent, Skip):
            self.deliverylog.record(decided)
            return True
        existing = self.store.pending(slot)
        if existing is not None and existing.subject == subject.id and \
                event_position(existing.event.occurred_at, existing.event.type, existing.event.id) > \
                event_position(event.occurred_at, event.type, event.id):
            # an older event of this subject arriving late never overwrites what a later one planned
            log.info("intent_superseded", rule=rule.id, subject=subject.id, event_id=event.id,
                     reason=f"planned_by_{existing.event.id}")
            return False
        if isinstance(intent, Send):
            return rule.applies_to(subject.location) and self._send(intent, event, rule, slot, existing, decided)
        if existing is None:
            return False
        decided = attrs.evolve(decided, subject=existing.subject)
        if isinstance(intent, Drop):
            if self.store.drop(slot) is None:
                return False
            self.deliverylog.record(Dropped(rule=rule.id, subject=existing.subject, client=decided.client,
                                            event=event.id, at=decided.at, reason=intent.reason, due=existing.send_at))
        elif isinstance(intent, Suspend) and not existing.suspended:
            self.store.schedule(slot, send_at=None, message=attrs.evolve(existing, suspended=True))
            self.deliverylog.record(attrs.evolve(decided, status="suspended"))
        elif isinstance(intent, Restore) and existing.suspended:
            send_at = self._opening(rule, existing.location, max(existing.planned, decided.at))
            self.store.schedule(slot, send_at=send_at, message=attrs.evolve(existing, suspended=False))
            self.deliverylog.record(attrs.evolve(decided, status="restored", due=send_at))
        else:
            return False
        return True

    def _send(self, intent: Send, event: Event, rule: Rule, slot: str, existing: PendingMessage | None,
              decided: Planned) -> bool:
        subject = event.subject
        zone = self.config.zone(subject.location)
        send_at = rule.delay.after(intent.due, zone)
        nominal = rule.delay.after(intent.intended or intent.due, zone)
        key = idempotency_key(rule.id, subject.id, rule.recipient, nominal)
        if self.store.was_sent(key):
            # the same intent went out before (a visit moved back to its first time): never twice
            if existing is not None:
                self.store.drop(slot)
            self.deliverylog.record(attrs.evolve(decided, reason="already_sent"))
            return True
        planned = self._opening(rule, subject.location, send_at)
        message = PendingMessage(
            rule=rule.id, subject=subject.id, kind=event.kind, location=subject.location, recipient=rule.recipient,
            due=nominal, planned=planned, key=key, suspended=intent.suspended, info=dict(intent.info),
            services=intent.services, event=EventRef(id=event.id, type=event.type, occurred_at=event.occurred_at),
            previous=event.previous)
        if existing is not None and _same_plan(existing, message):
            return False   # nothing changed for this message (a status change that does not move it)
        self.store.schedule(slot, send_at=None if intent.suspended else planned, message=message)
        status = "rescheduled" if existing is not None else "scheduled"
        self.deliverylog.record(attrs.evolve(decided, status=status, reason=intent.reason, due=planned))
        if intent.suspended:
            self.deliverylog.record(attrs.evolve(decided, status="suspended", reason=intent.reason))
        return True

    def _opening(self, rule: Rule, location_id: str | None, moment: datetime) -> datetime:
        """`moment`, or the next opening of the location when the rule keeps to working hours."""
        location = self.config.location(location_id)
        if rule.working_hours and location.hours is not None:
            return location.hours.next_open(moment, self.config.zone(location_id))
        return moment


def _same_plan(old: PendingMessage, new: PendingMessage) -> bool:
    return (old.subject, old.due, old.planned, old.suspended, old.info, old.services) == \
        (new.subject, new.due, new.planned, new.suspended, new.info, new.services)
