"""Dispatch: a claimed slot, if still current and still due, delivered once; and giving up on one.

Idempotent: a dispatch carries the slot's version at its claim, and a stale one (the message was
rescheduled, dropped, suspended or claimed again since) does nothing; a message whose idempotency key
was sent is never sent again; and a lock on the key keeps two workers from sending one message at once.

A transient failure holds the slot for the retry (`tidings.pipeline.retries.retry_hold`), so no
scheduler claims it while its retry waits in the broker, until the message's deadline; then it is
recorded as failed with reason ``provider_unavailable``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from attrs import define

from tidings.logging import get_logger
from tidings.models import Subject, subject_from_dict
from tidings.pipeline.retries import DeliveryRetry, Failure, deadline, retry_hold
from tidings.store.entries import Outcome
from tidings.store.records import PendingMessage

if TYPE_CHECKING:
    from datetime import datetime

    from tidings.clock import Clock
    from tidings.pipeline.delivery import Delivery
    from tidings.pipeline.deliverylog import DeliveryLog
    from tidings.plugin_types import Trigger
    from tidings.rules import Config, Rule
    from tidings.store import ScheduleStore

__all__ = ["SENDING_LOCK", "Dispatch"]

# how long one worker keeps a message to itself while sending it: one attempt through its channels
# (a transport's timeout is 10 s by default); a worker that died sending it holds it no longer than this
SENDING_LOCK = timedelta(seconds=15)

log = get_logger("tidings.pipeline")


@define
class Dispatch:
    """Checks a due message against the store and hands it to the delivery; the dispatch actor's body."""

    config: Config
    rules: Mapping[str, Rule]
    triggers: Mapping[str, Trigger]
    store: ScheduleStore
    clock: Clock
    deliverylog: DeliveryLog
    delivery: Delivery

    def __call__(self, slot: str, version: int, skip: Collection[str] = ()) -> None:
        """Deliver one claimed message if it is still current; raises `DeliveryRetry` to be retried.

        Args:
            skip: channels given up on by an earlier dispatch of this message (their retries ran out).
        """
        pending = self._current(slot, version)
        if pending is None:
            return
        now = self.clock.now()
        snapshot = self.store.subject(pending.subject)
        subject = subject_from_dict(snapshot["subject"]) if snapshot is not None else None
        reason = self._not_due_reason(pending, subject)
        if reason is not None or subject is None:
            self.deliverylog.record(self._outcome(pending, subject, now, status="skipped", reason=reason or "unknown_subject"))
            self.store.complete(slot, version)
            return
        lock = f"sending:{pending.key}"
        if not self.store.acquire(lock, ttl=min(SENDING_LOCK, self.config.tidings.lease.elapsed())):
            # another worker is sending this very message, or died sending it (its message was requeued
            # to us): look again once its lock may have lapsed; if it was sent by then, nothing is done
            raise DeliveryRetry(Failure(reason="in_progress", error="another worker holds this message"),
                                retry_after=2.0)
        try:
            self.delivery.deliver(pending, subject, now=now, skip=skip)
        except DeliveryRetry as retry:
            self.store.release(lock)
            failure = retry.failure
            if failure.channel is None and now >= deadline(pending, subject):
                # an outage longer than the message is worth: recorded, never dropped silently
                log.error("delivery_abandoned", rule=pending.rule, subject=pending.subject, reason="provider_unavailable",
                          error=failure.error)
                self.deliverylog.record(self._outcome(pending, subject, now, status="failed", reason="provider_unavailable",
                                                      error=failure.error, details={"last_reason": failure.reason}))
                self.store.complete(slot, version)
                return
            # no scheduler claims the slot while its retry waits in the broker
            self.store.hold([(slot, version)], until=now + retry_hold(retry, self.config.tidings.lease.elapsed()))
            log.warning("delivery_retried", rule=pending.rule, subject=pending.subject, reason=failure.reason,
                        error=failure.error)
            raise
        self.store.complete(slot, version)
        self.store.release(lock)

    def give_up(self, slot: str, version: int, failure: Failure, skip: Collection[str] = ()) -> tuple[str, ...] | None:
        """Record a message whose retries ran out; returns the channels to skip when the next one is to be tried.

        A transport's unclassified failure (`failure.channel`) gives up that channel only: the caller
        dispatches the message again without it. Any other failure is the message's: it is recorded
        as failed and nothing is pending any more.
        """
        pending = self._current(slot, version)
        if pending is None:
            return None
        snapshot = self.store.subject(pending.subject)
        subject = subject_from_dict(snapshot["subject"]) if snapshot is not None else None
        self.deliverylog.record(self._outcome(pending, subject, self.clock.now(), status="failed", channel=failure.channel,
                                              to=failure.to, reason=failure.reason, error_type=failure.error_type,
                                              error=failure.error))
        if failure.channel is not None:
            # a later dispatch of this message does not try that channel again for that address
            self.store.refuse(pending.key, failure.channel, failure.to or "")
            return (*skip, failure.channel)
        self.store.complete(slot, version)
        return None

    def _current(self, slot: str, version: int) -> PendingMessage | None:
        """The pending message of `slot` at `version`, unless it changed, is suspended or was sent."""
        pending = self.store.pending(slot)
        if pending is None or pending.version != version or pending.suspended:
            return None   # replaced, dropped or suspended since it was claimed
        if self.store.was_sent(pending.key):
            self.store.complete(slot, version)
            return None
        return pending

    def _not_due_reason(self, pending: PendingMessage, subject: Subject | None) -> str | None:
        """Why a message is no longer to be sent at its time, or None."""
        rule = self.rules.get(pending.rule)
        if rule is None:
            return "rule_removed"
        if not rule.enabled:
            return "rule_disabled"
        if subject is None:
            return "unknown_subject"
        # mute is read from the latest snapshot, also at due time (PRODUCT §3)
        if subject.mutes(rule.id, recipient=rule.recipient):
            return "muted"
        trigger = self.triggers.get(rule.trigger)
        if trigger is not None and trigger.still_due is not None:
            return trigger.still_due(subject, rule, pending.view())
        return None

    @staticmethod
    def _outcome(pending: PendingMessage, subject: Subject | None, now: datetime, **fields: Any) -> Outcome:
        return Outcome(rule=pending.rule, subject=pending.subject, event=pending.event.id, at=now, key=pending.key,
                       client=subject.client.id if subject is not None and subject.client else None, **fields)
