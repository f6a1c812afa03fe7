"""The scheduler process's loop: due messages to the queue, through outages, until SIGTERM; SIGHUP reloads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidings.logging import get_logger
from tidings.runtime.build import close, pipeline_for
from tidings.runtime.heartbeats import Heartbeat
from tidings.runtime.outages import Backoff, Outage, QuietReconnects, is_connection_error
from tidings.runtime.probes import BrokerProbe
from tidings.runtime.reload import reloaded

if TYPE_CHECKING:
    from tidings.deployment import Deployment
    from tidings.runtime.signals import Signals

__all__ = ["run_scheduler"]

log = get_logger(__name__)


def run_scheduler(deployment: Deployment, *, config_path: str, signals: Signals, interval: float = 1.0) -> None:
    """Claim due messages and hand them to the queue every `interval` seconds (at once while there are more).

    An unreachable store or broker is waited out with backoff and told once when it goes and once when it
    comes back: what was claimed and not handed over comes due again when its lease runs out, so nothing
    is lost. SIGTERM or SIGINT stops the loop after the step in hand; SIGHUP reloads the configuration
    from `config_path`, if it passes `tidings check`.
    """
    pipeline = pipeline_for(deployment)
    store, broker = Outage("store", "scheduler"), Outage("broker", "scheduler")
    probe = BrokerProbe(pipeline.broker) if pipeline.broker is not None else None
    backoff = Backoff()
    heartbeat = _heartbeat(deployment, interval)
    quiet = QuietReconnects(broker)
    quiet.install()
    log.warning("scheduler_started", store=_where(deployment.config.tidings.store), namespace=deployment.config.tidings.namespace)
    try:
        while not signals.stop.is_set():
            if signals.take_reload():
                fresh = reloaded(config_path, process="scheduler")
                if fresh is not None:
                    close(pipeline)
                    heartbeat.stop()
                    if probe is not None:
                        probe.close()
                    deployment, pipeline = fresh, pipeline_for(fresh)
                    heartbeat = _heartbeat(deployment, interval)
                    probe = BrokerProbe(pipeline.broker) if pipeline.broker is not None else None
                    log.warning("config_reloaded", process="scheduler", config=config_path)
            if broker.down and probe is not None:
                try:
                    probe()
                except Exception as e:
                    if not is_connection_error(e):
                        raise
                    signals.wait(backoff.delay())
                    continue
                broker.succeeded()
            try:
                handed = pipeline.enqueue_due()
                heartbeat.beat()
            except Exception as e:
                if not is_connection_error(e):
                    raise
                (broker if _from_broker(e) else store).failed(e)
                signals.wait(backoff.delay())
                continue
            store.succeeded()
            if handed:
                broker.succeeded()
            backoff.reset()
            if handed == 0:
                signals.wait(interval)
    finally:
        quiet.remove()
        heartbeat.stop()
        if probe is not None:
            probe.close()
        close(pipeline)
    log.warning("scheduler_stopped")


def _heartbeat(deployment: Deployment, interval: float) -> Heartbeat:
    cfg = deployment.config.tidings
    return Heartbeat(cfg.store, cfg.namespace, "scheduler", {"interval": interval})


def _from_broker(error: BaseException) -> bool:
    root = type(error).__module__.split(".")[0]
    return root in ("dramatiq", "pika")


def _where(url: str) -> str:
    """A server's URL without its credentials."""
    return url.split("@")[-1]
