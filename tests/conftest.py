"""Fixtures shared by the whole test suite: real services, each skipped locally when down and failed under CI."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from tidings.store.redis import RedisStore


def _unavailable(reason: str) -> NoReturn:
    """Skip the test locally; fail it under CI, where a missing service is a broken build."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


# ---------------------------------------------------------------- Redis


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a running Redis (``TIDINGS_TEST_REDIS_URL``, by default ``redis://127.0.0.1:6379/0``).

    The database is shared with other test runs: use a unique key prefix and never flush it.
    """
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    url = os.environ.get("TIDINGS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2, retry=Retry(NoBackoff(), 0))
    try:
        client.ping()
    except redis.RedisError as e:
        _unavailable(f"Redis is not reachable at {url!r} ({e}); start one or set TIDINGS_TEST_REDIS_URL")
    finally:
        client.close()
    return url


@pytest.fixture
def redis_store(redis_url: str) -> Iterator[RedisStore]:
    """A `RedisStore` under a fresh random key prefix; its keys, and only its keys, are deleted afterwards."""
    from tidings.store.redis import RedisStore

    store = RedisStore.from_url(redis_url, prefix=f"tidings-test:{uuid.uuid4().hex}:")
    try:
        yield store
    finally:
        keys = list(store.client.scan_iter(match=f"{store.prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            store.client.delete(*keys[start:start + 500])
        store.close()


@pytest.fixture
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `redis-server` of the test's own on a spare port (for tests that flush, kill or restart Redis).

    It is stopped by its PID afterwards; the shared Redis on 6379 is never touched.
    """
    import shutil
    import socket
    import subprocess
    import time

    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    _unavailable(f"redis-server did not start on port {port}")
                time.sleep(0.02)
        yield url
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------- RabbitMQ


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The URL of a running RabbitMQ (``TIDINGS_TEST_AMQP_URL``, by default guest on 127.0.0.1:5672)."""
    import socket

    url = os.environ.get("TIDINGS_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError as e:
        _unavailable(f"RabbitMQ is not reachable on 127.0.0.1:5672 ({e})")
    return url
