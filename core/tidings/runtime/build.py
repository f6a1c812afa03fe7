"""A process's pipeline for a deployment: the broker and the store it names, and the transports if it delivers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tidings.deployment import Deployment
    from tidings.pipeline import Pipeline

__all__ = ["pipeline_for"]


def pipeline_for(deployment: Deployment, *, connect: bool = False, inline_if_embedded: bool = False,
                 concurrency: int = 1) -> Pipeline:
    """The pipeline of one process; only with `connect` (the worker's case) are transports built.

    The scheduler and `publish` never deliver (the scheduler hands due messages to the queue, and
    `publish` ingests), so they need no provider secret and must not fail for lack of one.

    Args:
        inline_if_embedded: with the embedded in-memory broker, run without a broker (nothing in
            another process could consume an in-memory queue).
        concurrency: messages a worker delivers at once, over every batch its threads took.

    Raises:
        ConfigError: when a transport cannot be built (a secret missing from this environment).
    """
    from tidings.pipeline import build_pipeline, connect_transports, open_broker
    from tidings.store import open_store
    cfg = deployment.config
    # the worker waits a short Redis outage out inside a command, with an event or a batch in hand (its probe,
    # on a connection of its own, still logs the outage); the scheduler's loop and publish see it at once
    store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace, ride_out=connect)
    transports = connect_transports(deployment, store=store) if connect else {}   # a channel may keep data in it
    embedded = cfg.tidings.broker.startswith("memory://")
    broker = None if inline_if_embedded and embedded else open_broker(cfg.tidings.broker)
    return build_pipeline(broker, deployment, store, transports=transports, concurrency=concurrency)


def close(pipeline: Pipeline) -> None:
    """Close what `pipeline_for` opened: the broker's connections and the store's."""
    if pipeline.broker is not None:
        pipeline.broker.close()
    pipeline.store.close()
