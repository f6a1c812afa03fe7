"""`tidings simulate` runs the pipeline's steps in one thread: it writes what the threaded run writes, byte for byte.

The threaded run hands every event and every due time to a Dramatiq worker thread through
`StubBroker` (``TIDINGS_SIMULATE_THREADED=1``, kept for this comparison); the output lines and the
summary must not tell the two apart, for the example salon and for a generated month of the benchmark's chain.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tidings.cli import main
from tidings.deployment import Deployment
from tidings.simulate import THREADED_ENV

ROOT = Path(__file__).resolve().parents[2]


def simulate(config: Path, events: Path, *, threaded: bool) -> Result:
    result = CliRunner().invoke(main, ["simulate", "--config", str(config), "--events", str(events), "--explain"],
                                env={THREADED_ENV: "1" if threaded else "0"})
    assert result.exit_code == 0, result.stderr
    return result


def assert_same_as_threaded(config: Path, events: Path) -> list[dict[str, object]]:
    direct, threaded = simulate(config, events, threaded=False), simulate(config, events, threaded=True)
    assert direct.stdout_bytes == threaded.stdout_bytes
    assert direct.stderr_bytes == threaded.stderr_bytes
    return [json.loads(line) for line in direct.stdout.splitlines()]


def test_the_example_salon_writes_what_the_threaded_run_writes() -> None:
    salon = ROOT / "examples" / "salon"
    records = assert_same_as_threaded(salon / "config.toml", salon / "events.jsonl")
    # the salon's messages as worked out by hand in expected.jsonl, those queued for staff included
    expected = (salon / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    assert sum(1 for r in records if "status" not in r or r["status"] == "queued") == len(expected) == 10


def test_a_generated_month_of_the_chain_writes_what_the_threaded_run_writes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "bench" / "chain.py"), "--days", "31", "--locations", "2",
                    "--out", str(tmp_path)], check=True, capture_output=True)
    records = assert_same_as_threaded(tmp_path / "config.toml", tmp_path / "events.jsonl")
    # every kind of outcome the month has shows in the comparison: sent messages and planning records
    statuses = {str(r.get("status", "sent")) for r in records}
    assert {"sent", "scheduled", "skipped", "rescheduled", "dropped", "suspended", "restored"} <= statuses
    assert {r["rule"] for r in records if "status" not in r} == {"booking-confirmed", "booking-cancelled", "reminder-24h",
                                                                 "reminder-2h", "review-request", "nails-repeat",
                                                                 "hair-repeat"}


def test_only_the_internal_flag_takes_the_threaded_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import tidings.simulate as module

    made: list[bool] = []
    real = module.Simulation
    monkeypatch.setattr(module, "Simulation", lambda *args, **kwargs: made.append(kwargs["threaded"]) or real(*args, **kwargs))
    deployment = Deployment.load(ROOT / "examples" / "salon" / "config.toml")
    monkeypatch.delenv(THREADED_ENV, raising=False)
    module.run(deployment, [])
    monkeypatch.setenv(THREADED_ENV, "1")
    module.run(deployment, [])
    assert made == [False, True]
