"""The harness's services (bench/services.py): a private redis-server stopped by its PID, and the HTTP sink."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import threading

import pytest

from tidings.testing import unavailable

from .conftest import load_bench

services = load_bench("services")


def post(port: int, body: dict[str, object], key: str | None) -> tuple[int, dict[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/messages", body=json.dumps(body),
                           headers={"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_private_redis_answers_on_its_own_port_and_is_gone_after_stop() -> None:
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    server = services.RedisServer().start()
    pid = server.pid
    try:
        assert server.port != 6379
        client = server.client()
        assert client.ping() and client.dbsize() == 0
        client.close()
    finally:
        server.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_sink_delivers_once_per_idempotency_key_and_counts_every_keyless_post() -> None:
    sink = services.Sink()
    try:
        first = post(sink.port, {"to": "+48600100200", "text": "one"}, "k-1")
        again = post(sink.port, {"to": "+48600100200", "text": "one"}, "k-1")
        post(sink.port, {"title": "", "message": "apprise"}, None)
        post(sink.port, {"title": "", "message": "apprise"}, None)
        assert first[0] == 201 and again == (200, first[1])
        assert [text for _, text in sink.arrivals()] == ["one", "apprise", "apprise"]
        assert sink.posts["k-1"] == 2
    finally:
        sink.stop()


def test_slow_sink_holds_many_clients_at_once() -> None:
    # Given a sink that answers two seconds after each request
    sink = services.Sink(latency=2.0)
    try:
        # When 20 clients post at once and each waits for its answer
        threads = [threading.Thread(target=post, args=(sink.port, {"text": f"m-{n}"}, f"k-{n}")) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        # Then every request had arrived before the first was answered: the latency did not serialise them
        assert len(sink.times) == len(sink.answered) == 20
        assert min(sink.answered) > max(sink.times)
    finally:
        sink.stop()
