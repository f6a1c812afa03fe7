"""The pid file a service manager or an operator finds a process by (``--pid-file``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from tidings.errors import TidingsError

__all__ = ["pid_file"]


@contextlib.contextmanager
def pid_file(path: str | None) -> Iterator[None]:
    """Write this process's pid to `path` for as long as the block runs, then remove it.

    Raises:
        TidingsError: when `path` names a process that is still running (another worker, say).
    """
    if path is None:
        yield
        return
    target = Path(path)
    running = _running(target)
    if running is not None and running != os.getpid():
        raise TidingsError(f"{path}: process {running} is running with this pid file; stop it or name another --pid-file")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    temporary.write_text(f"{os.getpid()}\n", encoding="ascii")
    os.replace(temporary, target)   # a reader never sees a half-written file
    try:
        yield
    finally:
        if _running(target) == os.getpid():
            target.unlink(missing_ok=True)


def _running(path: Path) -> int | None:
    """The pid in `path` if that process exists, else None."""
    try:
        pid = int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid
