"""The benchmark harness (bench/harness.py) runs end to end at a tiny size and reports every row with numbers.

This is a smoke test: it checks that each measurement ran and produced figures, never how fast anything was.
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

# the rows of issue 12's table, in order: dropping one is a regression of the harness
ROWS = ["e2e-vs-raw", "e2e-vs-apprise", "publish-vs-send", "publish-vs-pipelined", "ingest", "simulate-short",
        "simulate-year", "memory-pending", "memory-event", "growth", "lag-p50", "lag-p99", "claim", "slow-sink"]
WITH_REFERENCE = {"e2e-vs-raw", "e2e-vs-apprise", "publish-vs-send", "publish-vs-pipelined", "ingest",
                  "memory-pending", "growth", "claim", "slow-sink"}


def retention_exists() -> bool:
    import attrs

    from tidings.config import Settings
    return any(a.name == "retention" for a in attrs.fields(Settings))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """One `--quick --runs 1` run of the harness: its JSON report and its printed table."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed: the harness starts one of its own")
    report = tmp_path_factory.mktemp("bench") / "report.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "harness.py"), "--quick", "--runs", "1", "--json", str(report)],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(report.read_text()), done.stdout


def number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and value >= 0


def test_quick_run_reports_every_row_of_the_issue_in_order(quick_run: tuple[dict[str, Any], str]) -> None:
    report, _ = quick_run
    assert [row["id"] for row in report["rows"]] == ROWS
    assert report["failures"] == []


def test_every_row_has_a_tidings_figure_and_its_reference_from_the_same_run(quick_run: tuple[dict[str, Any], str]) -> None:
    report, _ = quick_run
    for row in report["rows"]:
        if row["id"] == "growth" and not retention_exists():
            # the retention setting does not exist yet: the row says so instead of a figure
            assert row["tidings"] is None and row["note"].startswith("not available"), row
        else:
            assert number(row["tidings"]["median"]), row
            assert row["tidings"]["min"] <= row["tidings"]["median"] <= row["tidings"]["max"], row
        if row["id"] in WITH_REFERENCE:
            assert number(row["reference"]["median"]) and row["reference"]["name"], row
        if row["id"] in WITH_REFERENCE and row["tidings"] is not None:
            assert number(row["ratio"]["median"]), row


def test_memory_rows_break_the_bytes_down_by_key_family(quick_run: tuple[dict[str, Any], str]) -> None:
    report, _ = quick_run
    memory = next(row for row in report["rows"] if row["id"] == "memory-pending")
    assert memory["pending"] > 0 and memory["events"] > 0
    assert {"pending", "due", "versions", "subj"} <= set(memory["breakdown"])


def test_a_scaled_run_judges_no_target(quick_run: tuple[dict[str, Any], str]) -> None:
    report, _ = quick_run
    verdicts = {row["met"] for row in report["rows"] if row["target"] and row["tidings"] is not None}
    assert verdicts == {"not judged (scale 0.01)"}


def test_the_printed_table_has_a_line_per_row(quick_run: tuple[dict[str, Any], str]) -> None:
    _, printed = quick_run
    lines = [line for line in printed.splitlines() if line.startswith("| ")]
    assert [line.split("|")[1].strip() for line in lines[1:]] == ROWS
