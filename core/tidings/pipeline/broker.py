"""The Dramatiq broker a configuration names (``[tidings] broker``)."""

from __future__ import annotations

import functools
from typing import Any

import dramatiq

__all__ = ["HEARTBEAT_TIMEOUT_MS", "MAINTENANCE_CHANCE", "open_broker"]

# messages a dead worker had taken are requeued by the others' queue maintenance, once its heartbeat is
# HEARTBEAT_TIMEOUT_MS old (Dramatiq's default: a minute); a live worker's consumers beat on every fetch
# and ack, at least once a second while idle, and a provider's timeout is well below 15 s, so a live
# worker is never taken for dead. Dramatiq's default maintenance (1 command in 1,000) can leave them
# there for many minutes when the queues are quiet, so maintenance runs on 1 command in 4
MAINTENANCE_CHANCE = 250_000   # per million Redis broker commands
HEARTBEAT_TIMEOUT_MS = 15_000


def _redis_broker(url: str) -> dramatiq.Broker:
    broker: dramatiq.Broker = _redis_broker_class()(url=url, maintenance_chance=MAINTENANCE_CHANCE,
                                                   heartbeat_timeout=HEARTBEAT_TIMEOUT_MS)
    return broker


@functools.cache
def _redis_broker_class() -> type[Any]:
    """Dramatiq's Redis broker, whose worker gets back what it fetched on a connection that dropped.

    A worker's fetch moves message ids from the queue into the worker's own set of messages in hand
    (its "acks" set, by its `broker_id`), which is given back only when the worker stops, or by the
    others' queue maintenance once its heartbeat is old. Two things leave messages there while the
    worker lives, lost to it until it is restarted: a fetch whose reply was lost with its connection
    (``CLIENT KILL``, a reset) and was sent again by redis-py's retry, which fetches other messages;
    and Dramatiq's consumer, which forgets the delayed messages it holds (retries waiting for their
    time) when its connection drops, without giving them back (Dramatiq #527).

    So a fetch is sent once, on a connection of its own that redis-py does not retry, and when it
    fails the broker takes a new `broker_id`: everything fetched under the old one is then a dead
    worker's, and maintenance requeues it `HEARTBEAT_TIMEOUT_MS` later. A message the worker was still
    processing may be processed again then: every actor is idempotent. (One class per process, as
    Dramatiq's: it keeps the Lua stack size it asked Redis for.)
    """
    import uuid

    import redis
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.common import current_millis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    class Broker(RedisBroker):
        def __init__(self, *, url: str, **options: Any) -> None:
            super().__init__(url=url, **options)  # type: ignore[no-untyped-call]
            self.fetching = redis.Redis(connection_pool=redis.ConnectionPool.from_url(url, retry=Retry(NoBackoff(), 0)))

        def do_fetch(self, queue_name: str, prefetch: int) -> Any:
            # as Dramatiq's own do_fetch (the dispatch script's "fetch" command), on the connection not retried
            args = ["fetch", current_millis(), queue_name, self.broker_id, self.heartbeat_timeout, self.dead_message_ttl,
                    self._should_do_maintenance("fetch"), self._max_unpack_size(), prefetch]  # type: ignore[no-untyped-call]
            try:
                return self.scripts["dispatch"](keys=[self.namespace], args=args, client=self.fetching)
            except (redis.ConnectionError, redis.TimeoutError):
                self.broker_id = str(uuid.uuid4())   # what the old id holds is requeued once its heartbeat is old
                raise

        def close(self) -> None:
            super().close()
            self.fetching.close()

    return Broker


def open_broker(url: str) -> dramatiq.Broker:
    """The Dramatiq broker a URL names: memory://, redis://..., amqp://..."""
    if url.startswith("memory://"):
        from dramatiq.brokers.stub import StubBroker
        return StubBroker()
    if url.startswith(("redis://", "rediss://")):
        return _redis_broker(url)
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker
        # publisher confirms: a message is sent once RabbitMQ acknowledged it, else the send raises
        return RabbitmqBroker(url=url, confirm_delivery=True)
    raise ValueError(f"{url!r} is not a broker URL (use memory://, redis://host:6379/0 or amqp://user:pass@host:5672)")
