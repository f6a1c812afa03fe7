"""What the store reads and writes for an ingest plan, in one round trip each (`tidings.pipeline.plan`).

`PlanState` is everything planning an event reads up front, together with the client's planning lock
(`ScheduleStore.begin_plan`); each write of the plan is a `PlanOp`, and `ScheduleStore.apply_plan`
writes them all, in order and atomically (in Redis one Lua script).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attrs import frozen

if TYPE_CHECKING:
    from tidings.store.records import PendingMessage

__all__ = ["PlanOp", "PlanState", "client_of", "newer_than"]


@frozen
class PlanState:
    """What `begin_plan` read for one event: each `None` is "not there"."""

    subject_id: str                                  # the event's subject
    seen: bool                                       # the event id was planned before
    snapshot: dict[str, Any] | None                  # the subject's stored snapshot
    pending: Mapping[str, PendingMessage | None]     # slot -> its pending message, for the slots asked for
    client_subjects: list[dict[str, Any]] | None     # the client's snapshots (None: not asked for)


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
