"""The example plugin, installed as its users install it, passes its own tests on the test kit (docs/example-plugin)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DELIVERY = ("test_the_entry_point_named_after_the_channel_loads_the_plugin",
            "test_a_delivered_message_reaches_the_peer_with_its_idempotency_key",
            "test_a_failure_that_may_pass_is_transient_and_the_retry_is_delivered",
            "test_a_refusal_is_permanent_with_a_reason")


def test_the_example_plugin_keeps_the_channel_contract_on_the_test_kit(installed_plugin: Path) -> None:
    # its own folder and configuration, as a third-party repository runs them: only the installed copy is importable
    result = subprocess.run([sys.executable, "-P", "-m", "pytest", "-v"], cwd=ROOT / "docs" / "example-plugin",
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(installed_plugin)})
    assert result.returncode == 0, result.stdout + result.stderr
    passed = {line.split("::")[-1].split()[0] for line in result.stdout.splitlines() if " PASSED" in line}
    assert set(DELIVERY) <= passed, result.stdout
