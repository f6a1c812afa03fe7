"""The fault suite's long cases: bench/faults.py against real processes, at a small size (marker ``faults``).

Deselected in the normal run; ``.ci/run`` runs them (``pytest -m faults``) when the normal run left
time. Each asserts what docs/reliability.md claims: no message lost, and none duplicated where the
provider can be asked for a message by its key.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tidings.testing import unavailable

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.faults


def run_scenario(name: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed: the fault suite starts one of its own")
    report = tmp_path / "faults.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "faults.py"), "--only", name, "--json", str(report), *args],
                          capture_output=True, text=True, timeout=1200, cwd=ROOT / "bench")
    assert report.exists(), done.stdout + done.stderr
    [row] = json.loads(report.read_text())
    return dict(row)


@pytest.mark.parametrize("name", ["worker-sigkill", "scheduler-sigkill", "client-kill", "flaky-30"])
def test_no_message_is_lost_or_duplicated_under_the_fault(name: str, tmp_path: Path) -> None:
    row = run_scenario(name, tmp_path, "--events", "400")
    assert (row["lost"], row["duplicated"], row["pending_left"]) == (0, 0, 0), row
    assert row["delivered"] == row["messages"], row


def test_two_schedulers_and_three_workers_racing_deliver_each_message_once(tmp_path: Path) -> None:
    row = run_scenario("race", tmp_path, "--race-events", "2000")
    assert (row["lost"], row["duplicated"], row["delivered"]) == (0, 0, 2000), row


def test_a_keyless_provider_failing_after_acceptance_duplicates_at_least_once_and_never_at_most_once(
        tmp_path: Path) -> None:
    # at least once: every duplicate is a timeout after acceptance, and nothing is lost
    row = run_scenario("flaky-30-keyless", tmp_path, "--events", "300")
    assert row["lost"] == 0 and 0 < row["duplicated"] <= row["injected"].get("late", 0), row
    # at most once: nothing twice; what the provider may have had is recorded failed, not lost
    row = run_scenario("flaky-30-keyless-at-most-once", tmp_path, "--events", "300")
    assert (row["lost"], row["duplicated"]) == (0, 0), row
    assert row["delivered"] + row["recorded_failed"] == row["messages"], row


def test_rabbitmq_connections_dropped_under_load_lose_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import secrets
    if shutil.which("rabbitmqctl") is None:
        unavailable("rabbitmqctl is not installed: the scenario closes the connections of a vhost of its own with it")
    monkeypatch.setenv("TIDINGS_FAULTS_VHOST", f"tidings-faults-{secrets.token_hex(4)}")   # its own, deleted after
    row = run_scenario("rabbitmq-kill", tmp_path, "--events", "400")
    assert (row["lost"], row["duplicated"], row["pending_left"]) == (0, 0, 0), row
    assert row["kills"] >= 1 and row["delivered"] == row["messages"], row
    assert len(row["alive"]) == 4, row
