"""The pid file: written while the block runs, removed after, and refused while its process is alive."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tidings.errors import TidingsError
from tidings.runtime.pidfile import pid_file


def test_the_pid_file_holds_this_process_while_it_runs_and_goes_after(tmp_path: Path) -> None:
    path = tmp_path / "run" / "worker.pid"
    with pid_file(str(path)):
        assert path.read_text() == f"{os.getpid()}\n"
    assert not path.exists()


def test_a_pid_file_of_a_living_process_is_refused_and_one_of_a_dead_process_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "worker.pid"
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        path.write_text(f"{other.pid}\n")
        with pytest.raises(TidingsError, match=f"process {other.pid} is running with this pid file"), pid_file(str(path)):
            pass
        assert path.read_text() == f"{other.pid}\n"
    finally:
        other.kill()
        other.wait()
    with pid_file(str(path)):   # the process is gone: its stale file is replaced
        assert path.read_text() == f"{os.getpid()}\n"


def test_no_pid_file_asked_for_writes_nothing(tmp_path: Path) -> None:
    with pid_file(None):
        assert list(tmp_path.iterdir()) == []
