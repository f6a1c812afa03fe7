"""Processes that ride out outages (issue 13): `tidings worker`, `tidings scheduler` and `tidings publish` as real
processes on a redis-server of the test's own, stopped by its PID and started again on its port (AOF on), and
Redis connections killed under load. Every process stays alive, each outage is one line and its end another,
and every event is delivered once after the recovery.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tidings.testing import LocalJsonProvider, PrivateRedis

Process = Any   # conftest's: a tidings command run as a real process


def _first_ten_delivered(config: Path, provider: LocalJsonProvider, until: Callable[..., Any],
                         events_file: Callable[[str, range], Path]) -> None:
    """Publish ten events and wait until the processes running on `config` delivered them."""
    first = subprocess.run([sys.executable, "-m", "tidings.cli", "publish", "--config", str(config),
                            str(events_file("first.jsonl", range(1, 11)))], capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    until(lambda: len(provider.delivered) == 10, what="the first ten events delivered")


def test_worker_scheduler_and_publish_ride_out_a_redis_restart_and_deliver_every_event(
        deployment: Path, restartable_redis: PrivateRedis, local_json_provider: LocalJsonProvider,
        processes: Callable[..., Process], until: Callable[..., Any], events_file: Callable[[str, range], Path]) -> None:
    # Given a worker and a scheduler delivering what was published
    worker = processes("worker", "worker", "--config", str(deployment), "--threads", "2")
    scheduler = processes("scheduler", "scheduler", "--config", str(deployment), "--interval", "0.1")
    _first_ten_delivered(deployment, local_json_provider, until, events_file)

    # When Redis stops (by its PID) for ten seconds, the length of the outage the issue saw kill both schedulers,
    # while events are being published
    restartable_redis.stop()
    back_at = time.monotonic() + 10
    publisher = processes("publish", "publish", "--config", str(deployment), "--retry-for", "120",
                          str(events_file("second.jsonl", range(11, 31))))
    until(lambda: "store_unreachable" in scheduler.events() and "store_unreachable" in worker.events()
          and "broker_unreachable" in publisher.events(), what="every process logging the outage")
    time.sleep(max(0.0, back_at - time.monotonic()))   # the fault's length, not a wait for a result
    # and comes back on its port, with what it held (AOF)
    restartable_redis.start()

    # Then publish finishes once Redis is back, and every event is delivered, each once
    until(lambda: publisher.popen.poll() is not None, what="publish finishing after the outage")
    assert publisher.stop() == 0, publisher.log_path.read_text()
    assert "published 20 events" in publisher.out_path.read_text()
    until(lambda: len(local_json_provider.delivered) == 30, within=180, what="all 30 events delivered after the outage")
    assert local_json_provider.texts() == sorted(f"Booked: a-{n}" for n in range(1, 31))
    assert max(local_json_provider.posts.values()) == 1
    until(lambda: "store_reconnected" in scheduler.events() and "store_reconnected" in worker.events(),
          what="the recovery logged")

    # and the processes stayed alive, told each outage once and its end once, and stop cleanly
    assert worker.alive() and scheduler.alive()
    for process in (worker, scheduler, publisher):
        told = Counter(process.events())
        for what in ("store", "broker"):
            assert told[f"{what}_unreachable"] <= 1 and told[f"{what}_reconnected"] <= told[f"{what}_unreachable"], told
        assert not any("Traceback" in json.dumps(line) for line in process.lines()), process.log_path.read_text()
    assert Counter(worker.events())["store_reconnected"] == 1 and Counter(scheduler.events())["store_reconnected"] == 1
    assert worker.stop() == 0 and scheduler.stop() == 0


def test_connection_drops_under_load_lose_nothing(deployment: Path, restartable_redis: PrivateRedis,
                                                 local_json_provider: LocalJsonProvider, processes: Callable[..., Process],
                                                 until: Callable[..., Any], events_file: Callable[[str, range], Path]) -> None:
    import redis
    worker = processes("worker", "worker", "--config", str(deployment), "--threads", "2")
    scheduler = processes("scheduler", "scheduler", "--config", str(deployment), "--interval", "0.1")
    publisher = processes("publish", "publish", "--config", str(deployment),
                          str(events_file("events.jsonl", range(1, 201))))
    admin = redis.Redis.from_url(restartable_redis.url)
    try:
        # every connection but this one is killed, eight times while the events flow
        for _ in range(8):
            before = len(local_json_provider.delivered)
            admin.client_kill_filter(_type="normal", skipme=True)
            until(lambda before=before: len(local_json_provider.delivered) > before or len(local_json_provider.delivered) == 200,
                  what="deliveries going on after a connection drop")
        until(lambda: publisher.popen.poll() is not None, what="publish finishing")
        assert publisher.stop() == 0, publisher.log_path.read_text()
        until(lambda: len(local_json_provider.delivered) == 200, within=180, what="all 200 events delivered")
    finally:
        admin.close()
    assert local_json_provider.texts() == sorted(f"Booked: a-{n}" for n in range(1, 201))
    assert worker.alive() and scheduler.alive()
    assert worker.stop() == 0 and scheduler.stop() == 0


def test_publish_reports_the_events_an_unreachable_broker_did_not_acknowledge(deployment: Path,
                                                                              restartable_redis: PrivateRedis,
                                                                              events_file: Callable[[str, range], Path]) -> None:
    restartable_redis.stop()
    run = subprocess.run([sys.executable, "-m", "tidings.cli", "--log-level", "error", "publish", "--config", str(deployment),
                          "--retry-for", "0.5", str(events_file("events.jsonl", range(1, 4)))],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 75
    assert "published 0 events, not acknowledged 3" in run.stdout
    assert "cannot reach the broker: the events on lines 1-3 were not acknowledged; publish them again" in run.stderr
    assert "Traceback" not in run.stderr



def test_worker_and_publish_ride_out_a_rabbitmq_outage_and_deliver_every_event(
        rabbitmq_proxy: tuple[Any, str], deployment: Path, restartable_redis: PrivateRedis, local_json_provider: LocalJsonProvider,
        processes: Callable[..., Process], until: Callable[..., Any], events_file: Callable[[str, range], Path],
        tmp_path: Path) -> None:
    import secrets

    import pika  # type: ignore[import-untyped]

    # Given a deployment whose broker is RabbitMQ, reached through a proxy that can cut the network
    proxy, broker = rabbitmq_proxy
    namespace = f"outages-{secrets.token_hex(4)}"
    config = tmp_path / "rabbit.toml"
    config.write_text(deployment.read_text(encoding="utf-8")
                      .replace('namespace = "outages"', f'namespace = "{namespace}"')
                      .replace(f'broker = "{restartable_redis.url}"', f'broker = "{broker}"'), encoding="utf-8")
    worker = processes("worker", "worker", "--config", str(config), "--threads", "2")
    scheduler = processes("scheduler", "scheduler", "--config", str(config), "--interval", "0.1")
    try:
        _first_ten_delivered(config, local_json_provider, until, events_file)

        # When the network to RabbitMQ is cut for ten seconds while events are published
        proxy.cut()
        back_at = time.monotonic() + 10
        publisher = processes("publish", "publish", "--config", str(config), "--retry-for", "120",
                              str(events_file("second.jsonl", range(11, 31))))
        until(lambda: "broker_unreachable" in worker.events() and "broker_unreachable" in publisher.events(),
              what="the worker and publish logging the outage")
        time.sleep(max(0.0, back_at - time.monotonic()))   # the fault's length, not a wait for a result
        proxy.start()

        # Then publish finishes, every event is delivered once, and the processes are alive and stop cleanly
        until(lambda: publisher.popen.poll() is not None, what="publish finishing after the outage")
        assert publisher.stop() == 0, publisher.log_path.read_text()
        until(lambda: len(local_json_provider.delivered) == 30, within=180, what="all 30 events delivered")
        assert local_json_provider.texts() == sorted(f"Booked: a-{n}" for n in range(1, 31))
        until(lambda: "broker_reconnected" in worker.events(), what="the recovery logged")
        assert worker.alive() and scheduler.alive()
        told = Counter(worker.events())
        assert told["broker_unreachable"] == 1 and told["broker_reconnected"] == 1, told
        assert worker.stop() == 0 and scheduler.stop() == 0
    finally:
        worker.stop()
        scheduler.stop()
        connection = pika.BlockingConnection(pika.URLParameters(broker.replace(f":{proxy.port}/", ":5672/")))
        try:
            channel = connection.channel()
            for queue in (namespace, f"{namespace}.DQ", f"{namespace}.XQ"):
                channel.queue_delete(queue)
        finally:
            connection.close()
