"""The Redis store's connection pool: a connection is got again, with backoff, when getting it met a dropped one.

redis-py retries a command on a connection error (`redis.retry.Retry`, the store's `ride_out`), but not
the step before it: the pool hands out a pooled connection only after checking it, and a connection
killed under it (``CLIENT KILL``, a proxy's reset) is reconnected once and checked again; when that
fails too, the `ConnectionError` escapes the retry, so a worker riding out an outage failed at once.
Nothing was sent at that point, so getting the connection again is always safe: this pool does it,
with the retry policy its connections were given.
"""

from __future__ import annotations

from typing import Any

import redis

__all__ = ["RidingOutPool"]


class RidingOutPool(redis.ConnectionPool):
    """A `redis.ConnectionPool` whose `get_connection` is tried again, by its connections' `retry`, on a connection error."""

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        retry = self.connection_kwargs.get("retry")
        if retry is None:
            return super().get_connection(*args, **kwargs)
        return retry.call_with_retry(lambda: super(RidingOutPool, self).get_connection(*args, **kwargs), lambda _: None)
