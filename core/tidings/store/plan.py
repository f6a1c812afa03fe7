"""What the store reads and writes for an ingest plan, in one round trip each (`tidings.pipeline.plan`).

`PlanState` is everything planning an event reads up front, together with the client's planning lock
(`ScheduleStore.begin_plan`); each write of the plan is a `PlanOp`, and `ScheduleStore.apply_plan`
writes them all, in order and atomically (in Redis one Lua script).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
from attrs import frozen

from tidings.models import CLOSED_STATUSES, Contact, Service, Subject

if TYPE_CHECKING:
    from tidings.store.records import PendingMessage

__all__ = ["PlanOp", "PlanState", "booking", "books", "client_of", "newer_than", "snapshot_json", "snapshot_read"]


@frozen
class PlanState:
    """What `begin_plan` read for one event: each `None` is "not there"."""

    subject_id: str                                  # the event's subject
    seen: bool                                       # the event id was planned before
    snapshot: dict[str, Any] | None                  # the subject's stored snapshot
    pending: Mapping[str, PendingMessage | None]     # slot -> its pending message, for the slots asked for
    client_subjects: list[dict[str, Any]] | None     # the client's snapshots (None: not asked for)
    # the client's index of bookings (`booking`): (subject id, start timestamp, categories) of each; None: not read
    bookings: tuple[tuple[str, float, tuple[str, ...]], ...] | None = None
    client_id: str | None = None                     # the client whose bookings those are


@frozen
class PlanOp:
    """One write of a plan: ``put_subject``, ``schedule``, ``drop``, ``record``, ``add_event`` or ``release``;
    or ``unsent``, the assumption that a key was not sent, checked before anything is written."""

    name: str
    args: tuple[Any, ...]


def newer_than(stored: Mapping[str, Any] | None, occurred_at: datetime, order: str) -> bool:
    """Whether a stored snapshot is of a later event than (occurred_at, order): it then stays (`put_subject`)."""
    return stored is not None and (stored["occurred_at"], stored.get("order", "")) > (occurred_at.timestamp(), order)


def client_of(snapshot: Mapping[str, Any]) -> str | None:
    """The client id of a stored snapshot, or None."""
    return (snapshot["subject"].get("client") or {}).get("id") or None


def booking(subject: Mapping[str, Any]) -> tuple[float, tuple[str, ...]] | None:
    """Where a subject (its snapshot's ``subject``) stands in its client's index of bookings: its start as a
    timestamp and its services' categories (a service without one is its own, ``service:ID``), or None when it
    is no booking the index keeps (no client, no start, or closed: cancelled, rejected, a no-show).

    The index (`ScheduleStore.client_bookings`) is what repeat-visit asks instead of every subject the client
    ever had: the client's open and completed appointments by category, ranged by start.
    """
    client, start = subject.get("client"), subject.get("start")
    if not isinstance(client, Mapping) or not client.get("id") or not isinstance(start, str) \
            or subject.get("status") in CLOSED_STATUSES:
        return None
    try:
        moment = datetime.fromisoformat(start)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    categories: dict[str, None] = {}
    for service in subject.get("services") or ():
        if isinstance(service, Mapping):
            category = service.get("category")
            categories[category if isinstance(category, str) and category else f"service:{service.get('id')}"] = None
    return moment.timestamp(), tuple(categories)


def books(snapshot: Mapping[str, Any] | None, client_id: str, categories: Collection[str], after: float) -> bool:
    """Whether a stored snapshot answers `client_bookings(client_id, categories=…, after=…)`."""
    if snapshot is None or client_of(snapshot) != client_id:
        return False
    found = booking(snapshot["subject"])
    return found is not None and found[0] > after and any(c in categories for c in found[1])


# A snapshot as the Redis store keeps it: a subject the pipeline wrote (every field of `Subject`, and of each
# of its contacts and services) leaves out what has its default value (``end: null``, a contact's empty
# ``push``, ``data: {}`` …), about a third of its bytes, and is marked ``"v": 2``; reading it puts them back.
# Any other subject (a partial dict a test or a host wrote) is kept as it was given, unmarked.
def _defaults(cls: type) -> tuple[tuple[str, Any], ...]:
    """Each field of `cls` with its default as JSON (`_REQUIRED` for one without)."""
    out = []
    for f in attrs.fields(cls):
        default = f.default.factory() if isinstance(f.default, attrs.Factory) else f.default  # type: ignore[arg-type]
        out.append((f.name, _REQUIRED if default is attrs.NOTHING else list(default) if isinstance(default, tuple)
                    else default))
    return tuple(out)


_REQUIRED = object()
_SUBJECT, _CONTACT, _SERVICE = _defaults(Subject), _defaults(Contact), _defaults(Service)


def _complete(value: Any, fields: tuple[tuple[str, Any], ...]) -> bool:
    return isinstance(value, dict) and len(value) == len(fields) and all(name in value for name, _ in fields)


def _pruned(value: dict[str, Any], fields: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    return {name: value[name] for name, default in fields
            if not (value[name] == default and type(value[name]) is type(default))}


def _filled(value: dict[str, Any], fields: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    return {name: value[name] if name in value else (type(default)() if isinstance(default, (list, dict)) else default)
            for name, default in fields if name in value or default is not _REQUIRED}


def snapshot_json(snapshot: Mapping[str, Any]) -> str:
    """The JSON the Redis store keeps of a snapshot (above)."""
    subject = snapshot["subject"]
    contacts = [subject.get(role) for role in ("client", "staff")]
    services = subject.get("services")
    if _complete(subject, _SUBJECT) and all(c is None or _complete(c, _CONTACT) for c in contacts) \
            and isinstance(services, list) and all(_complete(s, _SERVICE) for s in services):
        compact = _pruned(dict(subject), _SUBJECT)
        for role in ("client", "staff"):
            if compact.get(role) is not None:
                compact[role] = _pruned(compact[role], _CONTACT)
        if "services" in compact:
            compact["services"] = [_pruned(s, _SERVICE) for s in services]
        snapshot = {**snapshot, "subject": compact, "v": 2}
    return json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def snapshot_read(stored: str) -> dict[str, Any]:
    """A snapshot as `snapshot_json` kept it: the subject the pipeline wrote, every field back."""
    snapshot: dict[str, Any] = json.loads(stored)
    if snapshot.pop("v", None) == 2:
        subject = _filled(snapshot["subject"], _SUBJECT)
        for role in ("client", "staff"):
            if subject.get(role) is not None:
                subject[role] = _filled(subject[role], _CONTACT)
        subject["services"] = [_filled(s, _SERVICE) for s in subject["services"]]
        snapshot["subject"] = subject
    return snapshot
