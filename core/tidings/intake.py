"""Reading host events against a configuration (PRODUCT §3): unknown keys and unknown locations.

`tidings.models` checks what an event means on its own (types, required fields); this module checks
what needs the deployment: that its location is one the configuration defines, and that it carries no
key the contract does not define. Such a key is usually an integration typo (``subject.clinet``): it
is kept out of templates either way, and reported once per path per process as a warning, or, with
``[tidings] strict_events = true``, the event is rejected naming it.
"""

from __future__ import annotations

import functools
import re
import threading
import typing
from collections.abc import Callable, Collection, Iterator, Mapping
from types import NoneType, UnionType
from typing import Any

import attrs
from attrs import define, field

from tidings.errors import EventError
from tidings.logging import get_logger
from tidings.models import Event, decode_event

__all__ = ["EventReader", "unknown_keys"]

log = get_logger(__name__)

# `mute` may stand at the top of an event as well as in its subject (Event.from_dict moves it)
_TOP_LEVEL_EXTRAS = frozenset({"mute"})


@functools.cache
def _fields(cls: type) -> dict[str, Any]:
    """A model's keys and their resolved types (the models use postponed annotations)."""
    return dict(typing.get_type_hints(cls))


@functools.cache   # asked for every key of every event: the models' few field types, resolved once
def _model_of(type_: Any) -> tuple[type | None, bool]:
    """The attrs model a field holds, and whether it holds a list of them (``tuple[Service, ...]``)."""
    if isinstance(type_, UnionType) or typing.get_origin(type_) is typing.Union:
        models = [t for t in typing.get_args(type_) if t is not NoneType and attrs.has(t)]
        return (models[0], False) if len(models) == 1 else (None, False)
    if typing.get_origin(type_) is tuple:
        args = typing.get_args(type_)
        if len(args) == 2 and args[1] is Ellipsis and attrs.has(args[0]):
            return args[0], True
    return (type_, False) if isinstance(type_, type) and attrs.has(type_) else (None, False)


def _walk(raw: Mapping[str, Any], cls: type, path: str) -> Iterator[str]:
    known = _fields(cls)
    for key, value in raw.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in known:
            if not (cls is Event and key in _TOP_LEVEL_EXTRAS):
                yield where
            continue
        model, many = _model_of(known[key])
        if model is None:
            continue   # a scalar, or a free-form table (`data`, `consents`, `addresses`, push `keys`)
        if many and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    yield from _walk(item, model, f"{where}[{index}]")
        elif not many and isinstance(value, Mapping):
            yield from _walk(value, model, where)


def unknown_keys(raw: Mapping[str, Any]) -> list[str]:
    """The paths of the keys of a raw event that the contract does not define, in the event's order."""
    return list(_walk(raw, Event, ""))


def _shape(path: str) -> str:
    """A path without its list positions: ``subject.services[2].colour`` is reported as often as ``[0]``."""
    return re.sub(r"\[\d+\]", "[]", path)


# the paths already reported by this process: a typo shows once, not once per event
_REPORTED: set[str] = set()
_REPORTED_LOCK = threading.Lock()


def _warn(event_id: str | None, path: str) -> None:
    log.warning("event_unknown_key", path=path, event_id=event_id,
                reason="not a key of the event contract: ignored, and kept out of templates")


@define
class EventReader:
    """Reads events as one deployment defines them: its locations, and whether unknown keys are errors.

    Args:
        locations: the location ids the configuration defines.
        strict: reject an event with a key the contract does not define (``strict_events``), instead of
            warning about it.
        on_unknown: called with (event id, path) for each unknown key path not reported before; by
            default a warning ``event_unknown_key`` on the ``tidings.intake`` logger. `tidings simulate` prints it instead.
        reported: the paths reported so far; shared by the whole process unless given.
    """

    locations: Collection[str]
    strict: bool = False
    on_unknown: Callable[[str | None, str], None] = _warn
    reported: set[str] = field(factory=lambda: _REPORTED)
    _lock: threading.Lock = field(factory=lambda: _REPORTED_LOCK)

    @classmethod
    def for_config(cls, config: Any, **kwargs: Any) -> EventReader:
        """A reader for a `tidings.config.Config`."""
        return cls(locations=frozenset(config.locations), strict=config.tidings.strict_events, **kwargs)

    def read(self, raw: Any) -> Event:
        """Parse and check one event (a JSON line, a dict or an `Event`); raises EventError naming the field."""
        if isinstance(raw, (str, bytes)):
            raw = decode_event(raw)
        if isinstance(raw, Mapping):
            self._check_keys(raw)
        event = Event.from_dict(raw)
        location = event.subject.location
        if location is not None and location not in self.locations:
            defined = ", ".join(sorted(self.locations)) if self.locations else "none: add a [locations.ID] table"
            raise EventError(f"event {event.id}: subject.location {location!r} is not a location of the configuration "
                             f"(defined: {defined})", event_id=event.id, field="subject.location")
        return event

    def _check_keys(self, raw: Mapping[str, Any]) -> None:
        paths = unknown_keys(raw)
        if not paths:
            return
        raw_id = raw.get("id")
        event_id = str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else None
        if self.strict:
            label = f"event {event_id}" if event_id else "event"
            raise EventError(f"{label}: {paths[0]} is not a key of the event contract (strict_events is on)",
                             event_id=event_id, field=paths[0])
        fresh = []
        with self._lock:
            for path in paths:
                if _shape(path) not in self.reported:
                    self.reported.add(_shape(path))
                    fresh.append(path)
        for path in fresh:
            self.on_unknown(event_id, path)
