"""The long-running processes and the way events come in: worker, scheduler, publish."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click

from tidings.cli.common import load, report
from tidings.errors import ConfigError, EventError

__all__ = ["publish", "scheduler", "worker"]


def _runtime(config_path: str, *, connect: bool = False, inline_if_embedded: bool = False) -> tuple[Any, Any]:
    """The configuration and its pipeline; only with `connect` (the worker) are transports built.

    The scheduler and `publish` never deliver (the scheduler hands due messages to the queue, and
    `publish` ingests), so they need no provider secret and must not fail for lack of one.

    Args:
        inline_if_embedded: with the embedded in-memory broker, run without a broker (nothing in
            another process could consume an in-memory queue).
    """
    from tidings.pipeline import build_pipeline, connect_transports, open_broker
    from tidings.store import open_store
    deployment = load(config_path)
    cfg = deployment.config
    store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace)
    try:
        transports = connect_transports(deployment, store=store) if connect else {}
    except ConfigError as e:
        report(config_path, e)
        sys.exit(1)
    embedded = cfg.tidings.broker.startswith("memory://")
    broker = None if inline_if_embedded and embedded else open_broker(cfg.tidings.broker)
    return cfg, build_pipeline(broker, deployment, store, transports=transports)


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--threads", default=4, show_default=True, help="Worker threads.")
def worker(config_path: str, threads: int) -> None:
    """Consume the queue: ingest events and deliver due messages, until SIGTERM."""
    from dramatiq import Worker

    from tidings.logging import get_logger
    cfg, pipeline = _runtime(config_path, connect=True)
    stop = _stop_event()
    pipeline.broker.emit_after("process_boot")
    w = Worker(pipeline.broker, worker_threads=threads)
    w.start()
    get_logger("tidings.cli").warning("worker_started", broker=cfg.tidings.broker.split("@")[-1], threads=threads)
    stop.wait()
    w.stop()
    pipeline.broker.close()


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks at the store.")
def scheduler(config_path: str, interval: float) -> None:
    """Move due messages from the schedule store to the queue, until SIGTERM."""
    from tidings.logging import get_logger
    cfg, pipeline = _runtime(config_path)
    stop = _stop_event()
    logger = get_logger("tidings.cli")
    logger.warning("scheduler_started", store=cfg.tidings.store.split("@")[-1])
    while not stop.is_set():
        if pipeline.enqueue_due() == 0:
            stop.wait(interval)
    pipeline.store.close()


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.argument("events_path", default="-", type=click.Path(dir_okay=False, allow_dash=True))
def publish(config_path: str, events_path: str) -> None:
    """Publish events (JSON lines from a file or stdin) to the pipeline."""
    from tidings.pipeline import events_from_lines
    _, pipeline = _runtime(config_path, inline_if_embedded=True)
    published = rejected = 0
    with click.open_file(events_path, "rb") as lines:
        for number, item in events_from_lines(lines, pipeline.reader):
            if isinstance(item, EventError):
                click.echo(f"line {number}: {item}", err=True)
                rejected += 1
                continue
            pipeline.publish(item)
            published += 1
    click.echo(f"published {published} event{'s' if published != 1 else ''}" + (f", rejected {rejected}" if rejected else ""))
    if rejected:
        sys.exit(1)
