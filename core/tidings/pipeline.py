"""The dispatch pipeline: ingest (event -> triggers -> intents -> store) and dispatch (due slot -> message).

`build_pipeline` creates the two Dramatiq actors on a given broker; nothing here runs at import time.
Both actors take JSON scalars only (an event dict, a slot key and its version) and are idempotent:
an event id seen before is ignored, a stale slot version does nothing, and a message whose
idempotency key was sent is never sent again.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import dramatiq
from attrs import Factory, define, field
from dramatiq.middleware import CurrentMessage

from tidings.clock import Clock, SystemClock
from tidings.deployment import Deployment, as_deployment
from tidings.registry import Registry
from tidings.rules import Config, Rule
from tidings.converter import parse_aware
from tidings.errors import ConfigError, EventError, PermanentDeliveryError, Problem, TemplateError, TransientDeliveryError
from tidings.intake import EventReader
from tidings.logging import get_logger, mask
from tidings.models import KINDS, VERBS, Contact, Event, Subject, subject_from_dict, subject_to_dict
from tidings.plugin_types import Channel, Drop, Intent, Pending, Receipt, RenderedMessage, Restore, Send, Skip, Suspend, Transport
from tidings.selection import choose
from tidings.store import ScheduleStore

log = get_logger(__name__)

INGEST_ACTOR = "tidings_ingest"
DISPATCH_ACTOR = "tidings_dispatch"
QUEUE = "tidings"      # the queue of the default namespace; `[tidings] namespace` names another
MAX_RETRIES = 8
MAINTENANCE_CHANCE = 100_000   # per million Redis broker commands


def slot_key(rule: Rule, scope: str) -> str:
    """The stable key of one pending message: rule, scope (subject or client) and recipient role."""
    return f"{rule.id}|{scope}|{rule.recipient}"


def idempotency_key(rule_id: str, subject_id: str, recipient: str, due: datetime) -> str:
    """The key of one intent (rule, subject, recipient, due time): the same across retries and replans."""
    raw = f"{rule_id}|{subject_id}|{recipient}|{due.astimezone(timezone.utc).isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


def event_order(event_type: str, event_id: str) -> str:
    """How events of one subject at the same `occurred_at` are ordered: creation first, then by event id.

    Together with `occurred_at` this gives every pair of events of a subject one order, whichever
    worker takes which first, so the snapshot that wins and the plans that stand are the same.
    """
    return f"{0 if event_type.partition('.')[2] == 'created' else 1}:{event_id}"


def _later(planned_by: Mapping[str, Any], event: Event) -> bool:
    """Whether the event that planned a pending message is later than `event` (same subject assumed)."""
    ours = (event.occurred_at, event_order(event.type, event.id))
    return (parse_aware(planned_by["occurred_at"]), event_order(planned_by["type"], planned_by["id"])) > ours


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@define
class StoreHistory:
    """The read-only view of the store a trigger plans with."""

    store: ScheduleStore
    config: Config
    newer: Subject | None = None    # the stored snapshot, when it is of a later event than the one planned

    def newer_snapshot(self, event: Event) -> Subject | None:
        return self.newer if self.newer is not None and self.newer.id == event.subject.id else None

    def pending(self, rule: str, scope: str) -> Pending | None:
        recipient = self.config.rule(rule).recipient
        found = self.store.pending(f"{rule}|{scope}|{recipient}")
        if found is None:
            return None
        return Pending(slot=found["slot"], rule=found["rule"], subject=found["subject"],
                       due=parse_aware(found["due"]), suspended=found["suspended"], info=found.get("info", {}))

    def client_subjects(self, client_id: str, *, kind: str = "appointment") -> list[Subject]:
        return [subject_from_dict(s["subject"]) for s in self.store.client_subjects(client_id) if s["kind"] == kind]

    def zone(self, location: str | None) -> Any:
        return self.config.zone(location)


@define
class Pipeline:
    """Ingest and dispatch, bound to one deployment, store, clock and set of transports."""

    deployment: Deployment
    store: ScheduleStore
    transports: Mapping[str, Transport]
    clock: Clock = field(factory=SystemClock)
    templates: Any = None
    broker: dramatiq.Broker | None = None
    ingest_actor: Any = None
    dispatch_actor: Any = None
    # called with every delivery-log entry, after the `tidings_delivery_recorded` plugins (hosts, simulate, tests)
    listeners: list[Callable[[dict[str, Any]], Any]] = field(factory=list)
    # checks events against the configuration: its locations, and keys the contract does not define
    reader: EventReader = field(default=Factory(lambda self: EventReader.for_config(self.config), takes_self=True))

    @property
    def config(self) -> Config:
        return self.deployment.config

    @property
    def registry(self) -> Registry:
        return self.deployment.registry

    @property
    def queue(self) -> str:
        """The Dramatiq queue of this deployment: its namespace, so deployments can share a broker."""
        return self.config.tidings.namespace

    def __attrs_post_init__(self) -> None:
        if self.templates is None:
            self.templates = self.deployment.templates

    # ------------------------------------------------------------ publishing

    def publish(self, event: Event | Mapping[str, Any]) -> Event:
        """Validate an event and send it to the ingest actor; raises EventError naming the field."""
        parsed = self.reader.read(event)
        if self.ingest_actor is None:
            self.ingest(parsed.to_dict())
        else:
            self.ingest_actor.send(parsed.to_dict())
        return parsed

    # ------------------------------------------------------------ ingest

    def ingest(self, raw: Mapping[str, Any]) -> None:
        """Run every enabled rule's trigger on one event and apply the intents to the store."""
        try:
            event = self.reader.read(raw)
        except EventError as e:
            # a malformed event is reported and dropped: it never blocks the events after it
            log.error("event_rejected", event_id=e.event_id, field=e.field, reason=str(e))
            return
        # one client's events are planned one at a time, whichever workers take them: a trigger reads the
        # store (repeat-visit: the pending invitation, the client's other bookings) and then writes it
        owner = f"ingest:client:{event.subject.client.id}" if event.subject.client else f"ingest:subject:{event.subject.id}"
        self._lock(owner)
        try:
            if self.store.has_event(event.id):
                log.info("event_ignored", event_id=event.id, reason="duplicate_event")
                return
            subject_dict = subject_to_dict(event.subject)
            newer = None
            if not self.store.put_subject(event.kind, subject_dict, occurred_at=event.occurred_at,
                                          order=event_order(event.type, event.id)):
                # a later event of this subject was ingested first (two workers took them in the other order):
                # triggers see the stored snapshot as the subject's state, and the core keeps what it planned
                stored = self.store.subject(event.subject.id)
                newer = subject_from_dict(stored["subject"]) if stored is not None else None
                log.info("event_out_of_order", event_id=event.id, subject=event.subject.id, reason="newer_snapshot_stored")
            history = StoreHistory(self.store, self.config, newer=newer)
            reacted = False
            for rule in self.config.rules:
                if not rule.enabled or rule.kind != event.kind:
                    continue
                trigger = self.registry.triggers[rule.trigger]
                for intent in trigger.plan(event, rule, history):
                    reacted = self._apply(intent, event, rule) or reacted
            if not reacted and (event.kind not in KINDS or event.verb not in VERBS):
                # accepted for third-party triggers, but a typo such as appointment.canceled shows in --explain
                self._record({"rule": None, "subject": event.subject.id, "event": event.id, "type": event.type,
                              "client": event.subject.client.id if event.subject.client else None,
                              "at": _utc(self.clock.now()), "status": "ignored", "reason": "unknown_event_type"})
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
        scope = getattr(intent, "scope", None) or f"subject:{subject.id}"
        slot = slot_key(rule, scope)
        now = self.clock.now()
        base = {"rule": rule.id, "subject": subject.id, "client": subject.client.id if subject.client else None,
                "event": event.id, "at": _utc(now)}
        if isinstance(intent, Skip):
            self._record({**base, "status": "skipped", "reason": intent.reason})
            return True
        existing = self.store.pending(slot)
        if existing is not None and existing["subject"] == subject.id and _later(existing["event"], event):
            # an older event of this subject arriving late never overwrites what a later one planned
            log.info("intent_superseded", rule=rule.id, subject=subject.id, event_id=event.id,
                     reason=f"planned_by_{existing['event']['id']}")
            return False
        if isinstance(intent, Send):
            if not rule.applies_to(subject.location):
                return False
            return self._send(intent, event, rule, slot, existing, base)
        if isinstance(intent, Drop):
            if existing is not None and self.store.drop(slot) is not None:
                self._record({**base, "subject": existing["subject"], "status": "dropped", "reason": intent.reason,
                              "due": existing["send_at"]})
                return True
        elif isinstance(intent, Suspend):
            if existing is not None and not existing["suspended"]:
                self.store.schedule(slot, send_at=None, payload={**existing, "suspended": True})
                self._record({**base, "subject": existing["subject"], "status": "suspended", "reason": intent.reason})
                return True
        elif isinstance(intent, Restore):
            if existing is not None and existing["suspended"]:
                planned = parse_aware(existing["planned"])
                send_at = self._opening(rule, existing.get("location"), max(planned, now))
                self.store.schedule(slot, send_at=send_at, payload={**existing, "suspended": False})
                self._record({**base, "subject": existing["subject"], "status": "restored", "reason": intent.reason,
                              "due": _utc(send_at)})
                return True
        return False

    def _send(self, intent: Send, event: Event, rule: Rule, slot: str,
              existing: dict[str, Any] | None, base: dict[str, Any]) -> bool:
        subject = event.subject
        zone = self.config.zone(subject.location)
        send_at = rule.delay.after(intent.due, zone)
        nominal = rule.delay.after(intent.intended or intent.due, zone)
        key = idempotency_key(rule.id, subject.id, rule.recipient, nominal)
        if self.store.was_sent(key):
            # the same intent went out before (a visit moved back to its first time): never twice
            if existing is not None:
                self.store.drop(slot)
            self._record({**base, "status": "skipped", "reason": "already_sent"})
            return True
        planned = self._opening(rule, subject.location, send_at)
        payload = {"rule": rule.id, "subject": subject.id, "kind": event.kind, "location": subject.location,
                   "recipient": rule.recipient, "due": nominal.isoformat(), "planned": planned.isoformat(),
                   "key": key, "suspended": intent.suspended, "info": dict(intent.info),
                   "services": list(intent.services) if intent.services is not None else None,
                   "event": {"id": event.id, "type": event.type, "occurred_at": event.occurred_at.isoformat()},
                   "previous": self._previous(event)}
        if existing is not None and all(existing.get(k) == payload[k] for k in ("subject", "due", "planned", "suspended", "info", "services")):
            return False   # nothing changed for this message (a status change that does not move it)
        self.store.schedule(slot, send_at=None if intent.suspended else planned, payload=payload)
        status = "rescheduled" if existing is not None else "scheduled"
        self._record({**base, "status": status, "reason": intent.reason, "due": _utc(planned)})
        if intent.suspended:
            self._record({**base, "status": "suspended", "reason": intent.reason})
        return True

    def _opening(self, rule: Rule, location_id: str | None, moment: datetime) -> datetime:
        location = self.config.location(location_id)
        if rule.working_hours and location.hours is not None:
            return location.hours.next_open(moment, self.config.zone(location_id))
        return moment

    @staticmethod
    def _previous(event: Event) -> dict[str, Any] | None:
        if event.previous is None:
            return None
        return {"status": event.previous.status,
                "start": event.previous.start.isoformat() if event.previous.start else None}

    # ------------------------------------------------------------ scheduling

    def enqueue_due(self, *, limit: int = 500) -> int:
        """Claim the due pending messages and hand each to the dispatch actor; returns how many."""
        claimed = self.store.claim_due(self.clock.now(), limit=limit, lease=self.config.tidings.lease.elapsed())
        for slot, version in claimed:
            if self.dispatch_actor is None:
                self.dispatch(slot, version)
            else:
                self.dispatch_actor.send(slot, version)
        return len(claimed)

    # ------------------------------------------------------------ dispatch

    def dispatch(self, slot: str, version: int) -> None:
        """Deliver one claimed message if it is still current; idempotent."""
        pending = self.store.pending(slot)
        if pending is None or pending["version"] != version or pending["suspended"]:
            return   # replaced, dropped or suspended since it was claimed
        key = pending["key"]
        base = {"rule": pending["rule"], "subject": pending["subject"], "event": pending["event"]["id"],
                "at": _utc(self.clock.now()), "key": key}
        if self.store.was_sent(key):
            self.store.complete(slot, version)
            return
        snapshot = self.store.subject(pending["subject"])
        reason = self._not_due_reason(pending, snapshot)
        if reason is not None or snapshot is None:
            self._record({**base, "client": self._client_id(snapshot), "status": "skipped", "reason": reason})
            self.store.complete(slot, version)
            return
        if not self.store.acquire(f"sending:{key}", ttl=self.config.tidings.lease.elapsed()):
            return   # another worker is sending this very message
        try:
            self._deliver(pending, snapshot, base)
        except TransientDeliveryError as e:
            if self._retries() < MAX_RETRIES:
                self.store.release(f"sending:{key}")
                log.warning("delivery_retried", rule=pending["rule"], subject=pending["subject"], reason=e.reason, error=str(e))
                raise
            self._record({**base, "client": self._client_id(snapshot), "status": "failed", "reason": e.reason, "error": str(e)})
        self.store.complete(slot, version)
        self.store.release(f"sending:{key}")

    def _not_due_reason(self, pending: Mapping[str, Any], snapshot: Mapping[str, Any] | None) -> str | None:
        try:
            rule = self.config.rule(pending["rule"])
        except KeyError:
            return "rule_removed"
        if not rule.enabled:
            return "rule_disabled"
        if snapshot is None:
            return "unknown_subject"
        subject = subject_from_dict(snapshot["subject"])
        # mute is read from the latest snapshot, also at due time (PRODUCT §3)
        if subject.mutes(rule.id, recipient=rule.recipient):
            return "muted"
        trigger = self.registry.triggers.get(rule.trigger)
        if trigger is not None and trigger.still_due is not None:
            view = Pending(slot=pending["slot"], rule=rule.id, subject=pending["subject"], due=parse_aware(pending["due"]),
                           suspended=pending["suspended"], info=pending.get("info", {}))
            return trigger.still_due(subject, rule, view)
        return None

    def _deliver(self, pending: Mapping[str, Any], snapshot: Mapping[str, Any], base: dict[str, Any]) -> None:
        from tidings.templates import build_context

        rule = self.config.rule(pending["rule"])
        subject = subject_from_dict(snapshot["subject"])
        recipient = subject.client if rule.recipient == "client" else subject.staff
        base = {**base, "client": subject.client.id if subject.client else None}
        if recipient is None:
            self._record({**base, "status": "skipped", "reason": f"no_{rule.recipient}"})
            return
        location = self.config.location(subject.location)
        choice = choose(rule.channel, recipient, role=rule.recipient, channels=self.registry.channels,
                        settings=self.config.channels, location=location,
                        gone=lambda channel, addresses: self._gone(channel, recipient, addresses))
        if not choice.usable:
            details = {"detail": dict(choice.details)} if choice.details else {}   # why an address is unusable
            self._record({**base, "status": "skipped", "reason": choice.reason, "refused": dict(choice.refused), **details})
            return
        event = Event.from_dict({"id": pending["event"]["id"], "type": pending["event"]["type"],
                                 "occurred_at": pending["event"]["occurred_at"], "subject": snapshot["subject"],
                                 "previous": pending.get("previous")})
        context = build_context(config=self.config, rule=rule, subject=subject, previous=event.previous,
                                event=event, recipient=recipient, location=location, now=self.clock.now(),
                                services=pending.get("services"))
        for candidate in choice.usable:
            name = candidate.channel.name
            try:
                parts = self.templates.render(rule=rule, channel=name, parts=candidate.channel.parts,
                                              context=context, locale=recipient.locale)
            except TemplateError as e:
                self._record({**base, "status": "failed", "channel": name, "reason": "template_error", "error": str(e)})
                continue
            message = RenderedMessage(channel=name, to=candidate.addresses[0], parts=parts, rule=rule.id,
                                      subject=subject.id, recipient=recipient, locale=recipient.locale or self.config.tidings.locale,
                                      location={"id": location.id, "name": location.name, "address": location.address,
                                                "phone": location.phone}, addresses=candidate.addresses)
            if candidate.channel.prepare is not None:
                # the channel's last word on what goes out (SMS transliteration): the log, describe() and
                # the transport all see the message as it is sent
                message = candidate.channel.prepare(message, candidate.settings)
                parts = message.parts
            try:
                receipt = self._send_once(self.transports[name], message, pending["key"])
            except PermanentDeliveryError as e:
                # the next usable channel of the list or preference is tried (PRODUCT §6)
                details = {"details": e.details} if e.details else {}   # e.g. the push endpoints that are gone
                self._record({**base, "status": "failed", "channel": name, "to": message.to, "reason": e.reason,
                              "error": str(e), **details})
                self._forget(candidate.channel, recipient, e.details.get("gone"), base)
                continue
            except TransientDeliveryError as e:
                self._forget(candidate.channel, recipient, e.details.get("gone"), base)
                raise
            except Exception as e:   # noqa: BLE001 - a transport's bug must not lose the message (see below)
                # A transport that raises anything but a DeliveryError has a bug or met a case it does not
                # classify. Neither is known to be permanent, and a process-level cause (a library's state,
                # memory) may pass, so it is retried like a transient failure, a bounded number of times;
                # when the retries are spent the failure is recorded and the next usable channel is tried,
                # so the message is never dropped without a trace nor retried forever.
                error = {"error_type": f"{type(e).__module__}.{type(e).__qualname__}", "error": mask(str(e))}
                log.error("transport_error", rule=rule.id, subject=subject.id, channel=name, exc_info=True, **error)
                if self._retries() < MAX_RETRIES:
                    raise TransientDeliveryError(f"the {name} transport raised {error['error_type']}: {error['error']}",
                                                 reason="transport_error", details=error) from e
                self._record({**base, "status": "failed", "channel": name, "to": message.to,
                              "reason": "transport_error", **error})
                continue
            self.store.mark_sent(pending["key"])
            describe = candidate.channel.describe
            info = {**(dict(describe(parts)) if describe else {}), **dict(receipt.info)}
            self._record({**base, "status": "sent", "channel": name, "to": message.to,
                          **candidate.channel.logged(parts),   # its title and text, by the parts' roles
                          "provider_id": receipt.provider_id, "info": info})
            self._forget(candidate.channel, recipient, receipt.info.get("gone"), base)
            return
        self._record({**base, "status": "failed", "reason": "no_channel_delivered"})

    # ------------------------------------------------------------ gone addresses

    @staticmethod
    def _gone_key(channel: Channel, recipient: Contact, address: str) -> str | None:
        identity = channel.address_key(recipient, address) if channel.address_key is not None else None
        return f"{channel.name}:{identity}" if identity else None

    def _gone(self, channel: Channel, recipient: Contact, addresses: tuple[str, ...]) -> set[str]:
        """Those of `addresses` a provider reported gone before, as the host sent them then."""
        keys = {address: key for address in addresses if (key := self._gone_key(channel, recipient, address))}
        dead = self.store.gone(set(keys.values())) if keys else set()
        return {address for address, key in keys.items() if key in dead}

    def _forget(self, channel: Channel, recipient: Contact, gone: Any, base: Mapping[str, Any]) -> None:
        """Remember the addresses a transport reported gone, and tell the host of each (PRODUCT §7)."""
        if not isinstance(gone, (list, tuple)):
            return
        for address in gone:
            if not isinstance(address, str):
                continue
            key = self._gone_key(channel, recipient, address)
            if key is not None:
                self.store.mark_gone(key)
            # one entry per address, for the host to remove it: `tidings_delivery_recorded` sees it too
            self._record({**base, "status": "gone", "channel": channel.name, "to": address, "reason": "address_gone",
                          "remembered": key is not None})

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

    def _record(self, entry: dict[str, Any]) -> None:
        self.store.record(entry)
        fields = {k: entry.get(k) for k in ("rule", "subject", "channel", "reason", "detail", "to", "at") if entry.get(k) is not None}
        if entry["status"] == "ignored":   # an event nothing reacted to, not a message
            log.info("event_ignored", event_id=entry.get("event"), type=entry.get("type"), **fields)
        else:
            log.info(f"message_{entry['status']}", **fields)
        # plugins' `tidings_delivery_recorded`, then the host's own listeners, each on its own: a
        # listener that raises is logged and the others still run, and delivery goes on
        for name, recorder in self.registry.recorders:
            self._notify(name, lambda: recorder(record=copy.deepcopy(entry)), fields)
        for listener in self.listeners:
            self._notify(getattr(listener, "__qualname__", repr(listener)), lambda: listener(entry), fields)

    @staticmethod
    def _notify(name: str, call: Callable[[], Any], fields: Mapping[str, Any]) -> None:
        try:
            call()
        except Exception:   # noqa: BLE001 - an observer's fault must never stop a delivery
            log.exception("delivery_listener_failed", listener=name, **fields)

    @staticmethod
    def _client_id(snapshot: Mapping[str, Any] | None) -> str | None:
        return ((snapshot or {}).get("subject", {}).get("client") or {}).get("id")

    @staticmethod
    def _retries() -> int:
        message = CurrentMessage.get_current_message()
        return int(message.options.get("retries", 0)) if message is not None else MAX_RETRIES


def connect_transports(source: Deployment | Config) -> dict[str, Transport]:
    """The real transports of the enabled channels, built from their settings (the worker's job only).

    Raises:
        ConfigError: listing what every channel that cannot connect is missing, not only the first's.
    """
    deployment = as_deployment(source)
    config = deployment.config
    transports: dict[str, Transport] = {}
    problems: list[Problem] = []
    for name, channel in deployment.registry.channels.items():
        if name in config.plugins.channels:
            try:
                transports[name] = channel.connect(config.channels.get(name))
            except ConfigError as e:
                problems.extend(e.problems)
    if problems:
        for transport in transports.values():
            transport.close()
        raise ConfigError(problems)
    return transports


def build_pipeline(broker: dramatiq.Broker | None, config: Deployment | Config, store: ScheduleStore, *,
                   transports: Mapping[str, Transport] | None = None, clock: Clock | None = None,
                   min_backoff_ms: int = 1000) -> Pipeline:
    """A pipeline with its ingest and dispatch actors declared on `broker` (None: run inline).

    Args:
        config: the deployment (or a configuration: its plugins are loaded from their entry points).
        min_backoff_ms: the first retry's delay after a transient delivery failure; it doubles
            with each retry, up to five minutes.
    """
    deployment = as_deployment(config)
    pipeline = Pipeline(deployment=deployment, store=store, clock=clock or SystemClock(),
                        transports=transports if transports is not None else connect_transports(deployment), broker=broker)
    if broker is not None:
        if not any(isinstance(m, CurrentMessage) for m in broker.middleware):
            broker.add_middleware(CurrentMessage())
        pipeline.ingest_actor = dramatiq.actor(pipeline.ingest, broker=broker, actor_name=INGEST_ACTOR,
                                               queue_name=pipeline.queue, max_retries=MAX_RETRIES)
        pipeline.dispatch_actor = dramatiq.actor(
            pipeline.dispatch, broker=broker, actor_name=DISPATCH_ACTOR, queue_name=pipeline.queue, max_retries=MAX_RETRIES,
            min_backoff=min_backoff_ms, max_backoff=300_000, throws=(PermanentDeliveryError,),
            retry_when=lambda retries, exc: isinstance(exc, TransientDeliveryError) and retries < MAX_RETRIES)
    return pipeline


def open_broker(url: str) -> dramatiq.Broker:
    """The Dramatiq broker a URL names: memory://, redis://..., amqp://..."""
    if url.startswith("memory://"):
        from dramatiq.brokers.stub import StubBroker
        return StubBroker()
    if url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker
        # messages a dead worker had taken are requeued by the others' queue maintenance, once its heartbeat
        # is a minute old; Dramatiq's default (1 command in 1,000) can leave them there for many minutes
        # when the queues are quiet, so maintenance runs on 1 command in 10
        return RedisBroker(url=url, maintenance_chance=MAINTENANCE_CHANCE)
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker
        return RabbitmqBroker(url=url)
    raise ValueError(f"{url!r} is not a broker URL (use memory://, redis://host:6379/0 or amqp://user:pass@host:5672)")


def events_from_lines(lines: Iterable[str | bytes], reader: EventReader | None = None) -> Iterable[tuple[int, Event | EventError]]:
    """Parse JSON lines into events, yielding the error in place of a malformed one (line numbers from 1).

    Args:
        reader: checks each event against a configuration too (its locations, unknown keys).
    """
    for number, line in enumerate(lines, 1):
        # a line is text or bytes (files are read as bytes, so a line that is not UTF-8 is one bad event)
        if not line.strip():
            continue
        try:
            yield number, reader.read(line) if reader is not None else Event.from_json(line)
        except EventError as e:
            yield number, e
