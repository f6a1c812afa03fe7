"""What the store reads and writes for an ingest plan, in one round trip each (`tidings.pipeline.plan`).

`PlanState` is everything planning an event reads up front, together with the client's planning lock
(`ScheduleStore.begin_plan`); each write of the plan is a `PlanOp`, and `ScheduleStore.apply_plan`
writes them all, in order and atomically (in Redis one Lua script).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attrs import frozen

from tidings.models import CLOSED_STATUSES

if TYPE_CHECKING:
    from tidings.store.records import PendingMessage

__all__ = ["PlanOp", "PlanState", "booking", "books", "client_of", "newer_than"]


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
