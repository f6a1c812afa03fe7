"""What the process tests share: `tidings` commands run as real processes, their JSON logs read back, and polling.

Fixtures:
    processes: ``processes(name, *args)`` starts ``python -m tidings.cli --log-json --log-level warning *args``
        with its stderr (the log) and stdout in files of the test's own; each is killed after the test.
    until: ``until(condition, within=60, what=...)`` polls until the condition holds, or fails the test.
    events_file: ``events_file(name, numbers)`` writes the booking events of those numbers, one per line.
    restartable_redis: a redis-server of the test's own with AOF on, to stop (by PID) and start again on its port.
    deployment: a configuration on `restartable_redis` sending an SMS per booking to the local JSON provider.
"""


from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tidings.testing import LocalJsonProvider, PrivateRedis, running

CONFIG = """
[tidings]
timezone = "Europe/Warsaw"
namespace = "outages"
broker = "{redis}"
store = "{redis}"

[plugins]
channels = ["sms"]
triggers = ["status-change"]

[channels.sms]
provider = "json"
url = "{url}"
sender = "Salon"
default_region = "PL"

[[rules]]
id = "booked"
trigger = "status-change"
on = "created"
channel = "sms"
template = "booked"

[templates.booked]
sms = "{text}: {{{{ subject.id }}}}"
"""


def event(n: int) -> str:
    return json.dumps({"id": f"evt-{n}", "type": "appointment.created", "occurred_at": "2026-03-02T09:00:00+01:00",
                       "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2030-03-10T14:00:00+01:00",
                                   "client": {"id": f"c-{n}", "phone": f"600100{n:03d}", "consents": {"sms": True}}}})


def poll(condition: Callable[[], Any], *, within: float = 60, what: str = "") -> Any:
    """Poll `condition` until it is true (returned) or `within` seconds pass (the test fails naming `what`)."""
    deadline = time.monotonic() + within
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        time.sleep(0.05)
    return result


class Process:
    """A `tidings` command run as a real process, its JSON log lines (stderr) in a file."""

    def __init__(self, folder: Path, name: str, *args: str) -> None:
        self.log_path = folder / f"{name}.log"
        self.out_path = folder / f"{name}.out"
        self._err: IO[bytes] = self.log_path.open("wb")
        self._out: IO[bytes] = self.out_path.open("wb")
        self.popen = subprocess.Popen([sys.executable, "-m", "tidings.cli", "--log-json", "--log-level", "warning", *args],
                                      stdout=self._out, stderr=self._err, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def lines(self) -> list[dict[str, Any]]:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def events(self) -> list[str]:
        return [line.get("event", "") for line in self.lines()]

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.alive():
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout=60)
        finally:
            self._err.close()
            self._out.close()


@pytest.fixture
def deployment(restartable_redis: PrivateRedis, local_json_provider: LocalJsonProvider, tmp_path: Path) -> Path:
    config = tmp_path / "tidings.toml"
    config.write_text(CONFIG.format(redis=restartable_redis.url, url=local_json_provider.url, text="Booked"), encoding="utf-8")
    return config


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(name: str, *args: str) -> Process:
        started.append(Process(tmp_path, name, *args))
        return started[-1]

    yield start
    for process in started:
        process.stop(signal.SIGKILL)


def write_events(path: Path, numbers: range) -> Path:
    path.write_text("".join(event(n) + "\n" for n in numbers), encoding="utf-8")
    return path


@pytest.fixture
def until() -> Callable[..., Any]:
    return poll


@pytest.fixture
def events_file(tmp_path: Path) -> Callable[[str, range], Path]:
    return lambda name, numbers: write_events(tmp_path / name, numbers)


@pytest.fixture
def restartable_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    with running(PrivateRedis(folder=tmp_path_factory.mktemp("redis"), appendonly=True)) as server:
        yield server
