"""Operator commands (issue 13): `tidings worker --processes N --threads T --pid-file P --log-file F`, the
scheduler's pid and log files, and `tidings status` (pending, due now, oldest overdue, queue depths, the
workers and schedulers alive), against real processes on a redis-server of the test's own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tidings.testing import LocalJsonProvider

Process = Any   # conftest's: a tidings command run as a real process


def tidings(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings.cli", *args], capture_output=True, text=True, timeout=60)


def status(config: Path) -> dict[str, Any]:
    run = tidings("status", "--config", str(config), "--json")
    assert run.returncode == 0, run.stderr
    found: dict[str, Any] = json.loads(run.stdout)
    return found


def kinds(found: dict[str, Any]) -> list[str]:
    return sorted(p["kind"] for p in found["processes"])


def test_worker_processes_with_pid_and_log_files_are_seen_by_status_and_replaced_when_one_dies(
        deployment: Path, local_json_provider: LocalJsonProvider, processes: Callable[..., Process],
        until: Callable[..., Any], events_file: Callable[[str, range], Path], tmp_path: Path) -> None:
    pids, logs = tmp_path / "run", tmp_path / "log"
    worker = processes("worker", "worker", "--config", str(deployment), "--processes", "2", "--threads", "1",
                       "--pid-file", str(pids / "worker.pid"), "--log-file", str(logs / "worker.log"))
    scheduler = processes("scheduler", "scheduler", "--config", str(deployment), "--interval", "0.1",
                          "--pid-file", str(pids / "scheduler.pid"), "--log-file", str(logs / "scheduler.log"))
    # the pid files name the processes a service manager watches
    until(lambda: (pids / "worker.pid").exists() and (pids / "scheduler.pid").exists(), what="the pid files")
    assert int((pids / "worker.pid").read_text()) == worker.popen.pid
    assert int((pids / "scheduler.pid").read_text()) == scheduler.popen.pid
    # and status sees two worker processes and the scheduler alive
    until(lambda: kinds(status(deployment)) == ["scheduler", "worker", "worker"], what="three processes alive")

    published = tidings("publish", "--config", str(deployment), str(events_file("events.jsonl", range(1, 21))))
    assert published.returncode == 0, published.stderr
    until(lambda: len(local_json_provider.delivered) == 20, what="twenty events delivered")
    assert until(lambda: (found := status(deployment))["pending"] == 0 and found)["due_now"] == 0

    # When one worker process is killed, another takes its place
    children = sorted(p["pid"] for p in status(deployment)["processes"] if p["kind"] == "worker")
    os.kill(children[0], signal.SIGKILL)
    until(lambda: (found := sorted(p["pid"] for p in status(deployment)["processes"] if p["kind"] == "worker"))
          and len(found) == 2 and children[0] not in found, what="a new worker process in the killed one's place")

    # Then SIGTERM stops them all cleanly, the pid files go, and the log files hold their lines (not stderr)
    assert worker.stop() == 0 and scheduler.stop() == 0
    assert not (pids / "worker.pid").exists() and not (pids / "scheduler.pid").exists()
    told = [json.loads(line)["event"] for line in (logs / "worker.log").read_text().splitlines()]
    assert told.count("worker_started") == 3 and "worker_process_died" in told and told.count("worker_stopped") == 2
    assert "scheduler_started" in (logs / "scheduler.log").read_text()
    assert worker.log_path.read_text() == "" and scheduler.log_path.read_text() == ""
    # a clean exit takes its heartbeat away at once; only the killed process's may still be there, until it expires
    assert {p["pid"] for p in status(deployment)["processes"]} <= {children[0]}


def test_a_second_process_on_a_pid_file_in_use_is_refused(deployment: Path, processes: Callable[..., Process],
                                                         until: Callable[..., Any], tmp_path: Path) -> None:
    pid = tmp_path / "scheduler.pid"
    first = processes("scheduler", "scheduler", "--config", str(deployment), "--pid-file", str(pid))
    until(pid.exists, what="the pid file")
    second = tidings("scheduler", "--config", str(deployment), "--pid-file", str(pid))
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert f"process {first.popen.pid} is running with this pid file" in second.stderr
    assert first.stop() == 0


def test_status_counts_pending_due_and_queued_messages(deployment: Path, events_file: Callable[[str, range], Path]) -> None:
    from tidings.config import load_config
    from tidings.pipeline import build_pipeline
    from tidings.store import open_store

    # Given two messages due in the store (planned here, as a worker would) and three events queued, no process running
    cfg = load_config(deployment)
    store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace)
    try:
        pipeline = build_pipeline(None, cfg, store, transports={})
        for line in events_file("planned.jsonl", range(1, 3)).read_text().splitlines():
            pipeline.ingest(json.loads(line))
    finally:
        store.close()
    assert tidings("publish", "--config", str(deployment), str(events_file("queued.jsonl", range(3, 6)))).returncode == 0

    # Then status says so, as JSON and as text
    found = status(deployment)
    assert found["namespace"] == "outages"
    assert (found["pending"], found["due_now"]) == (2, 2) and found["oldest_overdue_seconds"] >= 0
    assert found["queues"] == {"outages": {"ready": 3, "delayed": 0, "dead": 0}}
    assert found["processes"] == []
    text = tidings("status", "--config", str(deployment))
    assert text.returncode == 0, text.stderr
    first, *rest = text.stdout.splitlines()
    assert first.startswith("namespace outages: 2 pending, 2 due now, oldest overdue ")
    assert rest == ["queue outages: 3 ready, 0 delayed, 0 dead", "alive: 0 workers, 0 schedulers"]


def _children(pid: int) -> list[int]:
    """The pids of a process's children (Linux's /proc)."""
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in found.read_text().split()] if found.exists() else []


def _gone(pid: int) -> bool:
    """Whether a process has exited (a zombie nobody reaped yet has)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    return state in ("Z", "X")


def test_worker_processes_stop_when_their_parent_is_killed(deployment: Path, processes: Callable[..., Process],
                                                           until: Callable[..., Any]) -> None:
    # Given a worker with two processes under it, both started
    worker = processes("worker", "worker", "--config", str(deployment), "--processes", "2", "--threads", "1")
    children = until(lambda: len(found := _children(worker.popen.pid)) == 2 and found, what="two worker processes")
    until(lambda: kinds(status(deployment)).count("worker") == 2, what="both worker processes running")
    # When the parent is killed, with no chance to pass anything on
    worker.popen.kill()
    worker.popen.wait(timeout=30)
    # Then its children stop by themselves, within seconds, instead of running on as orphans
    until(lambda: all(_gone(child) for child in children), within=20, what="the orphaned worker processes exiting")
