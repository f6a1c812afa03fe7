"""Outages of the store and the broker: told once when they begin and once when they end, waited out with backoff.

A process meets an unreachable Redis or RabbitMQ as an exception from the client library (redis's
`ConnectionError`, Dramatiq's `BrokerConnectionError`, pika's connection errors, an `OSError`).
`Outage` turns a stream of such failures into two log lines, ``<what>_unreachable`` with the error and
``<what>_reconnected`` with how long it lasted, and `Backoff` spaces the attempts in between (doubling
from a short first wait up to a cap, so a process comes back within seconds of its server).

Dramatiq's worker reconnects its consumers by itself, logging a critical line every few seconds while
it cannot; `QuietReconnects` hands those lines to an `Outage` instead, so an operator reads one line
per outage there too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from attrs import define, field

from tidings.errors import is_connection_error
from tidings.logging import get_logger, mask

__all__ = ["Backoff", "Outage", "QuietReconnects", "is_connection_error", "keep_trying"]

log = get_logger(__name__)
T = TypeVar("T")

# Dramatiq's own lines while its broker cannot be reached; each is repeated every few seconds
_DRAMATIQ_RECONNECTS = ("Consumer encountered a connection error", "Restarting consumer in",
                        "Failed to post_process_message", "Failed to requeue messages")
@define
class Backoff:
    """Waits between attempts: `first` seconds, doubling up to `cap`; `reset` after a success."""

    first: float = 0.2
    cap: float = 5.0
    _next: float = field(default=0.0, init=False)

    def delay(self) -> float:
        """The wait before the next attempt (and doubles the one after)."""
        self._next = self.first if self._next == 0.0 else min(self._next * 2, self.cap)
        return self._next

    def reset(self) -> None:
        self._next = 0.0


@define
class Outage:
    """The state of one dependency of a process (``store`` or ``broker``): reachable, or unreachable since when.

    Thread-safe: a worker's consumer threads and its probe report to the same one.
    """

    what: str
    process: str
    _since: float | None = field(default=None, init=False)
    _lock: threading.Lock = field(factory=threading.Lock, init=False)

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException | str) -> None:
        """Report a failure to reach it; logs ``<what>_unreachable`` only for the first of an outage."""
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        log.error(f"{self.what}_unreachable", process=self.process, error=mask(text),
                  action="retrying with backoff; nothing is lost")

    def succeeded(self) -> None:
        """Report a success; logs ``<what>_reconnected`` (and the outage's length) if it was down."""
        with self._lock:
            since, self._since = self._since, None
        if since is not None:
            log.warning(f"{self.what}_reconnected", process=self.process, down_seconds=round(time.monotonic() - since, 1))


class QuietReconnects(logging.Filter):
    """Turns Dramatiq's repeated reconnection lines into one `Outage` report; they, and pika's, show at debug level only."""

    def __init__(self, outage: Outage, *, store: Outage | None = None) -> None:
        super().__init__()
        self.outage = outage
        self.store = store   # a message whose actor lost the store: retried, and told as the store's outage

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        error = record.exc_info[1] if record.exc_info else None
        if self.store is not None and record.name.startswith("dramatiq.") and error is not None \
                and is_connection_error(error):
            self.store.failed(error)
            return self._quiet(record)
        if record.name.startswith("pika."):
            # pika logs every failed connection attempt and lost stream, several lines each: the outage line says it
            return self._quiet(record)
        if not message.startswith(_DRAMATIQ_RECONNECTS):
            return True
        if message.startswith(("Consumer encountered", "Failed to")):
            self.outage.failed(_reason(record))
        return self._quiet(record)

    @staticmethod
    def _quiet(record: logging.LogRecord) -> bool:
        """Shown at debug level, when that is on."""
        if record.levelno > logging.DEBUG:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)

    def install(self) -> None:
        """Put this filter on the handlers of the root logger (where Dramatiq's records end up)."""
        for handler in logging.getLogger().handlers:
            handler.addFilter(self)

    def remove(self) -> None:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self)


def _reason(record: logging.LogRecord) -> str:
    args: Any = record.args
    errors = [a for a in (args if isinstance(args, tuple) else ()) if isinstance(a, BaseException)]
    return f"{type(errors[0]).__name__}: {errors[0]}" if errors else "the broker's connection was lost"


def keep_trying(call: Callable[[], T], *, outage: Outage, within: float, backoff: Backoff | None = None) -> T:
    """`call()`, tried again with backoff while its server cannot be reached, for up to `within` seconds.

    Raises:
        the last connection error once `within` seconds have passed, and any other error at once.
    """
    backoff = backoff or Backoff()
    deadline = time.monotonic() + within
    while True:
        try:
            result = call()
        except Exception as e:
            if not is_connection_error(e):
                raise
            outage.failed(e)
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            time.sleep(min(backoff.delay(), left))
            continue
        outage.succeeded()
        return result
