"""The Dramatiq broker a configuration names (``[tidings] broker``)."""

from __future__ import annotations

import dramatiq

__all__ = ["MAINTENANCE_CHANCE", "open_broker"]

# messages a dead worker had taken are requeued by the others' queue maintenance, once its heartbeat is a
# minute old; Dramatiq's default (1 command in 1,000) can leave them there for many minutes when the queues
# are quiet, so maintenance runs on 1 command in 10
MAINTENANCE_CHANCE = 100_000   # per million Redis broker commands


def open_broker(url: str) -> dramatiq.Broker:
    """The Dramatiq broker a URL names: memory://, redis://..., amqp://..."""
    if url.startswith("memory://"):
        from dramatiq.brokers.stub import StubBroker
        return StubBroker()
    if url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker
        return RedisBroker(url=url, maintenance_chance=MAINTENANCE_CHANCE)  # type: ignore[no-untyped-call]
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker
        # publisher confirms: a message is sent once RabbitMQ acknowledged it, else the send raises
        return RabbitmqBroker(url=url, confirm_delivery=True)
    raise ValueError(f"{url!r} is not a broker URL (use memory://, redis://host:6379/0 or amqp://user:pass@host:5672)")
