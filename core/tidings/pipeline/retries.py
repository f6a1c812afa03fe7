"""How a delivery is retried, with Dramatiq's own tools, one chain per message until a deadline.

A transient failure raises `DeliveryRetry`, a `dramatiq.Retry`: the Retries middleware puts the
message back after an exponential backoff capped at `MAX_BACKOFF_MS`, or after the provider's
``Retry-After`` when it gave one (`Retry.delay`), and does not log it as an error.

A provider that keeps failing transiently (an outage) is retried for as long as the message is worth
sending: the backoff doubles up to its cap and stays there, and once the message's `deadline` has
passed the dispatch records it ``failed`` with reason ``provider_unavailable`` (never silently). The
deadline is the visit's start for a message due before it (a reminder is worthless once the visit
has begun), else `LATE_WINDOW` after the message's planned time.

A transport that raises something it does not classify (`Failure.channel`) is retried `MAX_RETRIES`
times; then Dramatiq fails the message and sends it to the dispatch actor's ``on_retry_exhausted``
actor, which records the failure for that channel and tries the next one. That actor gets the
message, not the exception, so `FailureNotes`, a middleware, keeps the last failure's facts in the
message's options on the way.

While a retry waits in the broker the dispatch holds its slot in the store (`retry_hold`), so no
scheduler claims it again meanwhile; and a claim bumps the slot's version, so even a chain whose hold
ran out (its broker message lost) stops at its next attempt once another claim has started.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import dramatiq
from attrs import frozen
from dramatiq.middleware import Middleware, Retries

from tidings.converter import converter
from tidings.errors import is_connection_error

if TYPE_CHECKING:
    from tidings.models import Subject
    from tidings.store.records import PendingMessage

__all__ = ["FAILURE_OPTION", "LATE_WINDOW", "MAX_BACKOFF_MS", "MAX_RETRIES", "DeliveryRetry", "Failure", "FailureNotes",
           "add_failure_notes", "deadline", "failure_of", "is_noted", "retry_hold", "retry_when", "unreachable"]

MAX_RETRIES = 8              # for a transport's unclassified failure, before its channel is given up
MAX_BACKOFF_MS = 300_000     # the backoff's cap: an outage is retried every five minutes at most
LATE_WINDOW = timedelta(days=1)   # how late a message not tied to a visit's start is still worth sending
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


UNREACHABLE_RETRY_S = 1.0   # a message of a batch that met its store or broker out of reach: tried again after


def unreachable(error: BaseException) -> DeliveryRetry:
    """The retry of a batch's message whose dispatch met its store or broker out of reach (`error`).

    It is no delivery failure: nothing is recorded for it if its retries run out (`is_noted`), and the
    slot's lease brings it back then, as for a single message that met the same outage.
    """
    retry = DeliveryRetry(Failure(reason="store_unreachable", error=f"{type(error).__name__}: {error}"),
                          retry_after=UNREACHABLE_RETRY_S)
    retry.__cause__ = error
    return retry


def is_noted(retry: DeliveryRetry) -> bool:
    """Whether a retry's failure is what to record once its retries run out (not an outage of the store or broker)."""
    return not (retry.__cause__ is not None and is_connection_error(retry.__cause__))


def retry_when(retries: int, exception: BaseException) -> bool:
    """Dramatiq's question after a failed dispatch: retry it?

    A `DeliveryRetry`: a transport's unclassified failure `MAX_RETRIES` times, a provider's
    transient one until the dispatch gives up at the message's `deadline`; and the store or broker out
    of reach (a dropped connection is back within seconds, not a lease later) `MAX_RETRIES` times.
    """
    if is_connection_error(exception):
        return retries < MAX_RETRIES
    if not isinstance(exception, DeliveryRetry):
        return False
    return exception.failure.channel is None or retries < MAX_RETRIES


def deadline(pending: PendingMessage, subject: Subject) -> datetime:
    """The moment after which a message that could not be delivered is recorded as failed.

    The visit's start for a message due before it (a reminder, a confirmation), else `LATE_WINDOW`
    after the message's planned time (a review request, a repeat-visit invitation).
    """
    start = subject.start
    if start is not None and pending.due < start:
        return start
    return pending.planned + LATE_WINDOW


def retry_hold(retry: DeliveryRetry, lease: timedelta, *, max_backoff_ms: int = MAX_BACKOFF_MS) -> timedelta:
    """How long a slot is held for its retry: the longest wait the broker may give it, and a lease to take it."""
    wait_ms = max(max_backoff_ms, retry.delay or 0)
    return timedelta(milliseconds=wait_ms) + lease


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
