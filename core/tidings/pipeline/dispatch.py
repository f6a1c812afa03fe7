"""Dispatch: a claimed slot, if still current and still due, delivered once; and giving up on one.

Idempotent: a dispatch carries the slot's version at its claim, and a stale one (the message was
rescheduled, dropped, suspended or claimed again since) does nothing; a message whose idempotency key
was sent is never sent again; and a lock on the key keeps two workers from sending one message at once.

A transient failure holds the slot for the retry (`tidings.pipeline.retries.retry_hold`), so no
scheduler claims it while its retry waits in the broker, until the message's deadline; then it is
recorded as failed with reason ``provider_unavailable``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from attrs import define, field

from tidings.logging import get_logger
from tidings.models import Subject, subject_from_dict
from tidings.pipeline.delivery import Recorded
from tidings.errors import is_connection_error
from tidings.pipeline.retries import DeliveryRetry, Failure, deadline, retry_hold, unreachable
from tidings.store.dispatching import Claimed, Finish, begin, finish, sending_lock
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

__all__ = ["SENDING_LOCK", "Dispatch", "Runner"]

# how a batch's messages are delivered: ``map`` (one after another) or a thread pool's ``map``
Runner = Callable[[Callable[[Claimed], "tuple[Finish | None, BaseException | None]"], Iterable[Claimed]],
                  Iterator["tuple[Finish | None, BaseException | None]"]]

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
    _lookups: dict[str, str] | None = field(default=None, init=False)

    def __call__(self, slot: str, version: int, skip: Collection[str] = ()) -> None:
        """Deliver one claimed message if it is still current; raises `DeliveryRetry` to be retried.

        Args:
            skip: channels given up on by an earlier dispatch of this message (their retries ran out).
        """
        [claimed] = begin(self.store, [(slot, version)], lock_ttl=self._lock_ttl(), attempt=self._first_lookups())
        if claimed.unreachable is not None:
            raise claimed.unreachable
        outcome, error = self._run(claimed, skip)
        self._write([outcome] if outcome is not None else [])
        if error is not None:
            raise error

    def many(self, claims: Sequence[tuple[str, int]], *, run: Runner = map) -> list[tuple[str, int, DeliveryRetry]]:
        """Deliver a batch of claimed messages; returns those to be retried, each with its `DeliveryRetry`.

        The batch is read (and its sending locks taken) in one round trip before anything is sent, each
        message is delivered through `run` (a thread pool's ``map``: concurrently), and every outcome is
        written in one round trip once the batch is done. A message that fails for a reason that is not
        a delivery's (a bug in tidings itself) is logged and left to its lease, which brings it back to a
        scheduler, as for a worker that died.
        """
        try:
            claimed = begin(self.store, claims, lock_ttl=self._lock_ttl(), attempt=self._first_lookups())
        except Exception as e:
            if not is_connection_error(e):
                raise
            return [(slot, version, unreachable(e)) for slot, version in claims]   # nothing was done yet
        todo = [c for c in claimed if c.pending is not None]
        lost = [(c.slot, c.version, unreachable(c.unreachable)) for c in claimed if c.unreachable is not None]
        results = list(run(lambda c: self._run(c, ()), todo))
        try:
            self._write([outcome for outcome, _ in results if outcome is not None])
        except Exception as e:
            if not is_connection_error(e):
                raise
            # what was sent is found at the provider by its retry (its attempt was marked), or sent then
            return [(c.slot, c.version, unreachable(e)) for c in todo]
        retries = lost
        for (_, error), c in zip(results, todo):
            if isinstance(error, DeliveryRetry):
                retries.append((c.slot, c.version, error))
            elif error is not None and is_connection_error(error):
                retries.append((c.slot, c.version, unreachable(error)))
            elif error is not None:
                log.error("dispatch_failed", slot=c.slot, version=c.version, exc_info=error)
                if not isinstance(error, Exception):
                    raise error
        return retries

    def _run(self, claimed: Claimed, skip: Collection[str]) -> tuple[Finish | None, BaseException | None]:
        """Decide and deliver one claimed message: what to write, and the error to raise (a `DeliveryRetry`) if any."""
        pending, slot, version = claimed.pending, claimed.slot, claimed.version
        if pending is None:
            return None, None   # replaced, dropped, suspended or sent since it was claimed
        now = self.clock.now()
        lock = sending_lock(pending.key) if claimed.locked else None
        try:
            snapshot = claimed.snapshot
            subject = subject_from_dict(snapshot["subject"]) if snapshot is not None else None
            reason = self._not_due_reason(pending, subject)
        except BaseException as e:
            return Finish(slot, version, release=lock), e
        if reason is not None or subject is None:
            skipped = self._outcome(pending, subject, now, status="skipped", reason=reason or "unknown_subject")
            return Finish(slot, version, [skipped], complete=True, release=lock), None
        if lock is None:
            # another worker is sending this very message, or died sending it (its message was requeued
            # to us): look again once its lock may have lapsed; if it was sent by then, nothing is done
            return None, DeliveryRetry(Failure(reason="in_progress", error="another worker holds this message"),
                                       retry_after=2.0)
        recorded = Recorded()
        try:
            self.delivery.deliver(pending, subject, now=now, skip=skip, into=recorded, refused=claimed.refused,
                                  attempted=claimed.attempted)
        except DeliveryRetry as retry:
            failure = retry.failure
            if failure.channel is None and now >= deadline(pending, subject):
                # an outage longer than the message is worth: recorded, never dropped silently
                log.error("delivery_abandoned", rule=pending.rule, subject=pending.subject, reason="provider_unavailable",
                          error=failure.error)
                recorded.record(self._outcome(pending, subject, now, status="failed", reason="provider_unavailable",
                                              error=failure.error, details={"last_reason": failure.reason}))
                return self._finish(slot, version, recorded, complete=True, release=lock), None
            log.warning("delivery_retried", rule=pending.rule, subject=pending.subject, reason=failure.reason,
                        error=failure.error)
            # no scheduler claims the slot while its retry waits in the broker
            hold = now + retry_hold(retry, self.config.tidings.lease.elapsed())
            return self._finish(slot, version, recorded, complete=False, release=lock, hold_until=hold), retry
        except BaseException as e:
            return self._finish(slot, version, recorded, complete=False, release=lock), e   # a key sent stays sent
        return self._finish(slot, version, recorded, complete=True, release=lock), None

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
            self.store.refuse(pending.key, channel=failure.channel, address=failure.to or "")
            return (*skip, failure.channel)
        self.store.complete(slot, version)
        return None

    @staticmethod
    def _finish(slot: str, version: int, recorded: Recorded, *, complete: bool, release: str | None,
                hold_until: datetime | None = None) -> Finish:
        return Finish(slot, version, list(recorded.entries), sent=recorded.sent, complete=complete, release=release,
                      hold_until=hold_until)

    def _write(self, outcomes: Sequence[Finish]) -> None:
        """Write what the dispatches decided, in one round trip (`tidings.store.dispatching.finish`); then each
        entry is logged and told to the observers, as `DeliveryLog.record` does."""
        finish(self.store, outcomes)
        for outcome in outcomes:
            for entry in outcome.entries:
                self.deliverylog.announce(entry)

    def _current(self, slot: str, version: int) -> PendingMessage | None:
        """The pending message of `slot` at `version`, unless it changed, is suspended or was sent."""
        pending = self.store.pending(slot)
        if pending is None or pending.version != version or pending.suspended:
            return None   # replaced, dropped or suspended since it was claimed
        if self.store.was_sent(pending.key):
            self.store.complete(slot, version)
            return None
        return pending

    def _first_lookups(self) -> dict[str, str]:
        """Rule -> its first channel, for the rules whose first channel's transport looks messages up (`find`)."""
        if self._lookups is None:
            transports = self.delivery.transports
            self._lookups = {rule.id: rule.channel[0] for rule in self.rules.values()
                             if rule.channel and callable(getattr(transports.get(rule.channel[0]), "find", None))}
        return self._lookups

    def _lock_ttl(self) -> timedelta:
        return min(SENDING_LOCK, self.config.tidings.lease.elapsed())

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
