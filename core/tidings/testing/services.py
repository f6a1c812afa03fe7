"""Real services for tests, each skipped locally when it is missing and failed under CI.

`unavailable` is the one rule: a developer without Redis still runs the rest of the suite, but
under ``CI=true`` a missing service is a broken build, never a silent skip (dramatiq's
``check_redis`` does the same).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Protocol, TypeVar

import pytest
from attrs import define, field

if TYPE_CHECKING:
    from tidings.store.redis import RedisStore

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def unavailable(reason: str) -> NoReturn:
    """Skip the test locally; fail it under CI (``CI=true``), where a missing service is a broken build."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class Service(Protocol):
    """Anything a test starts and stops: a local HTTP service, an SMTP server, a redis-server."""

    def start(self) -> object: ...

    def stop(self) -> None: ...


S = TypeVar("S", bound=Service)


@contextmanager
def running(service: S) -> Iterator[S]:
    """`service`, started for the block and stopped after it; `unavailable` when it cannot start."""
    try:
        service.start()
    except (OSError, RuntimeError) as e:   # cannot bind, or does not answer (TimeoutError is an OSError)
        unavailable(f"{type(service).__name__} could not start on 127.0.0.1: {e!r}")
    try:
        yield service
    finally:
        service.stop()


# ---------------------------------------------------------------- Redis


def redis_url() -> str:
    """The URL of a running Redis (``TIDINGS_TEST_REDIS_URL``, by default ``redis://127.0.0.1:6379/0``)."""
    url = os.environ.get("TIDINGS_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    problem = _ping(url, timeout=1.0)
    if problem is not None:
        unavailable(f"Redis is not reachable at {url!r} ({problem}); start one or set TIDINGS_TEST_REDIS_URL")
    return url


@contextmanager
def redis_store(url: str) -> Iterator[RedisStore]:
    """A `RedisStore` under a fresh random key prefix; its keys, and only its keys, are deleted afterwards."""
    from tidings.store.redis import RedisStore

    store = RedisStore.from_url(url, prefix=f"tidings-test:{uuid.uuid4().hex}:")
    try:
        yield store
    finally:
        keys = list(store.client.scan_iter(match=f"{store.prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            store.client.delete(*keys[start:start + 500])
        store.close()


@define
class PrivateRedis:
    """A `redis-server` of the test's own on a spare port, for tests that flush, kill or restart Redis.

    It is stopped by its PID; the shared Redis is never touched.
    """

    folder: Path
    port: int = 0          # 0: a spare one is picked at the first start, and kept for the next
    appendonly: bool = False   # True: AOF on, so a restart keeps what it held (every write fsynced)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        """Start it and wait until it answers; OSError when there is no redis-server, RuntimeError when it does not start."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed")
        if not self.port:
            self.port = spare_port()
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.appendonly else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence,
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while (problem := _ping(self.url, timeout=0.2)) is not None:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}: {problem}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def spare_port(variable: str = "TIDINGS_TEST_PORTS") -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now: within the range in `variable` (``LOW-HIGH``)
    when it is set, for machines shared by several people each with a range of their own."""
    import random
    low, _, high = os.environ.get(variable, "0-0").partition("-")
    ports = list(range(int(low), int(high or low) + 1)) if int(low) else [0]
    start = random.randrange(len(ports))   # two servers started one after the other get different ports
    for port in ports[start:] + ports[:start]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise RuntimeError(f"no free port in {variable}={os.environ[variable]}")


def _ping(url: str, *, timeout: float) -> str | None:
    """None when Redis at `url` answers PING, else what went wrong."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=2, retry=Retry(NoBackoff(), 0))
    try:
        client.ping()
    except redis.RedisError as e:
        return str(e)
    finally:
        client.close()
    return None


# ---------------------------------------------------------------- RabbitMQ


def rabbitmq_url() -> str:
    """The URL of a running RabbitMQ (``TIDINGS_TEST_AMQP_URL``, by default guest on 127.0.0.1:5672)."""
    url = os.environ.get("TIDINGS_TEST_AMQP_URL", DEFAULT_AMQP_URL)
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError as e:
        unavailable(f"RabbitMQ is not reachable on 127.0.0.1:5672 ({e})")
    return url
