"""The Dramatiq actors of a pipeline: wire contracts, declared on a given broker, never at import.

Their names and arguments are what a message on the queue carries, so they stay stable: JSON
scalars only (an event as a dict, a slot key and its version, channel names). Every actor is
idempotent (see `ingest` and `dispatch`), because Dramatiq delivers a message at least once.

=============================  =====================================================================
actor                          does
=============================  =====================================================================
``tidings_ingest``             plans one event (`Pipeline.ingest`)
``tidings_dispatch``           delivers one claimed slot (`Pipeline.dispatch`), retried by Dramatiq
``tidings_dispatch_exhausted`` the dispatch's ``on_retry_exhausted``: records the failure, and sends
                               the message on to its next channel when one channel gave up
=============================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import dramatiq
from attrs import frozen

from tidings.pipeline.retries import MAX_BACKOFF_MS, MAX_RETRIES, Failure, add_failure_notes, failure_of, retry_when

__all__ = ["DISPATCH_ACTOR", "EXHAUSTED_ACTOR", "INGEST_ACTOR", "Actors", "declare_actors"]

INGEST_ACTOR = "tidings_ingest"
DISPATCH_ACTOR = "tidings_dispatch"
EXHAUSTED_ACTOR = "tidings_dispatch_exhausted"


@frozen
class Actors:
    """The actors of one pipeline on one broker."""

    ingest: dramatiq.Actor[..., None]
    dispatch: dramatiq.Actor[..., None]
    exhausted: dramatiq.Actor[..., None]


def declare_actors(broker: dramatiq.Broker, *, queue: str, ingest: Callable[[Mapping[str, Any]], None],
                   dispatch: Callable[..., None],
                   give_up: Callable[[str, int, Failure, Collection[str]], tuple[str, ...] | None],
                   min_backoff_ms: int = 1000, max_backoff_ms: int = MAX_BACKOFF_MS) -> Actors:
    """Declare the pipeline's actors on `broker`, in `queue`.

    Args:
        ingest: plans one event (a dict).
        dispatch: ``(slot, version, skip=())`` delivers one claimed message.
        give_up: ``(slot, version, failure, skip)`` records a message whose retries ran out; returns
            the channels to skip when the message is to be dispatched again for its next channel.
        min_backoff_ms: the first retry's delay after a transient failure (unless the provider named
            one); it doubles with each retry, up to `max_backoff_ms` (five minutes).
    """
    add_failure_notes(broker)

    def exhausted(message: dict[str, Any], retries: dict[str, Any]) -> None:
        failure = failure_of(message)
        if failure is None:
            # not a delivery failure (a bug in tidings itself): Dramatiq logged it, and the slot's lease
            # brings the message back to a scheduler, as for a worker that died
            return
        slot, version = message["args"]
        skip = message.get("kwargs", {}).get("skip", ())
        following = give_up(slot, version, failure, skip)
        if following is not None:
            dispatch_actor.send(slot, version, skip=list(following))

    def declare(fn: Callable[..., None], name: str, **options: Any) -> dramatiq.Actor[..., None]:
        declared: dramatiq.Actor[..., None] = dramatiq.actor(broker=broker, actor_name=name, queue_name=queue,
                                                              max_retries=MAX_RETRIES, **options)(fn)
        return declared

    ingest_actor = declare(ingest, INGEST_ACTOR)
    exhausted_actor = declare(exhausted, EXHAUSTED_ACTOR)
    dispatch_actor = declare(dispatch, DISPATCH_ACTOR, min_backoff=min_backoff_ms, max_backoff=max_backoff_ms,
                             retry_when=retry_when, on_retry_exhausted=EXHAUSTED_ACTOR)
    return Actors(ingest=ingest_actor, dispatch=dispatch_actor, exhausted=exhausted_actor)
