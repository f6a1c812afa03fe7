"""repeat-visit: invite a client back when a service is due again, unless they already booked (PRODUCT §5)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from tidings import Drop, Restore, Send, Suspend, TemplateTexts, Trigger, hookimpl
from tidings.durations import Duration, not_zero
from tidings.models import CLOSED_STATUSES, Service
from tidings_triggers.common import became, names
from tidings_triggers.texts import default_texts

if TYPE_CHECKING:
    from tidings.config import Rule
    from tidings.models import Event, Subject
    from tidings.plugin_types import History, Intent


@frozen
class RepeatVisitRule:
    """The keys of a repeat-visit rule: the services (or categories) it follows, and when they are due again."""

    after: Duration = field(validator=not_zero("an invitation to come back is due some time after the visit, "
                                                "not at the visit itself"))
    services: tuple[str, ...] = field(default=(), converter=names)
    categories: tuple[str, ...] = field(default=(), converter=names)

    def __attrs_post_init__(self) -> None:
        if not self.services and not self.categories:
            raise ValueError("a repeat-visit rule needs services or categories to follow")


def category_of(service: Service) -> str:
    """The category a service counts in; a service without one is its own category."""
    return service.category if service.category else f"service:{service.id}"


def matched(subject: Subject, options: RepeatVisitRule) -> list[Service]:
    return [s for s in subject.services if s.id in options.services or (s.category and s.category in options.categories)]


def _later_in_cycle(info: Mapping[str, Any], others: Sequence[Subject]) -> Iterator[Subject]:
    """The client's other appointments in the cycle's categories that start after the cycle's visit."""
    cycle, start = info["cycle"], datetime.fromisoformat(info["cycle_start"])
    categories = set(info["categories"])
    for other in others:
        if other.id == cycle or other.start is None or other.start <= start:
            continue
        if any(category_of(s) in categories for s in other.services):
            yield other


def booked_again(info: Mapping[str, Any], others: Sequence[Subject]) -> Subject | None:
    """The client's booked appointment in the cycle's categories starting after the cycle's visit, if any."""
    return next((o for o in _later_in_cycle(info, others)
                 if o.status not in CLOSED_STATUSES and o.status != "completed"), None)


def came_back(info: Mapping[str, Any], others: Sequence[Subject]) -> Subject | None:
    """The client's completed appointment in the cycle's categories after the cycle's visit, if any."""
    return next((o for o in _later_in_cycle(info, others) if o.status == "completed"), None)


def in_cycle(history: History, client_id: str, info: Mapping[str, Any]) -> list[Subject]:
    """The client's bookings in the cycle's categories after its visit, from the store's index of bookings."""
    return history.client_bookings(client_id, categories=info["categories"],
                                   after=datetime.fromisoformat(info["cycle_start"]))


def plan(event: Event, rule: Rule, history: History) -> Iterator[Intent]:
    """One pending invitation per (rule, client): started by a completed visit, held while rebooked,
    dropped when the client came back."""
    options: RepeatVisitRule = rule.options
    # an older event arriving after a later one of its visit: the visit is as the later snapshot says
    subject = history.newer_snapshot(event) or event.subject
    client = subject.client
    if client is None:
        return
    scope = f"client:{client.id}"
    pending = history.pending(rule.id, scope)
    services = matched(subject, options)
    if became(event, "completed") and subject.status == "completed" and services and subject.start is not None:
        if pending is not None and "cycle_start" in pending.info \
                and datetime.fromisoformat(pending.info["cycle_start"]) > subject.start:
            return   # an older visit marked completed late does not replace the newer cycle
        info = {"cycle": subject.id, "cycle_start": subject.start.isoformat(),
                "categories": sorted({category_of(s) for s in services})}
        others = in_cycle(history, client.id, info)
        if came_back(info, others) is not None:
            return   # the client has been back since this visit: there is nothing to invite them to
        due = options.after.after(subject.start, history.zone(subject.location))
        rebooked = booked_again(info, others)
        # one invitation for the visit however many of its services the rule follows, naming just those
        yield Send(due=due, scope=scope, suspended=rebooked is not None, info=info,
                   services=tuple(dict.fromkeys(s.id for s in services)),
                   reason=f"booked_{rebooked.id}" if rebooked else "visit_completed")
        return
    if pending is None:
        return
    others = in_cycle(history, client.id, pending.info)
    back = came_back(pending.info, others)
    if back is not None:
        # the appointment that held the invitation (or any later one in its categories) was completed (PRODUCT §5)
        yield Drop(reason=f"came_back_{back.id}", scope=scope)
        return
    rebooked = booked_again(pending.info, others)
    if rebooked is not None and not pending.suspended:
        yield Suspend(reason=f"booked_{rebooked.id}", scope=scope)
    elif rebooked is None and pending.suspended:
        yield Restore(reason=f"booking_{subject.status}", scope=scope)


@hookimpl
def tidings_triggers() -> Iterator[Trigger]:
    yield Trigger(name="repeat-visit", summary="Invite a client back when a service is due again, unless already booked",
                  rule_type=RepeatVisitRule, default_template="repeat-visit", plan=plan)


@hookimpl
def tidings_template_texts() -> Iterator[TemplateTexts]:
    yield from default_texts("repeat-visit")
