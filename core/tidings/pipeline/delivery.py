"""Delivery: one due message through the usable channels of its rule, in order, until one takes it.

A permanent failure (the number refused, every subscription gone) tries the next usable channel
(PRODUCT §6), and the store remembers the refusal for that message (`ScheduleStore.refuse`): a later
retry of the message does not ask that channel again for the address it refused. A transient one
raises `DeliveryRetry`, and Dramatiq retries the whole dispatch. A
transport that raises anything else has a bug or met a case it does not classify: that is retried
too, a bounded number of times, and when the retries run out the failure is recorded for that
channel and the next one is tried, so a message is never dropped without a trace nor retried forever.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from attrs import define

from tidings.errors import PermanentDeliveryError, TemplateError, TransientDeliveryError
from tidings.logging import get_logger, mask
from tidings.models import Event, Subject
from tidings.pipeline.retries import DeliveryRetry, Failure
from tidings.plugin_types import Receipt, RenderedMessage
from tidings.selection import choose
from tidings.store.entries import Outcome, Sent
from tidings.store.records import PendingMessage

if TYPE_CHECKING:
    from tidings.pipeline.deliverylog import DeliveryLog
    from tidings.pipeline.gone import GoneAddresses
    from tidings.plugin_types import Channel, Transport
    from tidings.rules import Config, Rule
    from tidings.store import ScheduleStore
    from tidings.templates import Templates

__all__ = ["Delivery"]

log = get_logger("tidings.pipeline")


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

    def deliver(self, pending: PendingMessage, subject: Subject, *, now: datetime, skip: Collection[str] = ()) -> None:
        """Send `pending` through the first usable channel that takes it, but none of `skip` (given up)."""
        from tidings.templates import build_context

        rule = self.rules[pending.rule]
        recipient = subject.client if rule.recipient == "client" else subject.staff
        client = subject.client.id if subject.client else None
        outcome = functools.partial(Outcome, rule=pending.rule, subject=pending.subject, event=pending.event.id, at=now,
                                    key=pending.key, client=client)
        if recipient is None:
            self.deliverylog.record(outcome(status="skipped", reason=f"no_{rule.recipient}"))
            return
        location = self.config.location(subject.location)
        choice = choose(rule.channel, recipient, role=rule.recipient, channels=self.channels,
                        settings=self.config.channels, location=location,
                        gone=lambda channel, addresses: self.gone.among(channel, recipient, addresses))
        if not choice.usable:
            self.deliverylog.record(outcome(status="skipped", reason=choice.reason, refused=dict(choice.refused),
                                            detail=dict(choice.details) if choice.details else None))
            return
        # the event as it was planned, around the latest snapshot of its subject: nothing is parsed again
        event = Event(id=pending.event.id, type=pending.event.type, occurred_at=pending.event.occurred_at,
                      subject=subject, previous=pending.previous)
        context = build_context(config=self.config, rule=rule, subject=subject, previous=event.previous, event=event,
                                recipient=recipient, location=location, now=now, services=pending.services)
        refused = self.store.refused(pending.key)   # by an earlier attempt of this message
        for candidate in choice.usable:
            channel = candidate.channel
            if channel.name in skip or refused.get(channel.name) in ("", candidate.addresses[0]):
                continue
            try:
                parts = self.templates.render(rule=rule, channel=channel.name, parts=channel.parts, context=context,
                                              locale=recipient.locale)
            except TemplateError as e:
                self.deliverylog.record(outcome(status="failed", channel=channel.name, reason="template_error",
                                                error=str(e)))
                self.store.refuse(pending.key, channel.name, "")
                continue
            message = RenderedMessage(channel=channel.name, to=candidate.addresses[0], parts=parts, rule=rule.id,
                                      subject=subject.id, recipient=recipient,
                                      locale=recipient.locale or self.config.tidings.locale,
                                      location={"id": location.id, "name": location.name, "address": location.address,
                                                "phone": location.phone}, addresses=candidate.addresses)
            if channel.prepare is not None:
                # the channel's last word on what goes out (SMS transliteration): the log, describe() and
                # the transport all see the message as it is sent
                message = channel.prepare(message, candidate.settings)
            try:
                receipt = self._send_once(self.transports[channel.name], message, pending.key)
            except PermanentDeliveryError as e:
                # the next usable channel of the list or preference is tried (PRODUCT §6)
                self.deliverylog.record(outcome(status="failed", channel=channel.name, to=message.to, reason=e.reason,
                                                error=str(e), details=e.details or None))
                self.store.refuse(pending.key, channel.name, message.to)
                self.gone.forget(channel, recipient, e.details.get("gone"), outcome)
                continue
            except TransientDeliveryError as e:
                self.gone.forget(channel, recipient, e.details.get("gone"), outcome)
                raise DeliveryRetry(Failure(reason=e.reason, error=str(e)), retry_after=e.retry_after) from e
            except Exception as e:   # noqa: BLE001 - a transport's bug must not lose the message (module docstring)
                error_type, error = f"{type(e).__module__}.{type(e).__qualname__}", mask(str(e))
                log.error("transport_error", rule=rule.id, subject=subject.id, channel=channel.name, exc_info=True,
                          error_type=error_type, error=error)
                raise DeliveryRetry(Failure(reason="transport_error", error=error, channel=channel.name, to=message.to,
                                            error_type=error_type)) from e
            self.store.mark_sent(pending.key)
            info = {**(dict(channel.describe(message.parts)) if channel.describe else {}), **dict(receipt.info)}
            logged = channel.logged(message.parts)   # its title and text, by the parts' roles
            self.deliverylog.record(Sent(rule=rule.id, subject=pending.subject, event=pending.event.id, at=now,
                                         key=pending.key, client=client, channel=channel.name, to=message.to,
                                         title=logged["title"], text=logged["text"], provider_id=receipt.provider_id,
                                         info=info))
            self.gone.forget(channel, recipient, receipt.info.get("gone"), outcome)
            return
        self.deliverylog.record(outcome(status="failed", reason="no_channel_delivered"))

    def _send_once(self, transport: Transport, message: RenderedMessage, key: str) -> Receipt:
        """Send through a transport; if an earlier attempt may have reached the provider, ask it first.

        A worker killed while its request was on the wire leaves no "sent" mark, and its message is
        dispatched again. A transport that can look a message up by its idempotency key (`find`)
        is asked before that second attempt, so the provider does not receive the key twice.
        """
        find = getattr(transport, "find", None)
        if callable(find) and not self.store.mark_attempt(f"{key}|{message.channel}"):
            found = find(idempotency_key=key)
            if found is not None:
                log.info("delivery_found", rule=message.rule, subject=message.subject, channel=message.channel,
                         reason="sent_by_an_earlier_attempt")
                return Receipt(provider_id=found.provider_id, info={**dict(found.info), "recovered": True})
        return transport.send(message, idempotency_key=key)

