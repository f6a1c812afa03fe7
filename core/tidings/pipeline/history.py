"""The read-only view of the store that a trigger plans with (`tidings.plugin_types.History`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from attrs import define, field

from tidings.models import Subject, subject_from_dict
from tidings.pipeline.keys import slot_of

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from tidings.models import Event
    from tidings.plugin_types import Pending
    from tidings.rules import Config, Rule
    from tidings.store import ScheduleStore

__all__ = ["StoreHistory"]


@define
class StoreHistory:
    """What a trigger may ask of the store while it plans one event."""

    store: ScheduleStore
    config: Config
    rules: Mapping[str, Rule]
    newer: Subject | None = None    # the stored snapshot, when it is of a later event than the one planned
    # what client_subjects answered, by (client, kind): a history lives for one event's plan, whose
    # snapshot is written before any trigger asks
    _clients: dict[tuple[str, str], list[Subject]] = field(factory=dict)
    _bookings: dict[tuple[str, str, tuple[str, ...], float], list[Subject]] = field(factory=dict)

    def newer_snapshot(self, event: Event) -> Subject | None:
        return self.newer if self.newer is not None and self.newer.id == event.subject.id else None

    def pending(self, rule: str, scope: str) -> Pending | None:
        found = self.store.pending(slot_of(rule, scope, self.rules[rule].recipient))
        return found.view() if found is not None else None

    def client_subjects(self, client_id: str, *, kind: str = "appointment") -> list[Subject]:
        if (client_id, kind) not in self._clients:
            self._clients[client_id, kind] = [subject_from_dict(s["subject"]) for s in self.store.client_subjects(client_id)
                                              if s["kind"] == kind]
        return list(self._clients[client_id, kind])

    def client_bookings(self, client_id: str, *, categories: Collection[str], after: datetime,
                        kind: str = "appointment") -> list[Subject]:
        key = (client_id, kind, tuple(sorted(categories)), after.timestamp())
        if key not in self._bookings:
            self._bookings[key] = [subject_from_dict(s["subject"]) for s in
                                   self.store.client_bookings(client_id, categories=categories, after=after)
                                   if s["kind"] == kind]
        return list(self._bookings[key])

    def zone(self, location: str | None) -> ZoneInfo:
        return self.config.zone(location)
