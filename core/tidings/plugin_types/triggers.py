"""`Trigger`, returned from `tidings_triggers`: a pure planner from events to intents, and the intents."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from attrs import field, frozen

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from tidings.models import Event, Subject
    from tidings.rules import Rule

__all__ = ["STATUSES", "Drop", "History", "Intent", "Pending", "Restore", "Send", "Skip", "Suspend", "Trigger"]


STATUSES = "tidings.statuses"
"""The ``metadata`` key marking a trigger's rule key whose values are subject statuses.

``to: tuple[str, ...] | None = field(default=None, metadata={STATUSES: True})``: for a rule of kind
``appointment`` the core checks each value against the appointment statuses and reports a typo
with a suggestion; orders and leads take any status (PRODUCT §3).
"""


@frozen
class Send:
    """Intent: one message of this rule is due at `due` (replaces the pending one of the same slot)."""

    due: datetime
    scope: str | None = None         # None: one per subject; "client:<id>": one per client (repeat-visit)
    suspended: bool = False          # kept, but not sent until restored
    intended: datetime | None = None  # the time the message is meant for when sent at another (late = "send")
    reason: str = "scheduled"
    info: Mapping[str, Any] = field(factory=dict)   # kept with the pending message, handed back to plan()
    # the ids of the subject's services this message is about: its templates see only those as `services`
    # (a repeat-visit invitation names the services it follows, not every service of the visit); None: all
    services: tuple[str, ...] | None = None


@frozen
class Drop:
    """Intent: the pending message of this slot is no longer wanted."""

    reason: str
    scope: str | None = None


@frozen
class Suspend:
    """Intent: keep the pending message of this slot, but do not send it while suspended."""

    reason: str
    scope: str | None = None


@frozen
class Restore:
    """Intent: send the suspended message of this slot at its original time, or at once if that passed."""

    reason: str
    scope: str | None = None


@frozen
class Skip:
    """Intent: nothing is sent for this event, and the reason is worth recording (--explain)."""

    reason: str


Intent = Send | Drop | Suspend | Restore | Skip


@frozen
class Pending:
    """A pending message as triggers see it."""

    slot: str
    rule: str
    subject: str
    due: datetime
    suspended: bool
    info: Mapping[str, Any]


class History(Protocol):
    """What a trigger may ask of the schedule store while planning (read-only)."""

    def pending(self, rule: str, scope: str) -> Pending | None: ...

    # the subject's stored snapshot when it is of a later event than `event` (workers took the two in the
    # other order): the subject's state is that snapshot, not the event's; None when `event` is the latest
    def newer_snapshot(self, event: Event) -> Subject | None: ...

    def client_subjects(self, client_id: str, *, kind: str = "appointment") -> list[Subject]: ...

    # the client's bookings (not cancelled, rejected or missed) with a service in one of `categories` (a
    # service's category, or ``service:ID`` for one without) that start after `after`, by id: an index
    # lookup, where `client_subjects` reads every subject the client had
    def client_bookings(self, client_id: str, *, categories: Collection[str], after: datetime,
                        kind: str = "appointment") -> list[Subject]: ...

    def zone(self, location: str | None) -> ZoneInfo: ...


@frozen
class Trigger:
    """Returned from `tidings_triggers`: one trigger, a pure planner from events to intents."""

    name: str                                            # "pre-visit": entry-point name and rule value
    summary: str
    rule_type: type                                      # attrs class of this trigger's own rule keys
    plan: Callable[[Event, Rule, History], Iterable[Intent]]
    default_template: str                                # name of its built-in texts
    sample: Callable[[], Event] | None = None            # a sample event, for `check` and `preview`
    still_due: Callable[[Subject, Rule, Pending], str | None] | None = None  # reason to drop at due time
