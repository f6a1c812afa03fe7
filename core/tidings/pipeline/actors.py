"""The Dramatiq actors of a pipeline: wire contracts, declared on a given broker, never at import.

Their names and arguments are what a message on the queue carries, so they stay stable: JSON
scalars only (an event as a dict, claimed slots with their versions, channel names). Every actor
is idempotent (see `ingest` and `dispatch`), because Dramatiq delivers a message at least once.

=============================  =====================================================================
actor                          does
=============================  =====================================================================
``tidings_ingest``             plans one event (`Pipeline.ingest`)
``tidings_dispatch``           delivers a batch of claimed slots, ``[[slot, version], ...]``, at once
                               (`Pipeline.dispatch_many`); a batch of one is retried by Dramatiq, and
                               a slot of a larger batch that is to be retried goes on as a batch of
                               its own, its first retry counted. The older form ``(slot, version)``
                               is still read.
``tidings_dispatch_exhausted`` the dispatch's ``on_retry_exhausted``: records the failure, and sends
                               the message on to its next channel when one channel gave up
=============================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import dramatiq
from attrs import frozen
from dramatiq.common import compute_backoff

from tidings.converter import converter
from tidings.pipeline.retries import (FAILURE_OPTION, MAX_BACKOFF_MS, MAX_RETRIES, DeliveryRetry, Failure,
                                      add_failure_notes, failure_of, is_noted, retry_when)

__all__ = ["DISPATCH_ACTOR", "EXHAUSTED_ACTOR", "INGEST_ACTOR", "Actors", "Claims", "declare_actors"]

INGEST_ACTOR = "tidings_ingest"
DISPATCH_ACTOR = "tidings_dispatch"
EXHAUSTED_ACTOR = "tidings_dispatch_exhausted"

Claims = Sequence[tuple[str, int]]   # claimed slots with their versions


@frozen
class Actors:
    """The actors of one pipeline on one broker."""

    ingest: dramatiq.Actor[..., None]
    dispatch: dramatiq.Actor[..., None]
    exhausted: dramatiq.Actor[..., None]

    def send_dispatch(self, claims: Claims) -> None:
        """Hand a batch of claimed slots to the dispatch actor."""
        self.dispatch.send([[slot, version] for slot, version in claims])


def claims_of(args: Sequence[Any]) -> list[tuple[str, int]]:
    """The claimed slots a dispatch message carries: ``([[slot, version], ...],)`` or the older ``(slot, version)``."""
    if args and isinstance(args[0], str):
        return [(args[0], int(args[1]))]
    return [(str(slot), int(version)) for slot, version in args[0]]


def declare_actors(broker: dramatiq.Broker, *, queue: str, ingest: Callable[[Mapping[str, Any]], None],
                   dispatch: Callable[..., None],
                   dispatch_many: Callable[[Claims], list[tuple[str, int, DeliveryRetry]]],
                   give_up: Callable[[str, int, Failure, Collection[str]], tuple[str, ...] | None],
                   min_backoff_ms: int = 1000, max_backoff_ms: int = MAX_BACKOFF_MS) -> Actors:
    """Declare the pipeline's actors on `broker`, in `queue`.

    Args:
        ingest: plans one event (a dict).
        dispatch: ``(slot, version, skip=())`` delivers one claimed message; raises `DeliveryRetry`.
        dispatch_many: delivers a batch of claimed messages at once; returns those to be retried.
        give_up: ``(slot, version, failure, skip)`` records a message whose retries ran out; returns
            the channels to skip when the message is to be dispatched again for its next channel.
        min_backoff_ms: the first retry's delay after a transient failure (unless the provider named
            one); it doubles with each retry, up to `max_backoff_ms` (five minutes).
    """
    add_failure_notes(broker)

    def dispatch_message(first: Any, version: Any = None, skip: Collection[str] = ()) -> None:
        claims = claims_of((first, version) if version is not None else (first,))
        if len(claims) == 1:
            dispatch(*claims[0], skip)   # a DeliveryRetry retries this very message
            return
        for slot, claimed, retry in dispatch_many(claims):
            # its own retry chain, as if this batch had been its first attempt (Dramatiq's Retries counts on)
            _, backoff = compute_backoff(0, factor=min_backoff_ms, max_backoff=max_backoff_ms)
            # (a store or broker out of reach is not noted: if it outlasts the retries, the lease brings the message back)
            noted = {FAILURE_OPTION: converter.unstructure(retry.failure)} if is_noted(retry) else {}
            dispatch_actor.send_with_options(args=([[slot, claimed]],), delay=backoff if retry.delay is None else retry.delay, retries=1,
                                             **noted)

    def exhausted(message: dict[str, Any], retries: dict[str, Any]) -> None:
        failure = failure_of(message)
        if failure is None:
            # not a delivery failure (a bug in tidings itself): Dramatiq logged it, and the slot's lease
            # brings the message back to a scheduler, as for a worker that died
            return
        [(slot, version)] = claims_of(message["args"])
        skip = message.get("kwargs", {}).get("skip", ())
        following = give_up(slot, version, failure, skip)
        if following is not None:
            dispatch_actor.send([[slot, version]], skip=list(following))

    def declare(fn: Callable[..., None], name: str, **options: Any) -> dramatiq.Actor[..., None]:
        declared: dramatiq.Actor[..., None] = dramatiq.actor(broker=broker, actor_name=name, queue_name=queue,
                                                              max_retries=MAX_RETRIES, **options)(fn)
        return declared

    ingest_actor = declare(ingest, INGEST_ACTOR)
    exhausted_actor = declare(exhausted, EXHAUSTED_ACTOR)
    dispatch_actor = declare(dispatch_message, DISPATCH_ACTOR, min_backoff=min_backoff_ms, max_backoff=max_backoff_ms,
                             retry_when=retry_when, on_retry_exhausted=EXHAUSTED_ACTOR)
    return Actors(ingest=ingest_actor, dispatch=dispatch_actor, exhausted=exhausted_actor)
