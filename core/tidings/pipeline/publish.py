"""Events from the host into the pipeline: JSON lines read into events, and each validated before it is sent.

An event is checked where it is published (`EventReader`: its types, its location, keys the contract
does not define), so a host learns of a malformed one at once, naming the field; a worker reads it
again anyway, because a host may send to the queue directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tidings.errors import EventError
from tidings.models import Event

if TYPE_CHECKING:
    from tidings.intake import EventReader

__all__ = ["events_from_lines"]


def events_from_lines(lines: Iterable[str | bytes], reader: EventReader | None = None) -> Iterable[tuple[int, Event | EventError]]:
    """Parse JSON lines into events, yielding the error in place of a malformed one (line numbers from 1).

    Args:
        reader: checks each event against a configuration too (its locations, unknown keys).
    """
    for number, line in enumerate(lines, 1):
        # a line is text or bytes (files are read as bytes, so a line that is not UTF-8 is one bad event)
        if not line.strip():
            continue
        try:
            yield number, reader.read(line) if reader is not None else Event.from_json(line)
        except EventError as e:
            yield number, e
