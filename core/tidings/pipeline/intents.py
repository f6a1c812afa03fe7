"""A trigger's intents applied to the store: Send, Drop, Suspend, Restore and Skip become pending messages and log entries.

Each intent names a slot (a rule, a scope, a recipient role). Applying one again writes the same
pending message again, so an event replayed after a crash changes nothing; and an older event of a
subject that arrives after a later one never overwrites what the later one planned.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import attrs
from attrs import define

from tidings.logging import get_logger
from tidings.pipeline.keys import event_position, idempotency_key, slot_key
from tidings.plugin_types import Drop, Restore, Send, Skip, Suspend
from tidings.store.entries import Dropped, Planned
from tidings.store.records import EventRef, PendingMessage

if TYPE_CHECKING:
    from tidings.clock import Clock
    from tidings.models import Event
    from tidings.pipeline.deliverylog import DeliveryLog
    from tidings.plugin_types import Intent
    from tidings.rules import Config, Rule
    from tidings.store import ScheduleStore

__all__ = ["Intents"]

log = get_logger("tidings.pipeline")


@define
class Intents:
    """Applies intents to one store, recording each decision in the delivery log."""

    config: Config
    store: ScheduleStore
    clock: Clock
    deliverylog: DeliveryLog

    def apply(self, intent: Intent, event: Event, rule: Rule) -> bool:
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
        if nominal < event.occurred_at - self.config.tidings.retention.elapsed():
            # for a time further back than the retention: its sent key may be forgotten, so it is never planned
            # (why: tidings.store)
            if existing is not None:
                self.store.drop(slot)
            self.deliverylog.record(attrs.evolve(decided, reason="beyond_retention"))
            return True
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
