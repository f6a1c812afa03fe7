"""Which workers and schedulers are alive: each process's heartbeat, a key under the namespace that expires.

Every worker and scheduler refreshes ``<namespace>:process:<kind>:<host>:<pid>`` in the store's Redis
every few seconds, with what it is (kind, host, pid, threads, started) and a lifetime of `TTL`; a
process that died leaves no heartbeat once that has passed. `tidings status` lists the living ones.
With the in-memory store (one process) there is nothing to share, and no heartbeat.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any

from attrs import define, field

__all__ = ["TTL", "Heartbeat", "alive"]

TTL = 15            # seconds a heartbeat lives
EVERY = 5.0         # seconds between refreshes


@define
class Heartbeat:
    """One process's heartbeat; `beat` is cheap to call often (it writes every `EVERY` seconds at most)."""

    store_url: str
    namespace: str
    kind: str
    details: dict[str, Any] = field(factory=dict)
    _client: Any = field(default=None, init=False)
    _last: float = field(default=0.0, init=False)
    _started: float = field(factory=time.time, init=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}:process:{self.kind}:{socket.gethostname()}:{os.getpid()}"

    def beat(self) -> None:
        """Refresh the heartbeat if it is due; raises the Redis client's error when Redis cannot be reached."""
        if not self.store_url.startswith(("redis://", "rediss://", "unix://")):
            return
        now = time.monotonic()
        if self._last and now - self._last < EVERY:
            return
        if self._client is None:
            import redis
            self._client = redis.Redis.from_url(self.store_url, socket_timeout=5, socket_connect_timeout=5)
        value = {"kind": self.kind, "host": socket.gethostname(), "pid": os.getpid(), "started": self._started,
                 "seen": time.time(), **self.details}
        self._client.set(self.key, json.dumps(value), ex=TTL)
        self._last = now

    def stop(self) -> None:
        """Remove the heartbeat (a clean exit), and close the connection."""
        if self._client is None:
            return
        try:
            self._client.delete(self.key)
        except Exception:   # noqa: BLE001  # Redis is away: the heartbeat expires by itself
            pass
        self._client.close()
        self._client = None


def alive(client: Any, namespace: str) -> list[dict[str, Any]]:
    """The heartbeats of the living processes of `namespace`, by kind, host and pid."""
    found = []
    for key in client.scan_iter(match=f"{namespace}:process:*", count=500):
        value = client.get(key)
        if value is not None:
            found.append(json.loads(value))
    return sorted(found, key=lambda h: (h["kind"], h["host"], h["pid"]))
