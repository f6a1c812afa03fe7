"""The pipeline of one process: its parts bound to a configuration, a store and a clock, each built when used.

A process builds only what it uses. `tidings publish` reads events and sends them to the queue;
the scheduler claims due messages and sends them to dispatch; only a worker delivers, so only a
worker renders templates and connects transports (and needs the providers' secrets): the delivery
is built the first time a message is dispatched, with the transports it was given, or connected then.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from attrs import Factory, define, field

from tidings.clock import Clock, SystemClock
from tidings.deployment import Deployment, as_deployment
from tidings.errors import EventError, PublishError
from tidings.intake import EventReader
from tidings.logging import get_logger
from tidings.models import Event
from tidings.pipeline.actors import Actors, declare_actors
from tidings.pipeline.deliverylog import DeliveryLog, Listener
from tidings.pipeline.delivery import Delivery
from tidings.pipeline.dispatch import Dispatch
from tidings.pipeline.gone import GoneAddresses
from tidings.pipeline.ingest import Ingest
from tidings.pipeline.publish import enqueue_many, unacknowledged
from tidings.pipeline.retries import MAX_BACKOFF_MS, DeliveryRetry
from tidings.pipeline.scheduler import Scheduler
from tidings.pipeline.transports import connect_transports

if TYPE_CHECKING:
    import dramatiq

    from tidings.pipeline.retries import Failure
    from tidings.plugin_types import Transport
    from tidings.registry import Registry
    from tidings.rules import Config, Rule
    from tidings.store import ScheduleStore

__all__ = ["PUBLISH_BATCH", "Pipeline", "build_pipeline"]

PUBLISH_BATCH = 500   # events sent to the broker in one round trip by `publish_many`

log = get_logger("tidings.pipeline")


@define
class Pipeline:
    """Publish, ingest, scheduling and dispatch of one deployment, store and clock.

    With a broker, `publish` and `enqueue_due` send messages to its actors; without one (None),
    everything runs inline, in the calling thread, and a delivery that fails is not retried.

    `concurrency` is how many messages of the dispatched batches this process delivers at once, in
    a pool of threads that all its worker threads share: deliveries mostly wait for a provider's
    answer (50–500 ms), so a worker delivers many more at once than it has Dramatiq threads. With
    1, a batch is delivered in order, in the calling thread (simulate and tests rely on that order).
    """

    deployment: Deployment = field(converter=as_deployment)   # a Config is taken too: its plugins are loaded
    store: ScheduleStore
    clock: Clock = field(factory=SystemClock)
    broker: dramatiq.Broker | None = None
    # None: the enabled channels' real transports, connected the first time a message is dispatched
    transports_given: Mapping[str, Transport] | None = field(default=None, alias="transports")
    actors: Actors | None = None
    rules: Mapping[str, Rule] = field(default=Factory(lambda self: {r.id: r for r in self.config.rules}, takes_self=True))
    deliverylog: DeliveryLog = field(default=Factory(
        lambda self: DeliveryLog(self.store, self.registry.recorders), takes_self=True))
    # checks events against the configuration: its locations, and keys the contract does not define
    reader: EventReader = field(default=Factory(lambda self: EventReader.for_config(self.config), takes_self=True))
    concurrency: int = 1
    _ingest: Ingest | None = field(default=None, init=False)
    _dispatch: Dispatch | None = field(default=None, init=False)
    _building: threading.Lock = field(factory=threading.Lock, init=False)
    _pool: ThreadPoolExecutor | None = field(default=None, init=False)

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

    @property
    def listeners(self) -> list[Listener]:
        """Called with every delivery-log entry (a dict), after the `tidings_delivery_recorded` plugins."""
        return self.deliverylog.listeners

    @property
    def ingest_actor(self) -> dramatiq.Actor[..., None] | None:
        return self.actors.ingest if self.actors is not None else None

    @property
    def dispatch_actor(self) -> dramatiq.Actor[..., None] | None:
        return self.actors.dispatch if self.actors is not None else None

    @property
    def transports(self) -> Mapping[str, Transport]:
        """The transports messages are delivered through: those given, or those connected at the first dispatch."""
        if self._dispatch is not None:
            return self._dispatch.delivery.transports
        return self.transports_given if self.transports_given is not None else {}

    # ------------------------------------------------------------ the steps

    def publish(self, event: Event | Mapping[str, Any]) -> Event:
        """Validate an event and send it to the ingest actor (without a broker: plan it here).

        Raises:
            EventError: naming the field and the problem.
        """
        parsed = self.reader.read(event)
        if self.actors is None:
            self._ingestion().plan(parsed)
        else:
            self.actors.ingest.send(parsed.to_dict())
        return parsed

    def publish_many(self, events: Iterable[Event | Mapping[str, Any]], *,
                     batch: int = PUBLISH_BATCH) -> Iterator[tuple[int, Event | EventError | PublishError]]:
        """Validate events and send them to the ingest actor `batch` at a time (without a broker: plan each here).

        Yields, for each event by its position (from 0) and once its batch went out: the `Event` as
        read, the `EventError` that refused it (nothing was sent), or the `PublishError` of one the
        broker did not acknowledge (it may not be queued: publish it again).
        """
        if self.actors is None:
            for index, event in enumerate(events):
                try:
                    yield index, self.publish(event)
                except EventError as e:
                    yield index, e
            return
        waiting: list[tuple[int, Event | EventError]] = []
        for index, event in enumerate(events):
            try:
                waiting.append((index, self.reader.read(event)))
            except EventError as e:
                waiting.append((index, e))
            if len(waiting) >= batch:
                yield from self._send_events(waiting)
                waiting = []
        yield from self._send_events(waiting)

    def _send_events(self, read: list[tuple[int, Event | EventError]]) -> Iterator[tuple[int, Event | EventError | PublishError]]:
        assert self.actors is not None
        events = [event for _, event in read if isinstance(event, Event)]
        outcomes = iter(enqueue_many(self.actors.ingest.broker, [self.actors.ingest.message(e.to_dict()) for e in events]))
        for index, event in read:
            if isinstance(event, EventError):
                yield index, event
                continue
            failure = next(outcomes)
            if failure is None:
                yield index, event
            else:
                yield index, PublishError(f"event {event.id}: {unacknowledged(failure)}; publish it again", event_id=event.id)

    def ingest(self, raw: Mapping[str, Any]) -> None:
        """Run every enabled rule's trigger on one event and apply the intents to the store (the ingest actor)."""
        self._ingestion()(raw)

    def enqueue_due(self, *, limit: int = 500) -> int:
        """Claim the due pending messages and hand them to the dispatch actor in batches (or dispatch them here).

        Returns:
            How many were claimed.
        """
        return Scheduler(self.store, self.clock, self.config.tidings.lease.elapsed(), self.actors.send_dispatch
                         if self.actors is not None else self._dispatch_here).enqueue_due(limit=limit)

    def dispatch(self, slot: str, version: int, skip: Collection[str] = ()) -> None:
        """Deliver one claimed message if it is still current (the dispatch actor); raises `DeliveryRetry`."""
        self._dispatcher()(slot, version, skip)

    def dispatch_many(self, claims: Sequence[tuple[str, int]]) -> list[tuple[str, int, DeliveryRetry]]:
        """Deliver a batch of claimed messages, `concurrency` at a time; returns those to be retried.

        A message whose store or broker could not be reached (an outage longer than the store rides
        out) is retried like a transient failure, soon: its lease is long, and its batch message is
        acknowledged. A message that fails for a reason that is not a delivery's (a bug in tidings
        itself) is logged and left to its lease, which brings it back to a scheduler, as for a worker that died.
        """
        dispatcher = self._dispatcher()
        if self.concurrency <= 1 or len(claims) <= 1:
            return dispatcher.many(claims)
        return dispatcher.many(claims, run=self._executor().map)

    def give_up(self, slot: str, version: int, failure: Failure, skip: Collection[str] = ()) -> tuple[str, ...] | None:
        """Record a message whose retries ran out (the retries-exhausted actor); see `Dispatch.give_up`."""
        return self._dispatcher().give_up(slot, version, failure, skip)

    # ------------------------------------------------------------ parts, built when used

    def _ingestion(self) -> Ingest:
        if self._ingest is None:   # cheap and pure: two threads building it at once build the same
            self._ingest = Ingest(config=self.config, rules=self.rules, triggers=self.registry.triggers,
                                  store=self.store, clock=self.clock, deliverylog=self.deliverylog, reader=self.reader)
        return self._ingest

    def _dispatch_here(self, claims: Sequence[tuple[str, int]]) -> None:
        """Dispatch without a broker, in order: no retries, so a failure is given up at once."""
        for slot, version in claims:
            skip: tuple[str, ...] | None = ()
            while skip is not None:
                try:
                    self.dispatch(slot, version, skip)
                    break
                except DeliveryRetry as retry:
                    skip = self.give_up(slot, version, retry.failure, skip)

    def _executor(self) -> ThreadPoolExecutor:
        with self._building:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="tidings-delivery")
            return self._pool

    def _dispatcher(self) -> Dispatch:
        # worker threads take their first messages at once: one of them builds, the others wait for it
        with self._building:
            if self._dispatch is None:
                self._dispatch = self._build_dispatch()
            return self._dispatch

    def _build_dispatch(self) -> Dispatch:
        deployment = self.deployment
        transports = self.transports_given if self.transports_given is not None else connect_transports(deployment, store=self.store)
        delivery = Delivery(config=self.config, rules=self.rules, channels=self.registry.channels, store=self.store,
                            deliverylog=self.deliverylog, gone=GoneAddresses(self.store, self.deliverylog),
                            templates=deployment.templates, transports=transports)
        return Dispatch(config=self.config, rules=self.rules, triggers=self.registry.triggers, store=self.store,
                        clock=self.clock, deliverylog=self.deliverylog, delivery=delivery)


def build_pipeline(broker: dramatiq.Broker | None, config: Deployment | Config, store: ScheduleStore, *,
                   transports: Mapping[str, Transport] | None = None, clock: Clock | None = None,
                   min_backoff_ms: int = 1000, max_backoff_ms: int = MAX_BACKOFF_MS, concurrency: int = 1) -> Pipeline:
    """A pipeline with its actors declared on `broker` (None: everything runs inline).

    Args:
        config: the deployment (or a configuration: its plugins are loaded from their entry points).
        transports: what messages are delivered through; None: the enabled channels' real transports,
            connected when the first message is dispatched (`connect_transports`).
        min_backoff_ms: the first retry's delay after a transient delivery failure; it doubles
            with each retry, up to `max_backoff_ms` (five minutes). A provider's ``Retry-After`` takes its place.
        concurrency: messages of dispatched batches delivered at once by this process (a worker's
            ``--concurrency``); 1: one after another, in order.
    """
    pipeline = Pipeline(deployment=as_deployment(config), store=store, clock=clock or SystemClock(), broker=broker,
                       transports=transports, concurrency=concurrency)
    # the store keeps history for the configured retention, by the pipeline's clock (a simulation's too)
    store.set_retention(pipeline.config.tidings.retention.elapsed(), clock=pipeline.clock)
    if broker is not None:
        pipeline.actors = declare_actors(broker, queue=pipeline.queue, ingest=pipeline.ingest, dispatch=pipeline.dispatch,
                                         dispatch_many=pipeline.dispatch_many, give_up=pipeline.give_up,
                                         min_backoff_ms=min_backoff_ms, max_backoff_ms=max_backoff_ms)
    return pipeline
