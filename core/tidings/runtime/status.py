"""`tidings status`: what a deployment holds and who works on it, read from its store and its broker.

pending (every message waiting in the store), due now (those whose time has come: a scheduler should
be handing them over), the oldest overdue one's lag, the depth of each of the deployment's queues
(ready, delayed, dead letters), and the workers and schedulers alive (their heartbeats).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from tidings.runtime.heartbeats import alive

if TYPE_CHECKING:
    from tidings.deployment import Deployment

__all__ = ["queue_depths", "status"]


def status(deployment: Deployment, *, now: datetime) -> dict[str, Any]:
    """The deployment's status as a JSON-ready dict (see the module's docstring)."""
    from tidings.store import open_store
    cfg = deployment.config.tidings
    store = open_store(cfg.store, namespace=cfg.namespace)
    try:
        client = getattr(store, "client", None)
        oldest = store.next_due()
        due_now = (int(client.zcount(f"{cfg.namespace}:due", "-inf", repr(now.timestamp())))
                   if client is not None else None)
        return {
            "namespace": cfg.namespace,
            "pending": store.count_pending(),
            "due_now": due_now,
            "oldest_overdue_seconds": round((now - oldest).total_seconds(), 1) if oldest is not None and oldest <= now else 0.0,
            "queues": queue_depths(cfg.broker, cfg.namespace),
            "processes": alive(client, cfg.namespace) if client is not None else [],
        }
    finally:
        store.close()


def queue_depths(broker_url: str, queue: str) -> dict[str, dict[str, int]]:
    """Messages waiting in `queue` of the broker at `broker_url`: ready, delayed (retries) and dead letters."""
    from dramatiq.common import dq_name, xq_name
    if broker_url.startswith(("redis://", "rediss://")):
        import redis
        client = redis.Redis.from_url(broker_url)
        try:
            counts = (int(client.llen(f"dramatiq:{queue}")), int(client.llen(f"dramatiq:{dq_name(queue)}")),
                      int(client.zcard(f"dramatiq:{xq_name(queue)}")))
        finally:
            client.close()
    elif broker_url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker
        broker = RabbitmqBroker(url=broker_url)
        try:
            counts = broker.get_queue_message_counts(queue)
        finally:
            broker.close()
    else:
        return {}
    return {queue: dict(zip(("ready", "delayed", "dead"), counts, strict=True))}
