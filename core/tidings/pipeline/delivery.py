"""Delivery: one due message through the usable channels of its rule, in order, until one takes it.

A permanent failure (the number refused, every subscription gone) tries the next usable channel
(PRODUCT §6), and the store remembers the refusal for that message (`ScheduleStore.refuse`): a later
retry of the message does not ask that channel again for the address it refused. A transient one
raises `DeliveryRetry`, and Dramatiq retries the whole dispatch. A
transport that raises anything else has a bug or met a case it does not classify: that is retried
too, a bounded number of times, and when the retries run out the failure is recorded for that
channel and the next one is tried, so a message is never dropped without a trace nor retried forever.

A rule's ``delivery`` says what becomes of a message whose attempt's outcome is unknown on a channel
that cannot look it up: sent again (``at-least-once``), or recorded failed (``at-most-once``).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from attrs import define, field

from tidings.errors import DeliveryError, PermanentDeliveryError, TemplateError, TransientDeliveryError
from tidings.logging import get_logger, mask
from tidings.models import Event, Subject
from tidings.pipeline.retries import DeliveryRetry, Failure
from tidings.plugin_types import Receipt, RenderedMessage
from tidings.selection import choose
from tidings.store.entries import LogEntry, Outcome, Sent
from tidings.store.records import PendingMessage

if TYPE_CHECKING:
    from tidings.pipeline.deliverylog import DeliveryLog
    from tidings.pipeline.gone import GoneAddresses
    from tidings.plugin_types import Channel, Transport
    from tidings.rules import Config, Rule
    from tidings.store import ScheduleStore
    from tidings.templates import Templates

__all__ = ["UNSETTLED_KEPT", "Delivery", "OutcomeUnknown", "Recorded"]

log = get_logger("tidings.pipeline")

UNSETTLED_KEPT = timedelta(days=30)   # an at-most-once attempt with no answer is remembered this long


@define
class Recorded:
    """What one delivery decided, written by its dispatch in one go: the log entries, and the key it sent."""

    entries: list[LogEntry] = field(factory=list)
    sent: str | None = None   # the idempotency key of the message a provider took

    def record(self, entry: LogEntry) -> None:
        self.entries.append(entry)


@define
class Delivery:
    """Renders and sends due messages through the real (or recording) transports of the enabled channels."""

    config: Config
    rules: Mapping[str, Rule]
    channels: Mapping[str, Channel]
    store: ScheduleStore
    deliverylog: DeliveryLog
    gone: GoneAddresses
    templates: Templates
    transports: Mapping[str, Transport]

    def deliver(self, pending: PendingMessage, subject: Subject, *, now: datetime, into: Recorded,
                skip: Collection[str] = (), refused: Mapping[str, str] | None = None,
                attempted: Mapping[str, bool] | None = None) -> None:
        """Send `pending` through the first usable channel that takes it, but none of `skip` (given up).

        What it decides is noted in `into` (the entries, the key sent), for the dispatch to write: a
        key is noted as soon as its provider took the message, so that it is marked sent whatever
        happens after. `refused`: the message's refusals by earlier attempts, when the caller read them
        already (`ScheduleStore.refused`); `attempted`: ``KEY|CHANNEL`` marked attempted by the caller ->
        whether the mark is new (`ScheduleStore.mark_attempt`'s answer).
        """
        from tidings.templates import build_context

        rule = self.rules[pending.rule]
        recipient = subject.client if rule.recipient == "client" else subject.staff
        client = subject.client.id if subject.client else None
        outcome = functools.partial(Outcome, rule=pending.rule, subject=pending.subject, event=pending.event.id, at=now,
                                    key=pending.key, client=client)
        if recipient is None:
            into.record(outcome(status="skipped", reason=f"no_{rule.recipient}"))
            return
        location = self.config.location(subject.location)
        choice = choose(rule.channel, recipient, role=rule.recipient, channels=self.channels,
                        settings=self.config.channels, location=location,
                        gone=lambda channel, addresses: self.gone.among(channel, recipient, addresses))
        if not choice.usable:
            into.record(outcome(status="skipped", reason=choice.reason, refused=dict(choice.refused),
                                            detail=dict(choice.details) if choice.details else None))
            return
        # the event as it was planned, around the latest snapshot of its subject: nothing is parsed again
        event = Event(id=pending.event.id, type=pending.event.type, occurred_at=pending.event.occurred_at,
                      subject=subject, previous=pending.previous)
        context = build_context(config=self.config, rule=rule, subject=subject, previous=event.previous, event=event,
                                recipient=recipient, location=location, now=now, services=pending.services)
        if refused is None:
            refused = self.store.refused(pending.key)   # by an earlier attempt of this message
        for candidate in choice.usable:
            channel = candidate.channel
            if channel.name in skip or refused.get(channel.name) in ("", candidate.addresses[0]):
                continue
            try:
                parts = self.templates.render(rule=rule, channel=channel.name, parts=channel.parts, context=context,
                                              locale=recipient.locale)
            except TemplateError as e:
                into.record(outcome(status="failed", channel=channel.name, reason="template_error",
                                                error=str(e)))
                self.store.refuse(pending.key, channel=channel.name, address="")
                continue
            message = RenderedMessage(channel=channel.name, to=candidate.addresses[0], parts=parts, rule=rule.id,
                                      subject=subject.id, recipient=recipient,
                                      locale=recipient.locale or self.config.tidings.locale,
                                      location={"id": location.id, "name": location.name, "address": location.address,
                                                "phone": location.phone}, addresses=candidate.addresses,
                                      due=pending.due, context=context)
            if channel.prepare is not None:
                # the channel's last word on what goes out (SMS transliteration): the log, describe() and
                # the transport all see the message as it is sent
                message = channel.prepare(message, candidate.settings)
            try:
                receipt = self._send_once(self.transports[channel.name], message, pending.key,
                                          at_most_once=rule.delivery == "at-most-once", attempted=attempted)
            except OutcomeUnknown as e:
                # at most once: an earlier attempt may have reached the recipient, so nothing more is sent
                log.warning("delivery_outcome_unknown", rule=rule.id, subject=subject.id, channel=channel.name,
                            reason="outcome_unknown")
                into.record(outcome(status="failed", channel=channel.name, to=message.to, reason="outcome_unknown",
                                    error=str(e)))
                return
            except PermanentDeliveryError as e:
                # the next usable channel of the list or preference is tried (PRODUCT §6)
                into.record(outcome(status="failed", channel=channel.name, to=message.to, reason=e.reason,
                                                error=str(e), details=e.details or None))
                self.store.refuse(pending.key, channel=channel.name, address=message.to)
                self.gone.forget(channel, recipient, e.details.get("gone"), outcome, log=into)
                continue
            except TransientDeliveryError as e:
                self.gone.forget(channel, recipient, e.details.get("gone"), outcome, log=into)
                raise DeliveryRetry(Failure(reason=e.reason, error=str(e)), retry_after=e.retry_after) from e
            except Exception as e:   # noqa: BLE001 - a transport's bug must not lose the message (module docstring)
                error_type, error = f"{type(e).__module__}.{type(e).__qualname__}", mask(str(e))
                log.error("transport_error", rule=rule.id, subject=subject.id, channel=channel.name, exc_info=True,
                          error_type=error_type, error=error)
                raise DeliveryRetry(Failure(reason="transport_error", error=error, channel=channel.name, to=message.to,
                                            error_type=error_type)) from e
            into.sent = pending.key
            info = {**(dict(channel.describe(message.parts)) if channel.describe else {}), **dict(receipt.info)}
            logged = channel.logged(message.parts)   # its title and text, by the parts' roles
            # "sent", or "queued" for a channel whose messages people send themselves (the manual channel)
            into.record(Sent(rule=rule.id, subject=pending.subject, event=pending.event.id, at=now,
                             status=channel.outcome, key=pending.key, client=client, channel=channel.name, to=message.to,
                             title=logged["title"], text=logged["text"], provider_id=receipt.provider_id,
                             info=info))
            self.gone.forget(channel, recipient, receipt.info.get("gone"), outcome, log=into)
            return
        into.record(outcome(status="failed", reason="no_channel_delivered"))

    def _send_once(self, transport: Transport, message: RenderedMessage, key: str, *, at_most_once: bool,
                   attempted: Mapping[str, bool] | None = None) -> Receipt:
        """Send through a transport; if an earlier attempt may have reached the provider, ask it first.

        A worker killed while its request was on the wire leaves no "sent" mark, and its message is
        dispatched again. A transport that can look a message up by its idempotency key (`find`)
        is asked before that second attempt, so the provider does not receive the key twice.

        A transport that cannot (`at_most_once` rules only): an attempt is marked unsettled until the
        provider answers, and a message found unsettled, its outcome unknown, raises `OutcomeUnknown`.

        Raises:
            OutcomeUnknown: an at-most-once message whose earlier attempt may have reached the recipient.
        """
        find = getattr(transport, "find", None)
        if callable(find):
            mark = f"{key}|{message.channel}"
            first = (attempted or {}).get(mark)   # marked by the dispatch's read, before this request
            if first is None:
                first = self.store.mark_attempt(mark)
            if not first:
                found = find(idempotency_key=key)
                if found is not None:
                    log.info("delivery_found", rule=message.rule, subject=message.subject, channel=message.channel,
                             reason="sent_by_an_earlier_attempt")
                    return Receipt(provider_id=found.provider_id, info={**dict(found.info), "recovered": True})
            return transport.send(message, idempotency_key=key)
        if not at_most_once:
            return transport.send(message, idempotency_key=key)
        unsettled = f"unsettled:{key}|{message.channel}"
        if not self.store.acquire(unsettled, ttl=UNSETTLED_KEPT):
            raise OutcomeUnknown("an earlier attempt may have reached the recipient (its worker died, or the "
                                 "provider's answer was lost); the rule delivers at most once")
        try:
            return transport.send(message, idempotency_key=key)
        except DeliveryError as e:
            if e.details.get("status") is not None or e.details.get("code") is not None:
                self.store.release(unsettled)   # the provider answered: nothing went out, a retry may send
            raise


class OutcomeUnknown(Exception):   # noqa: N818 - a state, not an error of the caller's
    """An at-most-once message whose earlier attempt may have reached the recipient: not sent again."""

