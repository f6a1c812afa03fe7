"""Prometheus metrics of the processes (``--metrics-port``): what was sent, skipped and failed, how late, retries, queues.

=====================================  =========  ==================================================================
metric                                 type       what
=====================================  =========  ==================================================================
``tidings_messages_total``             counter    delivery-log entries by ``rule``, ``channel``, ``status`` (sent,
                                                  skipped, failed, ...) and ``reason``
``tidings_due_to_send_lag_seconds``    histogram  from when a message was planned to go out to when it was sent,
                                                  by ``rule`` and ``channel``
``tidings_retries_total``              counter    delivery attempts to be retried, by ``reason``
``tidings_queue_messages``             gauge      the deployment's queue, by ``queue`` and ``state`` (ready,
                                                  delayed, dead), read when scraped
``tidings_pending_messages``           gauge      messages waiting in the store, read when scraped
``tidings_due_messages``               gauge      of those, the ones due now, read when scraped
``dramatiq_*``                         various    Dramatiq's own Prometheus middleware: messages processed, errors,
                                                  retries, dead-lettered, in progress, durations, per actor
=====================================  =========  ==================================================================

Every process of a machine writes its counters to one directory (prometheus_client's multiprocess mode,
which Dramatiq's middleware uses as well), and the process that serves the port (the parent under
``--processes``) adds them up, so one scrape sees the sum of its worker processes. `prepare` must run
before anything imports ``prometheus_client``: the mode is chosen when that module is imported.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from dramatiq.middleware import Middleware

if TYPE_CHECKING:
    import dramatiq

    from tidings.deployment import Deployment
    from tidings.pipeline import Pipeline

__all__ = ["LAG_BUCKETS", "instrument", "prepare", "serve"]

DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
LAG_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)


def prepare() -> str:
    """The metrics directory of this process and its children (made if none is set); call before any metric exists."""
    directory = os.environ.get(DIRECTORY) or tempfile.mkdtemp(prefix="tidings-metrics-")
    os.environ[DIRECTORY] = directory
    os.environ["prometheus_multiproc_dir"] = directory
    os.environ["dramatiq_prom_db"] = directory   # Dramatiq's middleware reads it when first imported
    return directory


class _Recorder(Middleware):
    """Counts what the pipeline records and the retries, and knows the planned times of the dispatches in hand."""

    def __init__(self, pipeline: Pipeline) -> None:
        from prometheus_client import Counter, Histogram
        self.pipeline = pipeline
        # idempotency key -> planned time of the messages in hand, popped by their entry (bounded: a dispatch
        # that finds its message stale records nothing, and its key is forgotten when the map is cleared)
        self.planned_at: dict[str, datetime] = {}
        self.messages = Counter("tidings_messages", "Delivery-log entries by rule, channel, status and reason.",
                                ["rule", "channel", "status", "reason"])
        self.lag = Histogram("tidings_due_to_send_lag_seconds", "From a message's planned time to its sending.",
                             ["rule", "channel"], buckets=LAG_BUCKETS)
        self.retries = Counter("tidings_retries", "Delivery attempts that are to be retried, by reason.", ["reason"])

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        from tidings.pipeline.actors import DISPATCH_ACTOR, claims_of
        if message.actor_name == DISPATCH_ACTOR and message.args:
            # a batch's slots are delivered by other threads: each planned time is kept by idempotency key
            if len(self.planned_at) > 10_000:
                self.planned_at.clear()
            for slot, _ in claims_of(message.args):
                pending = self.pipeline.store.pending(slot)
                if pending is not None:
                    self.planned_at[pending.key] = pending.planned

    def after_enqueue(self, broker: dramatiq.Broker, message: Any, delay: int | None) -> None:
        # every retry of a delivery is a dispatch message sent on with its last Failure noted: Dramatiq's
        # Retries sending a failed one again, or a batch sending on a slot of its own that is to be retried
        from tidings.pipeline.actors import DISPATCH_ACTOR
        from tidings.pipeline.retries import FAILURE_OPTION
        # (sent with a delay: a delayed message moved to its queue when due is enqueued again, without one)
        retried = message.actor_name == DISPATCH_ACTOR and delay is not None
        failure = message.options.get(FAILURE_OPTION) if retried else None
        if failure is not None:
            self.retries.labels(reason=str(failure.get("reason") or "")).inc()

    def record(self, entry: dict[str, Any]) -> None:
        """A delivery-log listener."""
        rule, channel = str(entry.get("rule") or ""), str(entry.get("channel") or "")
        self.messages.labels(rule=rule, channel=channel, status=str(entry.get("status")),
                             reason=str(entry.get("reason") or "")).inc()
        planned = self.planned_at.pop(str(entry.get("key") or ""), None)
        if entry.get("status") == "sent" and planned is not None:
            at = datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00"))
            self.lag.labels(rule=rule, channel=channel).observe(max(0.0, (at - planned).total_seconds()))


def instrument(pipeline: Pipeline) -> None:
    """Count `pipeline`'s delivery log and retries, and add Dramatiq's own Prometheus middleware to its broker."""
    from dramatiq.middleware.prometheus import Prometheus
    broker = pipeline.broker
    assert broker is not None
    recorder = _Recorder(pipeline)
    broker.add_middleware(recorder)
    broker.add_middleware(Prometheus())   # its metrics appear after the process_boot the worker emits
    pipeline.listeners.append(recorder.record)


class _Gauges:
    """The gauges read from the store and the broker when scraped, by the process serving the port."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from tidings.runtime.status import status
        try:
            found = status(self.deployment, now=datetime.now(timezone.utc))
        except Exception:   # noqa: BLE001  # the store is away: the outage line says so, the scrape goes on
            return
        queue = GaugeMetricFamily("tidings_queue_messages", "Messages in the deployment's queues.", labels=["queue", "state"])
        for name, depth in found["queues"].items():
            for state, count in depth.items():
                queue.add_metric([name, state], count)
        yield queue
        yield GaugeMetricFamily("tidings_pending_messages", "Messages waiting in the store.", value=found["pending"])
        if found["due_now"] is not None:
            yield GaugeMetricFamily("tidings_due_messages", "Pending messages due now.", value=found["due_now"])


def serve(port: int, deployment: Deployment, *, address: str = "0.0.0.0") -> Any:
    """Serve the metrics of every process writing to this one's directory on `port`; returns the HTTP server."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=os.environ[DIRECTORY])  # type: ignore[no-untyped-call]
    registry.register(_Gauges(deployment))
    server, _ = start_http_server(port, addr=address, registry=registry)
    return server
