"""The fault suite's fast cases (docs/reliability.md): real processes on a Redis of the test's own.

A scheduler SIGKILLed between claiming and handing over gives its slots back within seconds, not
a lease; a worker SIGKILLed in the middle of a request has its message delivered by another worker,
before the lease could bring it back. The long cases (bench/faults.py under load) are in
tests/bench/test_faults.py, marked ``faults``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tidings.testing import LocalJsonProvider
from tidings.testing.deployments import booking_sms_config
from tidings.testing.http import Reply, Request

# a lease of ten minutes: what arrives within a minute was not brought back by a lease running out

# a scheduler's first step, as Scheduler.enqueue_due takes it, and then nothing: it is killed here
CLAIM_AND_HANG = """
import sys, time
from tidings.clock import SystemClock
from tidings.config import load_config
from tidings.pipeline.scheduler import IN_HAND
from tidings.store import open_store
cfg = load_config(sys.argv[1])
store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace)
claimed = store.claim_due(SystemClock().now(), limit=1000, lease=IN_HAND)
print(len(claimed), flush=True)
time.sleep(3600)
"""


class HangsFirst(LocalJsonProvider):
    """The kit's JSON provider, whose first POST never gets an answer (its worker is killed meanwhile)."""

    def __init__(self) -> None:
        self.hung = 0
        super().__init__()

    def respond(self, request: Request) -> Reply:
        if request.method == "POST" and self.hung == 0:
            self.hung += 1
            return Reply(200, {"id": "never"}, hang=True)
        return super().respond(request)


@pytest.fixture
def provider() -> Iterator[HangsFirst]:
    provider = HangsFirst()
    yield provider
    provider.stop()


@pytest.fixture
def config(private_redis: str, provider: HangsFirst, tmp_path: Path) -> Path:
    path = tmp_path / "tidings.toml"
    path.write_text(booking_sms_config(store=private_redis, url=provider.url, tidings='lease = "10m"',
                                       sms=f'timeout = 1\nlookup_url = "{provider.url}/{{idempotency_key}}"'), encoding="utf-8")
    return path


@pytest.fixture
def start(config: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``tidings worker`` / ``tidings scheduler`` processes; each is stopped (SIGTERM, then SIGKILL) after the test."""
    processes: list[subprocess.Popen[bytes]] = []

    def run(kind: str, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, "-m", "tidings.cli", "--log-level", "error", kind, "--config",
                                    str(config), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        return process
    yield run
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def event(n: int) -> dict[str, object]:
    return {"id": f"evt-{n}", "type": "appointment.created", "occurred_at": "2026-03-02T09:00:00+01:00",
            "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2030-03-10T14:00:00+01:00",
                        "client": {"id": f"c-{n}", "phone": f"+4860010{n:04d}", "consents": {"sms": True}}}}


def plan(config: Path, count: int) -> None:
    """Plan `count` events into the store, as a worker's ingest would: each asks for one SMS, due now."""
    from tidings.config import load_config
    from tidings.pipeline import build_pipeline
    from tidings.store import open_store
    cfg = load_config(config)
    store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace)
    pipeline = build_pipeline(None, cfg, store, transports={})
    for n in range(count):
        pipeline.ingest(event(n))
    assert store.count_pending() == count
    store.close()


def wait_until(condition: Callable[[], bool], *, within: float) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_scheduler_killed_between_claim_and_enqueue_gives_its_slots_back_long_before_the_lease(
        config: Path, provider: HangsFirst, start: Callable[..., subprocess.Popen[bytes]]) -> None:
    provider.hung = 1   # every POST is answered
    # Given twenty due messages, claimed by a scheduler that is killed before it hands any over
    plan(config, 20)
    claimer = subprocess.Popen([sys.executable, "-c", CLAIM_AND_HANG, str(config)], stdout=subprocess.PIPE,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert claimer.stdout is not None
    with claimer.stdout:
        assert int(claimer.stdout.readline()) == 20
    claimer.send_signal(signal.SIGKILL)
    claimer.wait()

    # When a worker and another scheduler run
    start("worker", "--threads", "2")
    start("scheduler", "--interval", "0.2")

    # Then every message arrives once, within a minute of a ten-minute lease
    assert wait_until(lambda: len(provider.texts()) >= 20, within=60), provider.texts()
    time.sleep(1)
    assert provider.texts() == sorted(f"Booked: a-{n}" for n in range(20))
    assert all(count == 1 for count in provider.posts.values())


def test_a_worker_killed_mid_request_has_its_message_delivered_by_another_before_the_lease(
        config: Path, provider: HangsFirst, start: Callable[..., subprocess.Popen[bytes]]) -> None:
    # Given one worker, whose request for the message hangs at the provider
    plan(config, 1)
    doomed = start("worker", "--threads", "1")
    start("scheduler", "--interval", "0.2")
    assert wait_until(lambda: provider.hung == 1, within=60)

    # When it is killed with the request in flight, and another worker runs
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    start("worker", "--threads", "1")

    # Then the other worker delivers it once (the broker requeued it: its lease is ten minutes),
    # having asked the provider first whether the hung request reached it
    assert wait_until(lambda: provider.texts() == ["Booked: a-0"], within=90), provider.texts()
    assert provider.lookups["missing"] >= 1
    time.sleep(1)
    assert provider.texts() == ["Booked: a-0"]
    assert all(count == 1 for count in provider.posts.values())
