"""Where the time goes: the top functions of py-spy's raw (collapsed-stack) profiles.

``bench/harness.py --profile DIR`` leaves one ``*.txt`` per profiled process in DIR; this prints, for
each, the functions with the most samples on top of the stack (self) and, among tidings', Dramatiq's,
redis-py's and httpx's, those with the most samples anywhere in the stack (total). Idle threads are not
sampled (py-spy's default), so the shares are of the CPU time the process spent in Python. Usage::

    python bench/profile_summary.py DIR [--top 15]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<name>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")
LIBRARIES = ("tidings", "tidings_sms", "tidings_triggers", "dramatiq", "redis", "httpx", "httpcore", "structlog",
             "jinja2", "cattrs", "json")


def short(frame: str) -> str:
    """``Pipeline.ingest (core/tidings/pipeline.py)`` from py-spy's ``Pipeline.ingest (/…/core/tidings/pipeline.py:123)``."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match["path"]
    for marker in ("site-packages/", "/core/", "/plugins/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3":
                path = "stdlib/" + path.split("/", 1)[-1]
            break
    return f"{match['name']} ({path})"


def library(name: str) -> str:
    path = name.rsplit("(", 1)[-1]
    return path.split("/", 1)[0].rstrip(")")


def read(path: Path) -> tuple[Counter[str], Counter[str], int]:
    """Self and total samples per function, and the sample count, of one py-spy raw file."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [short(f) for f in stack.split(";")]
        if frames:
            own[frames[-1]] += n
        for name in set(frames):
            total[name] += n
    return own, total, samples


def summarise(folder: Path, *, top: int = 15) -> str:
    out = []
    for path in sorted(folder.glob("*.txt")):
        own, total, samples = read(path)
        if not samples:
            out.append(f"{path.name}: no samples")
            continue
        out.append(f"{path.name}: {samples} samples")
        out.append("  self (on top of the stack):")
        out.extend(f"    {100 * n / samples:5.1f} %  {name}" for name, n in own.most_common(top))
        out.append("  total (anywhere in the stack), tidings and the libraries on its path:")
        chosen = [(name, n) for name, n in total.most_common() if library(name) in LIBRARIES
                  or library(name).startswith("tidings")]
        out.extend(f"    {100 * n / samples:5.1f} %  {name}" for name, n in chosen[:top])
        by_library: Counter[str] = Counter()
        for name, n in own.items():
            by_library[library(name)] += n
        out.append("  self by package: " + ", ".join(f"{lib} {100 * n / samples:.0f} %" for lib, n in by_library.most_common(8)))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    print(summarise(args.folder, top=args.top))


if __name__ == "__main__":
    main()
