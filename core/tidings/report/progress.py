"""A progress bar for long runs: on stderr, and only when stderr is a terminal (never in a pipe or a log)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(total: int | None, *, label: str, unit: str = "event",
                 stream: TextIO | None = None) -> Iterator[Callable[[], None] | None]:
    """A tick function for `total` steps drawn on `stream` (stderr), or None when it is not a terminal."""
    out = stream if stream is not None else sys.stderr
    if not out.isatty():
        yield None
        return
    from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]   # typed only with types-tqdm

    # leave=False: the bar clears itself, so the summary that follows starts on a clean line
    with tqdm(total=total, desc=label, unit=unit, file=out, leave=False, dynamic_ncols=True) as bar:
        yield lambda: bar.update()
