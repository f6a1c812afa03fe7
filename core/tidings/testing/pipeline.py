"""The real pipeline in a test: its actors on Dramatiq's StubBroker, one worker thread, a virtual clock.

Nothing is mocked: events go through the same ingest and dispatch actors as in production, and
a transient failure is retried by Dramatiq itself (10 ms apart at first, never more than 200 ms apart,
by default, so tests stay quick).
Channels without a transport of the test's own get a `RecordingTransport`, which keeps what it
would have sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attrs import define, field

from tidings.clock import VirtualClock
from tidings.recording import RecordingTransport

if TYPE_CHECKING:
    import dramatiq
    from dramatiq.brokers.stub import StubBroker

    from tidings.deployment import Deployment
    from tidings.models import Event
    from tidings.pipeline import Pipeline
    from tidings.plugin_types import RenderedMessage, Transport
    from tidings.rules import Config
    from tidings.store import ScheduleStore


@define
class StubPipeline:
    """A running pipeline on a stub broker; `stop` it when done (the `start_pipeline` fixture does)."""

    pipeline: Pipeline
    broker: StubBroker
    worker: dramatiq.Worker
    clock: VirtualClock
    transports: Mapping[str, Transport] = field(factory=dict)
    stopped: bool = False

    @classmethod
    def start(cls, config: Deployment | Config, *, clock: VirtualClock, store: ScheduleStore | None = None,
              transports: Mapping[str, Transport] | None = None, min_backoff_ms: int = 10,
              max_backoff_ms: int = 200, worker_threads: int = 1) -> StubPipeline:
        """Build the pipeline of a deployment on a fresh stub broker and start its worker.

        Args:
            config: the deployment (a bare `Config` gets the plugins it enables, from their entry points).
            transports: by channel name; every enabled channel missing here records instead.
            min_backoff_ms: the first retry's delay after a transient failure.
            max_backoff_ms: the longest delay between two retries (an outage is retried at this pace).
        """
        from dramatiq import Worker
        from dramatiq.brokers.stub import StubBroker

        from tidings.deployment import as_deployment
        from tidings.pipeline import build_pipeline
        from tidings.store.memory import MemoryStore

        deployment = as_deployment(config)
        chosen = dict(transports or {})
        for name in deployment.config.plugins.channels:
            chosen.setdefault(name, RecordingTransport(name, clock))
        broker = StubBroker()
        broker.emit_after("process_boot")
        pipeline = build_pipeline(broker, deployment, store if store is not None else MemoryStore(), transports=chosen,
                                  clock=clock, min_backoff_ms=min_backoff_ms, max_backoff_ms=max_backoff_ms)
        worker = Worker(broker, worker_threads=worker_threads, worker_timeout=20)
        worker.start()
        return cls(pipeline=pipeline, broker=broker, worker=worker, clock=clock, transports=chosen)

    def publish(self, event: Event | Mapping[str, Any]) -> None:
        """Publish an event and wait until the worker has planned it."""
        self.pipeline.publish(event)
        self.drain()

    def run(self, until: datetime | None = None) -> int:
        """Move the clock to `until` (if given), send what is due by then, and wait for the worker.

        Returns:
            How many messages fell due.
        """
        if until is not None:
            self.clock.set(until)
        self.drain()
        due = self.pipeline.enqueue_due()
        self.drain()
        return due

    def drain(self) -> None:
        """Wait until the queue is empty; an actor's unexpected exception fails the test here."""
        self.broker.join(self.pipeline.queue, fail_fast=True)

    def recorded(self, channel: str) -> list[RenderedMessage]:
        """The messages the recording transport of `channel` was given, in order."""
        transport = self.transports[channel]
        if not isinstance(transport, RecordingTransport):
            raise TypeError(f"the {channel} channel has a transport of the test's own ({type(transport).__name__})")
        return [entry["message"] for entry in transport.sent]

    def __enter__(self) -> StubPipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the worker and the broker, and close the transports (once)."""
        if self.stopped:
            return
        self.stopped = True
        self.worker.stop()
        self.broker.close()
        for transport in self.transports.values():
            transport.close()
