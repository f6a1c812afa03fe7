"""Prometheus metrics (issue 13): `tidings worker --processes 2 --metrics-port P` and `tidings scheduler --metrics-port`
as real processes, scraped with a real HTTP request and read with prometheus_client's own parser: messages by rule,
channel, status and reason, the due-to-send lag, retries, queue depths, and Dramatiq's own metrics, added up over
the worker processes.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tidings.testing import LocalJsonProvider, Reply, Request

Process = Any   # conftest's: a tidings command run as a real process


class PickyProvider(LocalJsonProvider):
    """Refuses one number for good, and answers 503 to another's first attempt."""

    def respond(self, request: Request) -> Reply:
        to = str(request.json.get("to", "")) if request.method == "POST" else ""
        if to.endswith("600100002"):
            return Reply(400, {"error": "blocked"})
        if to.endswith("600100003") and sum(1 for r in self.requests if r.method == "POST" and r.json.get("to") == to) == 1:
            return Reply(503, {"error": "busy"})
        return super().respond(request)


@pytest.fixture
def picky_provider() -> Iterator[PickyProvider]:
    provider = PickyProvider()
    try:
        yield provider
    finally:
        provider.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int) -> dict[str, list[Any]]:
    """The samples of every metric family served on `port`, by family name."""
    from prometheus_client.parser import text_string_to_metric_families
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def total(samples: dict[str, list[Any]], family: str, sample: str | None = None, **labels: str) -> float:
    return sum(s.value for s in samples.get(family, []) if (sample is None or s.name == sample)
               and all(s.labels.get(k) == v for k, v in labels.items()))


def test_worker_and_scheduler_metrics_count_what_was_sent_skipped_failed_and_retried(
        deployment: Path, local_json_provider: LocalJsonProvider, picky_provider: PickyProvider, processes: Callable[..., Process],
        until: Callable[..., Any], events_file: Callable[[str, range], Path], tmp_path: Path) -> None:
    config = tmp_path / "metrics.toml"
    config.write_text(deployment.read_text(encoding="utf-8").replace(local_json_provider.url, picky_provider.url), encoding="utf-8")
    worker_port, scheduler_port = free_port(), free_port()
    worker = processes("worker", "worker", "--config", str(config), "--processes", "2", "--threads", "2",
                       "--metrics-port", str(worker_port))
    scheduler = processes("scheduler", "scheduler", "--config", str(config), "--interval", "0.1",
                          "--metrics-port", str(scheduler_port))
    events = events_file("events.jsonl", range(1, 6))
    bad = json.loads(events.read_text().splitlines()[0])
    bad["id"], bad["subject"]["id"], bad["subject"]["client"]["phone"] = "evt-9", "a-9", "12"   # not a phone number
    events.write_text(events.read_text() + json.dumps(bad) + "\n")
    published = subprocess.run([sys.executable, "-m", "tidings.cli", "publish", "--config", str(config), str(events)],
                               capture_output=True, text=True, timeout=60)
    assert published.returncode == 0, published.stderr

    # Then the worker's port says what became of each message, summed over its two processes
    def settled() -> dict[str, list[Any]] | None:
        try:
            samples = scrape(worker_port)
        except OSError:
            return None
        done = total(samples, "tidings_messages", "tidings_messages_total", status="sent") == 4 \
            and total(samples, "tidings_messages", "tidings_messages_total", status="failed") >= 1
        return samples if done else None

    samples = until(settled, within=180, what="four sent and one failed in the worker's metrics")
    assert total(samples, "tidings_messages", "tidings_messages_total", rule="booked", channel="sms", status="sent") == 4
    assert total(samples, "tidings_messages", "tidings_messages_total", status="failed", reason="provider_rejected") == 1
    assert total(samples, "tidings_messages", "tidings_messages_total", status="skipped", reason="invalid_address") == 1
    assert total(samples, "tidings_retries", "tidings_retries_total", reason="provider_unavailable") == 1
    assert total(samples, "tidings_due_to_send_lag_seconds", "tidings_due_to_send_lag_seconds_count",
                 rule="booked", channel="sms") == 4
    assert total(samples, "dramatiq_messages", "dramatiq_messages_total", actor_name="tidings_ingest") == 6
    assert {s.labels["state"] for s in samples["tidings_queue_messages"]} == {"ready", "delayed", "dead"}

    # and the scheduler's port the store's and the queue's state
    scheduler_samples = until(lambda: (found := scrape(scheduler_port)) and total(found, "tidings_pending_messages") == 0
                              and found, what="nothing pending in the scheduler's metrics")
    assert total(scheduler_samples, "tidings_due_messages") == 0
    assert total(scheduler_samples, "tidings_queue_messages", queue="outages", state="dead") == 0
    assert worker.stop() == 0 and scheduler.stop() == 0
