"""Namespace isolation (issue 13): two deployments with different ``[tidings] namespace`` on one Redis (the store,
and the broker in one case) and one RabbitMQ vhost (the broker in the other), each with a real worker and
scheduler process, and the same event and subject ids in both: each delivers only its own events.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tidings.testing import LocalJsonProvider
from tidings.testing.deployments import booking_sms_config

Process = Any   # conftest's: a tidings command run as a real process



@pytest.fixture
def two_providers() -> Iterator[tuple[LocalJsonProvider, LocalJsonProvider]]:
    first, second = LocalJsonProvider(), LocalJsonProvider()
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def delete_queues(url: str, names: list[str]) -> None:
    import pika  # type: ignore[import-untyped]
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        for name in names:
            for queue in (name, f"{name}.DQ", f"{name}.XQ"):
                channel.queue_delete(queue)
    finally:
        connection.close()


@pytest.mark.parametrize("broker_kind", ["redis", "rabbitmq"])
def test_two_deployments_on_one_redis_and_one_vhost_each_deliver_only_their_own_events(
        broker_kind: str, request: pytest.FixtureRequest, private_redis: str,
        two_providers: tuple[LocalJsonProvider, LocalJsonProvider], processes: Callable[..., Process],
        until: Callable[..., Any], events_file: Callable[[str, range], Path], tmp_path: Path) -> None:
    broker = private_redis if broker_kind == "redis" else request.getfixturevalue("rabbitmq_url")
    suffix = secrets.token_hex(4)
    namespaces = [f"salon-a-{suffix}", f"salon-b-{suffix}"]
    configs = []
    for namespace, provider, name in zip(namespaces, two_providers, ("A", "B"), strict=True):
        config = tmp_path / f"{namespace}.toml"
        config.write_text(booking_sms_config(store=private_redis, broker=broker, url=provider.url, text=f"{name}: {{{{ subject.id }}}}",
                                              tidings=f'namespace = "{namespace}"'),
                          encoding="utf-8")
        configs.append(config)
    running = []
    try:
        for name, config in zip("ab", configs, strict=True):
            running.append(processes(f"worker-{name}", "worker", "--config", str(config), "--threads", "2"))
            running.append(processes(f"scheduler-{name}", "scheduler", "--config", str(config), "--interval", "0.1"))
        # the same events (ids, subjects, clients) published to both deployments
        events = events_file("events.jsonl", range(1, 11))
        for config in configs:
            run = subprocess.run([sys.executable, "-m", "tidings.cli", "publish", "--config", str(config), str(events)],
                                 capture_output=True, text=True, timeout=60)
            assert run.returncode == 0, run.stderr
        first, second = two_providers
        until(lambda: len(first.delivered) == 10 and len(second.delivered) == 10, what="each deployment's ten messages")
        assert first.texts() == sorted(f"A: a-{n}" for n in range(1, 11))
        assert second.texts() == sorted(f"B: a-{n}" for n in range(1, 11))
        # each deployment's store holds its own delivery log
        for config, name in zip(configs, "AB", strict=True):
            feed = subprocess.run([sys.executable, "-m", "tidings.cli", "log", "--config", str(config), "a-1"],
                                  capture_output=True, text=True, timeout=60)
            sent = [json.loads(line) for line in feed.stdout.splitlines() if json.loads(line)["status"] == "sent"]
            assert len(sent) == 1, feed.stdout
        assert [process.stop() for process in running] == [0, 0, 0, 0]
    finally:
        for process in running:
            process.stop()
        if broker_kind == "rabbitmq":
            delete_queues(broker, namespaces)
