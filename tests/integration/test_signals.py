"""Signals (issue 13): SIGTERM and SIGINT stop `tidings worker` and `tidings scheduler` gracefully; SIGHUP reloads
their configuration, checked first: a bad one is refused with a log line and the old one keeps working.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tidings.testing import LocalJsonProvider

Process = Any   # conftest's: a tidings command run as a real process


def publish(config: Path, events: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "tidings.cli", "publish", "--config", str(config), str(events)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sighup_reloads_a_good_configuration_refuses_a_bad_one_and_a_stop_signal_ends_cleanly(
        stop: int, deployment: Path, local_json_provider: LocalJsonProvider, processes: Callable[..., Process],
        until: Callable[..., Any], events_file: Callable[[str, range], Path]) -> None:
    worker = processes("worker", "worker", "--config", str(deployment), "--threads", "2")
    scheduler = processes("scheduler", "scheduler", "--config", str(deployment), "--interval", "0.1")
    publish(deployment, events_file("first.jsonl", range(1, 3)))
    until(lambda: local_json_provider.texts() == ["Booked: a-1", "Booked: a-2"], what="the first events delivered")

    # When the configuration is broken and the processes are told to reload it
    good = deployment.read_text(encoding="utf-8")
    deployment.write_text(good.replace('trigger = "status-change"', 'trigger = "status-chnage"'), encoding="utf-8")
    for process in (worker, scheduler):
        process.popen.send_signal(signal.SIGHUP)
    # Then each refuses it, naming the problem, and keeps working with the old one
    until(lambda: "config_refused" in worker.events() and "config_refused" in scheduler.events(), what="the refusals")
    refusal = next(line for line in worker.lines() if line["event"] == "config_refused")
    assert any("status-chnage" in problem for problem in refusal["problems"]), refusal
    publish_good = deployment.with_name("good.toml")
    publish_good.write_text(good, encoding="utf-8")
    publish(publish_good, events_file("second.jsonl", range(3, 4)))
    until(lambda: "Booked: a-3" in local_json_provider.texts(), what="delivery with the old configuration")

    # When a good new configuration (another text) is in place and the processes are told to reload it
    deployment.write_text(good.replace('sms = "Booked:', 'sms = "See you:'), encoding="utf-8")
    for process in (worker, scheduler):
        process.popen.send_signal(signal.SIGHUP)
    until(lambda: "config_reloaded" in worker.events() and "config_reloaded" in scheduler.events(), what="the reloads")
    publish(deployment, events_file("third.jsonl", range(4, 5)))
    # Then what is sent from now on is the new configuration's
    until(lambda: "See you: a-4" in local_json_provider.texts(), what="delivery with the new configuration")
    assert worker.alive() and scheduler.alive()

    # and a stop signal ends each process cleanly, with nothing sent twice
    assert worker.stop(stop) == 0 and scheduler.stop(stop) == 0
    assert "worker_stopped" in worker.events() and "scheduler_stopped" in scheduler.events()
    assert sorted(local_json_provider.texts()) == ["Booked: a-1", "Booked: a-2", "Booked: a-3", "See you: a-4"]
