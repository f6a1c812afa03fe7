"""The one exception tree of tidings; plugins raise these, never their own base classes."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from attrs import frozen


class TidingsError(Exception):
    """Raised when anything in tidings fails; the base of every tidings error."""


@frozen
class Problem:
    """One thing wrong with a configuration or an event, with its place."""

    path: str
    message: str
    warning: bool = False    # worth telling, but the configuration works (`tidings check` still exits 0)

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        return f"warning: {text}" if self.warning else text


class InvalidValue(ValueError):
    """Raised by a structure hook or a validator when one value has several problems, each at a place inside it.

    The config reports each under the value's own place: `WeekHours.parse` raises
    ``InvalidValue([Problem("mon", ...), Problem("tue", ...)])`` and `tidings check` prints
    ``locations.x.hours.mon: ...`` and ``locations.x.hours.tue: ...``.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def raise_problems(problems: Iterable[Problem]) -> None:
    """Raise ConfigError listing `problems`, warnings included, if there are any.

    For a channel's `connect`: what `tidings check` only warns about (a secret absent from its
    environment) stops a worker, which cannot send without it.
    """
    found = [Problem(p.path, p.message) for p in problems]
    if found:
        raise ConfigError(found)


class ConfigError(TidingsError):
    """Raised when a configuration has one or more problems; all of them are listed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class EventError(TidingsError):
    """Raised when an event is malformed; the message names the event id, the field and the problem."""

    def __init__(self, message: str, *, event_id: str | None = None, field: str | None = None) -> None:
        self.event_id = event_id
        self.field = field
        super().__init__(message)


class PublishError(TidingsError):
    """Raised (or reported) for an event the broker did not acknowledge: it may not be on the queue.

    Publishing it again is safe: a worker ingests an event id once.
    """

    def __init__(self, message: str, *, event_id: str | None = None) -> None:
        self.event_id = event_id
        super().__init__(message)


class PluginError(TidingsError):
    """Raised when a plugin is missing, claimed twice, or registers something malformed."""


class TemplateError(TidingsError):
    """Raised when a template does not compile, uses an unknown variable or breaks the sandbox."""


class DeliveryError(TidingsError):
    """Raised when a transport could not deliver a message."""

    def __init__(self, message: str, *, reason: str = "delivery_failed",
                 details: Mapping[str, Any] | None = None) -> None:
        self.reason = reason
        self.details = dict(details or {})   # e.g. {"gone": [endpoint, ...]} for push
        super().__init__(message)


class TransientDeliveryError(DeliveryError):
    """Raised when a delivery failed for a reason that may pass (timeout, 5xx, 429); it is retried."""

    def __init__(self, message: str, *, reason: str = "delivery_failed", details: Mapping[str, Any] | None = None,
                 retry_after: float | None = None) -> None:
        self.retry_after = retry_after   # seconds the provider asked to wait (Retry-After); None: the core's backoff
        super().__init__(message, reason=reason, details=details)


class PermanentDeliveryError(DeliveryError):
    """Raised when a provider refused a message for good (invalid number, subscription gone)."""


_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT,
                   errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN}


def is_connection_error(error: BaseException) -> bool:
    """Whether `error` says a server could not be reached (or dropped the connection), not that a request was wrong."""
    if isinstance(error, (ConnectionError, TimeoutError)):   # OSError's connection kinds, socket timeouts
        return True
    root = type(error).__module__.split(".")[0]
    if root == "redis":
        import redis
        return isinstance(error, (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError))
    if root == "dramatiq":
        from dramatiq.errors import BrokerConnectionError
        return isinstance(error, BrokerConnectionError)
    if root == "pika":
        from pika import exceptions  # type: ignore[import-untyped]
        return isinstance(error, (exceptions.AMQPConnectionError, exceptions.AMQPChannelError,
                                  exceptions.StreamLostError, exceptions.ConnectionWrongStateError))
    return isinstance(error, socket.gaierror) or isinstance(error, OSError) and error.errno in _NETWORK_ERRNOS
