"""`tidings demo`: a month of a two-location salon chain, run through `tidings simulate`'s machinery.

The demo writes its configuration and events to a folder the user can edit (`prepare`), then runs
them like `tidings simulate --explain --report` does. Generated files are tracked in a manifest of
their checksums: a file that is as the demo wrote it is regenerated on every run (a new `--seed`
or `--month` takes effect), while a file the user changed is kept and used, unless `--force`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from importlib.resources import files
from pathlib import Path

from attrs import frozen

from tidings.demo.generator import (
    DEFAULT_MONTH,
    DEFAULT_SEED,
    events_text,
    generate_events,
)

__all__ = ["DEFAULT_MONTH", "DEFAULT_SEED", "Prepared", "config_text", "generate_events", "prepare"]

MANIFEST = ".tidings-demo.json"
CONFIG = "config.toml"
EVENTS = "events.jsonl"
MESSAGES = "messages.jsonl"
REPORT = "report.html"


def config_text() -> str:
    """The demo chain's configuration, as `tidings demo` writes it."""
    return files("tidings.demo").joinpath("config.toml").read_text(encoding="utf-8")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@frozen
class Prepared:
    """The demo folder after `prepare`: its files, and the ones kept because the user edited them."""

    directory: Path
    kept: tuple[str, ...]

    @property
    def config(self) -> Path:
        return self.directory / CONFIG

    @property
    def events(self) -> Path:
        return self.directory / EVENTS

    @property
    def messages(self) -> Path:
        return self.directory / MESSAGES

    @property
    def report(self) -> Path:
        return self.directory / REPORT


def prepare(directory: str | Path, *, month: date = DEFAULT_MONTH, seed: int = DEFAULT_SEED,
            force: bool = False) -> Prepared:
    """Write the demo's config and events into `directory`, keeping files the user edited unless `force`.

    A file counts as edited when its content differs from what the demo last wrote there (the
    manifest keeps a checksum of each); a file the demo has no record of counts as edited too.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    try:
        written = json.loads(manifest_path.read_text(encoding="utf-8"))
        if not isinstance(written, dict):
            written = {}
    except (OSError, ValueError):
        written = {}
    wanted = {CONFIG: config_text(), EVENTS: events_text(generate_events(month, seed=seed))}
    kept = []
    for name, text in wanted.items():
        path = folder / name
        if path.exists() and not force:
            current = path.read_text(encoding="utf-8", errors="replace")
            if _digest(current) != written.get(name) and current != text:
                kept.append(name)   # the user's edit wins: the demo runs what they wrote
                continue
        path.write_text(text, encoding="utf-8")
        written[name] = _digest(text)
    manifest_path.write_text(json.dumps(written, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return Prepared(directory=folder, kept=tuple(kept))
