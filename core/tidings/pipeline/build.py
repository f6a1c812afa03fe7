"""The pipeline of one process: its parts bound to a configuration, a store and a clock, each built when used.

A process builds only what it uses. `tidings publish` reads events and sends them to the queue;
the scheduler claims due messages and sends them to dispatch; only a worker delivers, so only a
worker renders templates and connects transports (and needs the providers' secrets): the delivery
is built the first time a message is dispatched, with the transports it was given, or connected then.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from attrs import Factory, define, field

from tidings.clock import Clock, SystemClock
from tidings.deployment import Deployment, as_deployment
from tidings.intake import EventReader
from tidings.models import Event
from tidings.pipeline.actors import Actors, declare_actors
from tidings.pipeline.deliverylog import DeliveryLog, Listener
from tidings.pipeline.delivery import Delivery
from tidings.pipeline.dispatch import Dispatch
from tidings.pipeline.gone import GoneAddresses
from tidings.pipeline.ingest import Ingest
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

__all__ = ["Pipeline", "build_pipeline"]


@define
class Pipeline:
    """Publish, ingest, scheduling and dispatch of one deployment, store and clock.

    With a broker, `publish` and `enqueue_due` send messages to its actors; without one (None),
    everything runs inline, in the calling thread, and a delivery that fails is not retried.
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
    _ingest: Ingest | None = field(default=None, init=False)
    _dispatch: Dispatch | None = field(default=None, init=False)
    _building: threading.Lock = field(factory=threading.Lock, init=False)

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

    def ingest(self, raw: Mapping[str, Any]) -> None:
        """Run every enabled rule's trigger on one event and apply the intents to the store (the ingest actor)."""
        self._ingestion()(raw)

    def enqueue_due(self, *, limit: int = 500) -> int:
        """Claim the due pending messages and hand each to the dispatch actor (or dispatch it here); returns how many."""
        return Scheduler(self.store, self.clock, self.config.tidings.lease.elapsed(), self._send_dispatch
                         if self.actors is not None else self._dispatch_here).enqueue_due(limit=limit)

    def dispatch(self, slot: str, version: int, skip: Collection[str] = ()) -> None:
        """Deliver one claimed message if it is still current (the dispatch actor); raises `DeliveryRetry`."""
        self._dispatcher()(slot, version, skip)

    def give_up(self, slot: str, version: int, failure: Failure, skip: Collection[str] = ()) -> tuple[str, ...] | None:
        """Record a message whose retries ran out (the retries-exhausted actor); see `Dispatch.give_up`."""
        return self._dispatcher().give_up(slot, version, failure, skip)

    # ------------------------------------------------------------ parts, built when used

    def _ingestion(self) -> Ingest:
        if self._ingest is None:   # cheap and pure: two threads building it at once build the same
            self._ingest = Ingest(config=self.config, rules=self.rules, triggers=self.registry.triggers,
                                  store=self.store, clock=self.clock, deliverylog=self.deliverylog, reader=self.reader)
        return self._ingest

    def _send_dispatch(self, slot: str, version: int) -> None:
        assert self.actors is not None
        self.actors.dispatch.send(slot, version)

    def _dispatch_here(self, slot: str, version: int) -> None:
        """Dispatch without a broker: no retries, so a failure is given up at once."""
        skip: tuple[str, ...] | None = ()
        while skip is not None:
            try:
                self.dispatch(slot, version, skip)
                return
            except DeliveryRetry as retry:
                skip = self.give_up(slot, version, retry.failure, skip)

    def _dispatcher(self) -> Dispatch:
        # worker threads take their first messages at once: one of them builds, the others wait for it
        with self._building:
            if self._dispatch is None:
                self._dispatch = self._build_dispatch()
            return self._dispatch

    def _build_dispatch(self) -> Dispatch:
        deployment = self.deployment
        transports = self.transports_given if self.transports_given is not None else connect_transports(deployment)
        delivery = Delivery(config=self.config, rules=self.rules, channels=self.registry.channels, store=self.store,
                            deliverylog=self.deliverylog, gone=GoneAddresses(self.store, self.deliverylog),
                            templates=deployment.templates, transports=transports)
        return Dispatch(config=self.config, rules=self.rules, triggers=self.registry.triggers, store=self.store,
                        clock=self.clock, deliverylog=self.deliverylog, delivery=delivery)


def build_pipeline(broker: dramatiq.Broker | None, config: Deployment | Config, store: ScheduleStore, *,
                   transports: Mapping[str, Transport] | None = None, clock: Clock | None = None,
                   min_backoff_ms: int = 1000, max_backoff_ms: int = MAX_BACKOFF_MS) -> Pipeline:
    """A pipeline with its actors declared on `broker` (None: everything runs inline).

    Args:
        config: the deployment (or a configuration: its plugins are loaded from their entry points).
        transports: what messages are delivered through; None: the enabled channels' real transports,
            connected when the first message is dispatched (`connect_transports`).
        min_backoff_ms: the first retry's delay after a transient delivery failure; it doubles
            with each retry, up to `max_backoff_ms` (five minutes). A provider's ``Retry-After`` takes its place.
    """
    pipeline = Pipeline(deployment=as_deployment(config), store=store, clock=clock or SystemClock(), broker=broker,
                        transports=transports)
    # the store keeps history for the configured retention, by the pipeline's clock (a simulation's too)
    store.set_retention(pipeline.config.tidings.retention.elapsed(), clock=pipeline.clock)
    if broker is not None:
        pipeline.actors = declare_actors(broker, queue=pipeline.queue, ingest=pipeline.ingest, dispatch=pipeline.dispatch,
                                         give_up=pipeline.give_up, min_backoff_ms=min_backoff_ms,
                                         max_backoff_ms=max_backoff_ms)
    return pipeline
