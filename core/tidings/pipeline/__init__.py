"""The pipeline: events in, messages out, each exactly once.

An event is *published* (validated, sent to the queue), *ingested* by a worker (every enabled rule's
trigger plans it, and its intents become pending messages in the schedule store), *claimed* by a
scheduler when a message falls due, and *dispatched* by a worker (checked, rendered, delivered
through the first usable channel, retried by Dramatiq when a provider may get over its failure).
Every decision and outcome goes to the delivery log. Nothing runs at import time: `build_pipeline`
binds the steps to a configuration, a store and a broker, and declares the actors on it.

===============  ======================================================================================
module           holds
===============  ======================================================================================
``build``        `Pipeline` (the steps of one process, each part built when first used), `build_pipeline`
``transports``   the real transports of the enabled channels, a worker's only (`connect_transports`)
``publish``      reading events from JSON lines (`events_from_lines`)
``ingest``       planning one event with every enabled rule's trigger (`Ingest`)
``intents``      a trigger's intents applied to the store (`Intents`)
``history``      the read-only view of the store a trigger plans with (`StoreHistory`)
``plan``         one event's reads and writes, written back in one round trip (`Plan`)
``scheduler``    claiming due messages and handing each to a dispatch (`Scheduler`)
``dispatch``     checking a claimed message is still due, and giving up on one (`Dispatch`)
``delivery``     rendering and sending through the usable channels in order (`Delivery`)
``gone``         addresses a provider reported gone (`GoneAddresses`)
``retries``      retries through Dramatiq: `DeliveryRetry`, `retry_when`, `FailureNotes`
``actors``       the Dramatiq actors, declared on a broker (`declare_actors`)
``broker``       the broker a URL names (`open_broker`)
``deliverylog``  recording, logging and telling observers (`DeliveryLog`)
``keys``         slots, idempotency keys and the order of a subject's events
===============  ======================================================================================

What the steps write, the pending message and the delivery-log entries, are records of the store
(`tidings.store.records`, `tidings.store.entries`): the store is below the pipeline, and keeps them.
"""

from __future__ import annotations

from tidings.pipeline.actors import DISPATCH_ACTOR, EXHAUSTED_ACTOR, INGEST_ACTOR
from tidings.pipeline.broker import MAINTENANCE_CHANCE, open_broker
from tidings.pipeline.build import Pipeline, build_pipeline
from tidings.pipeline.history import StoreHistory
from tidings.pipeline.keys import event_order, idempotency_key, slot_key
from tidings.pipeline.publish import events_from_lines
from tidings.pipeline.retries import MAX_RETRIES
from tidings.pipeline.transports import connect_transports

QUEUE = "tidings"      # the queue of the default namespace; `[tidings] namespace` names another

__all__ = ["DISPATCH_ACTOR", "EXHAUSTED_ACTOR", "INGEST_ACTOR", "MAINTENANCE_CHANCE", "MAX_RETRIES", "QUEUE", "Pipeline",
           "StoreHistory", "build_pipeline", "connect_transports", "event_order", "events_from_lines",
           "idempotency_key", "open_broker", "slot_key"]
