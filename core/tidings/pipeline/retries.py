"""How a delivery is retried, with Dramatiq's own tools.

A transient failure raises `DeliveryRetry`, a `dramatiq.Retry`: the Retries middleware puts the
message back after an exponential backoff, or after the provider's ``Retry-After`` when it gave one
(`Retry.delay`), and does not log it as an error. `retry_when` retries nothing else and gives up
after `MAX_RETRIES`; then Dramatiq fails the message (its broker keeps it with the dead letters, a
week by default) and sends it to the dispatch actor's ``on_retry_exhausted`` actor, which records
the failure. That actor gets the message, not the exception, so `FailureNotes`, a middleware, keeps
the last failure's facts in the message's options on the way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import dramatiq
from attrs import frozen
from dramatiq.middleware import Middleware, Retries

from tidings.converter import converter
from tidings.errors import is_connection_error

__all__ = ["FAILURE_OPTION", "MAX_RETRIES", "DeliveryRetry", "Failure", "FailureNotes", "add_failure_notes", "failure_of",
           "retry_when"]

MAX_RETRIES = 8
FAILURE_OPTION = "tidings_failure"   # in a dispatch message's options: the last attempt's `Failure`


@frozen(kw_only=True)
class Failure:
    """Why a delivery attempt is retried: what is recorded if the retries run out.

    With a `channel`, that channel's transport raised something it does not classify: when the
    retries are spent the failure is recorded for that channel and the next usable one is tried.
    """

    reason: str
    error: str
    channel: str | None = None
    to: str | None = None
    error_type: str | None = None


class DeliveryRetry(dramatiq.Retry):
    """Raised by a dispatch whose message may be delivered later; Dramatiq retries it.

    Args:
        failure: what to record if the retries run out.
        retry_after: seconds the provider asked to wait (``Retry-After``); None: the backoff applies.
    """

    def __init__(self, failure: Failure, *, retry_after: float | None = None) -> None:
        delay = None if retry_after is None else math.ceil(max(retry_after, 0.0) * 1000)
        super().__init__(failure.error, delay=delay)
        self.failure = failure


def retry_when(retries: int, exception: BaseException) -> bool:
    """Dramatiq's question after a failed dispatch: retry it? A `DeliveryRetry`, or the store or broker out of reach
    (a dropped connection is back within seconds, not a lease later), `MAX_RETRIES` times."""
    return (isinstance(exception, DeliveryRetry) or is_connection_error(exception)) and retries < MAX_RETRIES


class FailureNotes(Middleware):
    """Keeps a failed dispatch's `Failure` in its message's options, for the retries-exhausted actor."""

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        if isinstance(exception, DeliveryRetry):
            message.options[FAILURE_OPTION] = converter.unstructure(exception.failure)


def add_failure_notes(broker: dramatiq.Broker) -> None:
    """Add `FailureNotes` to `broker` once, where it runs before Retries sends the message on."""
    if any(isinstance(m, FailureNotes) for m in broker.middleware):
        return
    # after-hooks run in reverse order: placed after Retries, the note is written before Retries reads it
    has_retries = any(isinstance(m, Retries) for m in broker.middleware)
    broker.add_middleware(FailureNotes(), after=Retries if has_retries else None)


def failure_of(message: Mapping[str, Any]) -> Failure | None:
    """The `Failure` noted in a dispatch message (as `on_retry_exhausted` receives it), if any."""
    noted = message.get("options", {}).get(FAILURE_OPTION)
    return converter.structure(noted, Failure) if noted is not None else None
