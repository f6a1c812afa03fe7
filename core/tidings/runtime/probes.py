"""Asking the store and the broker whether they answer, cheaply, for a process waiting out an outage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs import define, field

if TYPE_CHECKING:
    import dramatiq

    from tidings.store import ScheduleStore

__all__ = ["BrokerProbe", "probe_store"]


def probe_store(store: ScheduleStore) -> None:
    """A cheap read; raises what the store's client raises when its server cannot be reached.

    A Redis store is asked on a connection of the probe's own that tries once: the store's own client
    may wait an outage out inside the command (`ride_out`), which would hide the outage from the log.
    """
    client = getattr(store, "client", None)
    if client is None:
        store.next_due()
        return
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    pool = client.connection_pool
    probe = pool.connection_class(**{**pool.connection_kwargs, "retry": Retry(NoBackoff(), 0)})
    try:
        probe.send_command("PING")
        probe.read_response()
    finally:
        probe.disconnect()


@define
class BrokerProbe:
    """Asks a broker whether it answers: Redis's PING, or a RabbitMQ connection of the probe's own kept open."""

    broker: dramatiq.Broker
    _connection: Any = field(default=None, init=False)

    def __call__(self) -> None:
        """Returns when the broker answers; raises the client's connection error when it does not."""
        client = getattr(self.broker, "client", None)
        if client is not None:       # the Redis broker
            client.ping()
            return
        parameters = getattr(self.broker, "parameters", None)
        if parameters is None:       # the in-memory broker is always there
            return
        import pika  # type: ignore[import-untyped]
        try:
            if self._connection is None or not self._connection.is_open:
                self._connection = pika.BlockingConnection(parameters)
            # a round trip: a connection cut under it can still look open until it is used
            self._connection.channel().close()
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:   # noqa: BLE001  # already gone: nothing to close
                pass
