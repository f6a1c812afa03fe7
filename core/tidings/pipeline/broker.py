"""The Dramatiq broker a configuration names (``[tidings] broker``)."""

from __future__ import annotations

import dramatiq

__all__ = ["HEARTBEAT_TIMEOUT_MS", "MAINTENANCE_CHANCE", "open_broker"]

# messages a dead worker had taken are requeued by the others' queue maintenance, once its heartbeat is
# HEARTBEAT_TIMEOUT_MS old (Dramatiq's default: a minute); a live worker's consumers beat on every fetch
# and ack, at least once a second while idle, and a provider's timeout is well below 15 s, so a live
# worker is never taken for dead. Dramatiq's default maintenance (1 command in 1,000) can leave them
# there for many minutes when the queues are quiet, so maintenance runs on 1 command in 4
MAINTENANCE_CHANCE = 250_000   # per million Redis broker commands
HEARTBEAT_TIMEOUT_MS = 15_000


def open_broker(url: str) -> dramatiq.Broker:
    """The Dramatiq broker a URL names: memory://, redis://..., amqp://..."""
    if url.startswith("memory://"):
        from dramatiq.brokers.stub import StubBroker
        return StubBroker()
    if url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker
        return RedisBroker(url=url, maintenance_chance=MAINTENANCE_CHANCE,  # type: ignore[no-untyped-call]
                           heartbeat_timeout=HEARTBEAT_TIMEOUT_MS)
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker
        return RabbitmqBroker(url=url)
    raise ValueError(f"{url!r} is not a broker URL (use memory://, redis://host:6379/0 or amqp://user:pass@host:5672)")
