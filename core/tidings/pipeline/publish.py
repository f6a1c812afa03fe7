"""Events from the host into the pipeline: JSON lines read into events, each validated, sent in batches.

An event is checked where it is published (`EventReader`: its types, its location, keys the contract
does not define), so a host learns of a malformed one at once, naming the field; a worker reads it
again anyway, because a host may send to the queue directly.

Dramatiq has no batch enqueue, and one round trip per event holds a publisher to the broker's
latency. `enqueue_many` sends a batch in one go where the broker allows it: on Redis, Dramatiq's
own ``dispatch`` script (the ``enqueue`` command, with the arguments `RedisBroker.enqueue` passes)
for every message through one redis-py pipeline, with the broker's ``enqueue`` middleware hooks
around each. Any other broker enqueues one by one. Whatever the broker did not acknowledge is
reported for its message, never dropped: the caller may publish it again, since a worker ingests
an event id once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from tidings.errors import EventError
from tidings.models import Event

if TYPE_CHECKING:
    import dramatiq

    from tidings.intake import EventReader

__all__ = ["enqueue_many", "events_from_lines", "unacknowledged"]


def events_from_lines(lines: Iterable[str | bytes], reader: EventReader | None = None) -> Iterable[tuple[int, Event | EventError]]:
    """Parse JSON lines into events, yielding the error in place of a malformed one (line numbers from 1).

    Args:
        reader: checks each event against a configuration too (its locations, unknown keys).
    """
    for number, line in enumerate(lines, 1):
        # a line is text or bytes (files are read as bytes, so a line that is not UTF-8 is one bad event)
        if not line.strip():
            continue
        try:
            yield number, reader.read(line) if reader is not None else Event.from_json(line)
        except EventError as e:
            yield number, e


def enqueue_many(broker: dramatiq.Broker, messages: Sequence[dramatiq.Message[Any]]) -> list[Exception | None]:
    """Enqueue `messages` (in one round trip on Redis); for each, None when the broker took it, else why not."""
    from dramatiq.brokers.redis import RedisBroker

    if isinstance(broker, RedisBroker):
        return _enqueue_redis(broker, messages)
    outcomes: list[Exception | None] = []
    for message in messages:
        try:
            broker.enqueue(message)
        except Exception as e:   # noqa: BLE001 - reported to the caller for this message
            outcomes.append(e)
        else:
            outcomes.append(None)
    return outcomes


def _enqueue_redis(broker: Any, messages: Sequence[dramatiq.Message[Any]]) -> list[Exception | None]:
    from dramatiq.common import current_millis

    dispatch = broker.scripts["dispatch"]
    pipe = broker.client.pipeline(transaction=False)
    sent = []
    try:
        # Dramatiq asks Redis its Lua stack size once per process, at the first message: it may not answer
        unpack = broker._max_unpack_size()
    except Exception as e:   # noqa: BLE001 - the connection failed: none of them is queued
        return [e for _ in messages]
    for message in messages:
        # as RedisBroker.enqueue: a unique id in Redis for every enqueue of a message
        message = message.copy(options={"redis_message_id": str(uuid4())})
        broker.emit_before("enqueue", message, None)
        dispatch(keys=[broker.namespace], client=pipe,
                 args=["enqueue", current_millis(), message.queue_name, broker.broker_id, broker.heartbeat_timeout,
                       broker.dead_message_ttl, broker._should_do_maintenance("enqueue"), unpack,
                       message.options["redis_message_id"],
                       message.encode()])
        sent.append(message)
    try:
        answers = pipe.execute(raise_on_error=False)
    except Exception as e:   # noqa: BLE001 - the connection failed: none of them is known to be queued
        return [e for _ in sent]
    outcomes: list[Exception | None] = []
    for message, answer in zip(sent, answers):
        if isinstance(answer, Exception):
            outcomes.append(answer)
        else:
            broker.emit_after("enqueue", message, None)
            outcomes.append(None)
    return outcomes


def unacknowledged(failure: Exception) -> str:
    """Why the broker did not acknowledge a message, for its publisher (masked)."""
    from tidings.logging import mask

    said = f"{type(failure).__name__}: {mask(str(failure))}"
    # the broker's client cannot reach its server (redis, pika, dramatiq), as the CLI says of any command
    if type(failure).__module__.split(".")[0] in ("redis", "pika", "dramatiq") and "Connection" in type(failure).__name__:
        return f"cannot reach the broker or the store ({said}): not acknowledged"
    return f"the broker did not acknowledge it ({said})"
