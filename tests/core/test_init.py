"""`tidings init`: a starter configuration that passes `tidings check` as written (PRODUCT §10)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tidings.config import load_config


def tidings(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings.cli", *args], capture_output=True, text=True)


def test_the_starter_configuration_passes_check_with_the_usual_rules(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    assert tidings("init", str(path)).returncode == 0
    checked = tidings("check", str(path))
    assert checked.returncode == 0, checked.stderr
    config = load_config(path)
    assert {(r.trigger, r.id) for r in config.rules} == {
        ("status-change", "booking-confirmed"), ("pre-visit", "reminder-24h"), ("pre-visit", "reminder-1h"),
        ("post-visit", "review-request"), ("repeat-visit", "repeat-nails")}


def test_init_does_not_overwrite_a_configuration_without_force(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text("# mine\n", encoding="utf-8")
    refused = tidings("init", str(path))
    assert refused.returncode != 0 and "--force" in refused.stderr
    assert path.read_text(encoding="utf-8") == "# mine\n"
    assert tidings("init", "--force", str(path)).returncode == 0
    assert "[[rules]]" in path.read_text(encoding="utf-8")
