"""The host API: one import away, ``tidings.connect(config) -> Client``.

A host platform (a booking system, a CRM) publishes its events through a `Client` and reads the
delivery log back::

    import tidings

    with tidings.connect("tidings.toml") as client:
        client.publish({"id": "evt-1", "type": "appointment.created", ...})   # EventError naming the field
        for entry in client.log(subject="a-17"):
            print(entry["status"], entry.get("channel"), entry.get("reason"))

With a Redis or RabbitMQ broker, `publish` puts the event on the queue and `tidings worker` /
`tidings scheduler` processes do the rest. On the embedded default (``broker = "memory://"``)
everything happens in the host's process: `publish` plans the event at once, and `run_due` sends
what is due (call it from the host's own timer, or let `serve` do it on a thread).

Everything here is typed and documented; the pipeline behind it is internal.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from attrs import define, field, frozen

from tidings.errors import EventError, PublishError

if TYPE_CHECKING:
    from tidings.clock import Clock
    from tidings.deployment import Deployment
    from tidings.links import Claim
    from tidings.models import Event
    from tidings.pipeline import Pipeline
    from tidings.plugin_types import Transport
    from tidings.rules import Config

__all__ = ["Client", "PublishResult", "connect"]


@frozen
class PublishResult:
    """What `Client.publish_many` did: how many events went out, each refused one and each one not acknowledged.

    An event in `unacknowledged` may not be on the queue (the broker did not confirm it): publish it
    again; a worker ingests an event id once.
    """

    published: int
    rejected: tuple[tuple[int, EventError], ...] = ()
    unacknowledged: tuple[tuple[int, PublishError], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.unacknowledged


@define
class Client:
    """A connection of the host program to one tidings deployment. Build it with `connect`."""

    pipeline: Pipeline = field(repr=False)
    _serving: threading.Event | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _uses: Any = field(default=None, init=False, repr=False)     # single-use links on the embedded default

    @property
    def deployment(self) -> Deployment:
        """The configuration, plugins and templates this client works with."""
        return self.pipeline.deployment

    @property
    def embedded(self) -> bool:
        """True on the embedded default: this process plans and delivers, no worker is involved."""
        return self.pipeline.ingest_actor is None

    def publish(self, event: Event | Mapping[str, Any]) -> Event:
        """Validate one event (an `Event` or the same dict as JSON) and publish it.

        Returns:
            The event as tidings read it.

        Raises:
            EventError: naming the field and the problem; nothing was published.
        """
        return self.pipeline.publish(event)

    def publish_many(self, events: Iterable[Event | Mapping[str, Any]]) -> PublishResult:
        """Publish events in order, sent to the broker in batches (one round trip each on Redis).

        A malformed event is refused and never stops the ones after it; one the broker did not
        acknowledge is listed in `PublishResult.unacknowledged`.
        """
        published = 0
        rejected: list[tuple[int, EventError]] = []
        unacknowledged: list[tuple[int, PublishError]] = []
        for index, outcome in self.pipeline.publish_many(events):
            if isinstance(outcome, EventError):
                rejected.append((index, outcome))
            elif isinstance(outcome, PublishError):
                unacknowledged.append((index, outcome))
            else:
                published += 1
        return PublishResult(published=published, rejected=tuple(rejected), unacknowledged=tuple(unacknowledged))

    def log(self, *, subject: str | None = None, client: str | None = None) -> list[dict[str, Any]]:
        """The delivery log (sent, skipped, failed, scheduled, ...) of one subject or one client, oldest first."""
        if subject is None and client is None:
            raise ValueError("name a subject or a client")
        return [dict(entry) for entry in self.pipeline.store.log(subject=subject, client=client)]

    def forget(self, client_id: str) -> dict[str, int]:
        """Erase a client (the right to erasure): the snapshots of its subjects, their pending messages, which
        are then never sent, and the delivery-log entries of it and of its subjects.

        Returns:
            How many of each were removed: ``{"subjects": ..., "pending": ..., "log": ...}``.
        """
        return self.pipeline.store.forget_client(client_id)

    def verify_link(self, token: str, *, action: str | None = None, single_use: bool = False) -> Claim:
        """The claim of a signed confirm / cancel link (`tidings.links.verify` with this deployment's secret).

        Args:
            single_use: record the token's use in this deployment's store (Redis, or this process on the
                embedded default), so a second use raises ``LinkError(reason="used")``.
        """
        from tidings.links import MemoryUses, RedisUses, verify
        uses: Any = None
        if single_use:
            redis_client = getattr(self.pipeline.store, "client", None)
            if redis_client is not None:
                uses = RedisUses(redis_client, prefix=f"{getattr(self.pipeline.store, 'prefix', 'tidings:')}link-used:")
            else:
                if self._uses is None:
                    self._uses = MemoryUses()
                uses = self._uses
        return verify(token, secret=self.deployment.config.links.secret, action=action, uses=uses)

    def run_due(self) -> int:
        """Send what is due now (the embedded default's scheduler step); returns how many were handed on."""
        return self.pipeline.enqueue_due()

    def serve(self, *, interval: float = 1.0) -> None:
        """On the embedded default, send what falls due from a background thread until `close`."""
        if self._thread is not None:
            return
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                if self.run_due() == 0:
                    stop.wait(interval)

        self._serving, self._thread = stop, threading.Thread(target=loop, name="tidings-due", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving, close the broker, the store and any transport this client opened."""
        if self._serving is not None and self._thread is not None:
            self._serving.set()
            self._thread.join(timeout=10)
        for transport in self.pipeline.transports.values():
            transport.close()
        if self.pipeline.broker is not None:
            self.pipeline.broker.close()
        self.pipeline.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


def connect(config: str | os.PathLike[str] | Mapping[str, Any] | Config | Deployment, *,
            transports: Mapping[str, Transport] | None = None, clock: Clock | None = None) -> Client:
    """A client of the deployment a configuration describes: a TOML file's path, a parsed document or a loaded one.

    The configuration is checked as `tidings check` checks it (templates included), so a mistake
    shows here, at start-up, not in a client's message.

    Args:
        transports: channel name -> transport, replacing the real ones (tests, or a host that delivers
            itself). By default the embedded default connects the real transports of its enabled
            channels; with a real broker, no transport is built here (the workers deliver).
        clock: where "now" comes from (a `tidings.clock.VirtualClock` in tests).

    Raises:
        ConfigError: listing every problem of the configuration.
    """
    from tidings.check import checked
    from tidings.deployment import Deployment
    from tidings.pipeline import build_pipeline, connect_transports, open_broker
    from tidings.store import open_store

    deployment = config if isinstance(config, Deployment) else checked(
        Path(config) if isinstance(config, (str, os.PathLike)) else config)   # type: ignore[arg-type]
    settings = deployment.config.tidings
    embedded = settings.broker.startswith("memory://")
    store = open_store(settings.store, namespace=settings.namespace)
    if transports is None:
        transports = connect_transports(deployment, store=store) if embedded else {}
    broker = None if embedded else open_broker(settings.broker)
    return Client(build_pipeline(broker, deployment, store, transports=transports, clock=clock))
