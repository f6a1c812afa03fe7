"""The suite runs on the test kit plugin authors get: real services, each skipped locally when down and failed under CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["tidings.testing"]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example distribution (docs/example-plugin), really installed by pip into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(ROOT / "docs" / "example-plugin")], check=True, capture_output=True)
    return target
