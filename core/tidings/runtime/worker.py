"""The worker process's loop: Dramatiq's worker on the pipeline's actors, watched through outages; SIGHUP reloads.

Dramatiq's consumers reconnect by themselves when the broker goes away; a message being processed when
the store goes away fails and is retried (an event's ingest) or comes back with its slot's lease (a
dispatch), so nothing is lost. What this loop adds is the operator's view: every second it asks the
store and the broker whether they answer, and logs one line when one stops answering and one when it is
back (Dramatiq's own line every few seconds is shown at debug level only).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from attrs import define

from tidings.errors import ConfigError
from tidings.logging import get_logger
from tidings.runtime.build import close, pipeline_for
from tidings.runtime.heartbeats import Heartbeat
from tidings.runtime.outages import Outage, QuietReconnects, is_connection_error
from tidings.runtime.probes import BrokerProbe, probe_store
from tidings.runtime.reload import reloaded
from tidings.runtime.supervisor import parent_gone

if TYPE_CHECKING:
    from collections.abc import Callable

    import dramatiq

    from tidings.deployment import Deployment
    from tidings.pipeline import Pipeline
    from tidings.runtime.signals import Signals

__all__ = ["run_worker"]

log = get_logger(__name__)


@define
class _Running:
    """One configuration's pipeline, Dramatiq worker and broker probe."""

    pipeline: Pipeline
    worker: dramatiq.Worker
    probe: BrokerProbe
    heartbeat: Heartbeat

    @classmethod
    def start(cls, pipeline: Pipeline, *, threads: int, metrics: bool = False) -> _Running:
        from dramatiq import Worker
        broker = pipeline.broker
        assert broker is not None
        if metrics:
            from tidings.runtime.metrics import instrument
            instrument(pipeline)
        broker.emit_after("process_boot")
        worker = Worker(broker, worker_threads=threads)
        worker.start()
        cfg = pipeline.config.tidings
        return cls(pipeline, worker, BrokerProbe(broker), Heartbeat(cfg.store, cfg.namespace, "worker", {"threads": threads}))

    def look(self, store: Outage, broker: Outage) -> None:
        """Ask the store and the broker whether they answer (and refresh the heartbeat): outages are logged."""
        def at_store() -> None:
            probe_store(self.pipeline.store)
            self.heartbeat.beat()
        _look(at_store, store)
        _look(self.probe, broker)

    def stop(self) -> None:
        """Finish the messages in hand, give back those prefetched, and close every connection."""
        self.worker.stop()
        self.heartbeat.stop()
        self.probe.close()
        for transport in self.pipeline.transports.values():
            closer: Callable[[], Any] | None = getattr(transport, "close", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    closer()
        close(self.pipeline)


def run_worker(deployment: Deployment, *, config_path: str, signals: Signals, threads: int = 4,
               concurrency: int = 1, probe_interval: float = 1.0, metrics: bool = False) -> None:
    """Consume the deployment's queue with `threads` worker threads until SIGTERM or SIGINT.

    With `metrics`, what it does is counted for Prometheus (`tidings.runtime.metrics`; the port is served by
    the caller). SIGHUP reloads the configuration from `config_path`: checked first (channel secrets included), the
    new one replaces the old after the messages in hand are finished; a bad one is refused with a log
    line and the old one keeps running.

    Raises:
        ConfigError: when the deployment's transports cannot be built at start.
    """
    store, broker = Outage("store", "worker"), Outage("broker", "worker")
    quiet = QuietReconnects(broker, store=store)
    quiet.install()
    running = _Running.start(pipeline_for(deployment, connect=True, concurrency=concurrency), threads=threads, metrics=metrics)
    running.look(store, broker)
    log.warning("worker_started", broker=_where(deployment.config.tidings.broker), threads=threads,
                namespace=deployment.config.tidings.namespace)
    try:
        while not signals.stop.is_set():
            signals.wait(probe_interval)
            if signals.stop.is_set():
                break
            if parent_gone():   # a --processes child whose parent was killed: no orphan left running
                log.warning("worker_parent_gone", action="stopping as on SIGTERM")
                break
            if signals.take_reload():
                running = _reload(running, config_path, threads=threads, concurrency=concurrency, metrics=metrics)
            running.look(store, broker)
    finally:
        running.stop()
        quiet.remove()
    log.warning("worker_stopped")


def _reload(running: _Running, config_path: str, *, threads: int, concurrency: int, metrics: bool) -> _Running:
    fresh = reloaded(config_path, process="worker")
    if fresh is None:
        return running
    try:
        pipeline = pipeline_for(fresh, connect=True, concurrency=concurrency)
    except ConfigError as e:
        log.error("config_refused", process="worker", config=config_path, problems=[str(p) for p in e.problems],
                  action="keeping the configuration in use")
        return running
    running.stop()
    log.warning("config_reloaded", process="worker", config=config_path, namespace=fresh.config.tidings.namespace)
    return _Running.start(pipeline, threads=threads, metrics=metrics)


def _look(probe: Callable[[], None], outage: Outage) -> None:
    try:
        probe()
    except Exception as e:
        if not is_connection_error(e):
            raise
        outage.failed(e)
    else:
        outage.succeeded()


def _where(url: str) -> str:
    """A server's URL without its credentials."""
    return url.split("@")[-1]
