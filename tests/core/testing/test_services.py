"""The kit's services: skipped locally when missing, failed under CI, and each test's own data only."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest
import redis

from tidings.testing import PrivateRedis, running, unavailable
from tidings.testing.services import redis_store
from tidings.testing.services import redis_url as find_redis


class Broken:
    """A service that cannot bind its port."""

    stopped = False

    def start(self) -> None:
        raise OSError(98, "Address already in use")

    def stop(self) -> None:
        self.stopped = True


class Fine:
    started = stopped = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True


def test_a_missing_service_skips_the_test_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no frobnicator here"):
        unavailable("no frobnicator here")


def test_a_missing_service_fails_the_test_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no frobnicator here"):
        unavailable("no frobnicator here")


def test_a_service_that_cannot_start_is_unavailable_naming_it_and_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    service = Broken()
    with pytest.raises(pytest.fail.Exception, match=r"Broken could not start on 127.0.0.1: .*Address already in use"):
        with running(service):
            pass   # never reached
    assert not service.stopped


def test_a_running_service_is_stopped_after_the_block_even_when_it_raises() -> None:
    service = Fine()
    with pytest.raises(ZeroDivisionError), running(service) as started:
        assert started is service and service.started
        1 / 0   # noqa: B018
    assert service.stopped


def test_an_unreachable_redis_is_unavailable_and_names_its_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))                 # bound, never listening: connections are refused
        url = f"redis://127.0.0.1:{closed.getsockname()[1]}/0"
        monkeypatch.setenv("TIDINGS_TEST_REDIS_URL", url)
        monkeypatch.setenv("CI", "true")
        with pytest.raises(pytest.fail.Exception, match=f"Redis is not reachable at '{url}'"):
            find_redis()


def test_a_redis_store_deletes_its_own_keys_and_no_other(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    outside = f"tidings-test-outside:{uuid.uuid4().hex}"
    client.set(outside, "kept")
    try:
        with redis_store(redis_url) as store:
            client.set(f"{store.prefix}pending", "x")
            client.set(f"{store.prefix}log", "y")
            prefix = store.prefix
        assert list(client.scan_iter(match=f"{prefix}*")) == []
        assert client.get(outside) == b"kept"
    finally:
        client.delete(outside)
        client.close()


def test_a_private_redis_answers_on_a_port_of_its_own_and_is_gone_once_stopped(tmp_path: Path) -> None:
    server = PrivateRedis(folder=tmp_path)
    with running(server):
        client = redis.Redis.from_url(server.url, socket_connect_timeout=1)
        assert client.ping() and server.port != 6379
        client.close()
    assert server.process is None
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(server.url, socket_connect_timeout=1).ping()
