"""The manual channel's peer: the schedule store itself, reached through a real TCP relay that can cut it off.

The channel sends nothing anywhere: its transport writes to the store. So its peer is a
`RedisStore` (on the shared Redis, under a key prefix of the test's own) whose client connects
through `Relay`, a plain TCP relay on a spare port of 127.0.0.1: `relay.cut_next()` closes every
connection it carries and the next one it accepts, the way a Redis behind a failing network link
or a restarting server looks to a worker, so the next store call fails with redis-py's own
`ConnectionError` and the one after it reconnects.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from attrs import define, field

from tidings.store.redis import RedisStore
from tidings.testing import running


@define
class Relay:
    """Relays TCP connections from a spare local port to `target`; `cut_next` drops them once."""

    target: tuple[str, int]
    port: int = 0
    _server: socket.socket | None = field(default=None, init=False)
    _open: list[socket.socket] = field(factory=list, init=False)
    _cut: bool = field(default=False, init=False)
    _lock: threading.Lock = field(factory=threading.Lock, init=False)

    def start(self) -> None:
        server = socket.create_server(("127.0.0.1", 0))
        self._server, self.port = server, server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._drop()

    def cut_next(self) -> None:
        """Close every connection now, and the next one accepted as soon as it is made."""
        with self._lock:
            self._cut = True
        self._drop()

    def _drop(self) -> None:
        with self._lock:
            sockets, self._open = self._open, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                cut, self._cut = self._cut, False
            if cut:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def relay(redis_url: str) -> Iterator[Relay]:
    parts = urlsplit(redis_url)
    with running(Relay((parts.hostname or "127.0.0.1", parts.port or 6379))) as started:
        yield started


@pytest.fixture
def relayed_store(relay: Relay, redis_url: str) -> Iterator[RedisStore]:
    """A `RedisStore` through the relay, under a prefix of its own; its keys are deleted afterwards."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    db = urlsplit(redis_url).path.lstrip("/") or "0"
    # no retries of redis-py's own: a cut connection is the transport's transient failure, retried by tidings
    client = redis.Redis(host="127.0.0.1", port=relay.port, db=int(db), decode_responses=True,
                         retry=Retry(NoBackoff(), 0), socket_timeout=5)
    store = RedisStore(client, prefix=f"tidings-test:{uuid.uuid4().hex}:")
    try:
        yield store
    finally:
        keys = list(client.scan_iter(match=f"{store.prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        store.close()
