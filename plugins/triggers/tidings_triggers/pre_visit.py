"""pre-visit: one reminder a set time before each visit, moved with it and dropped with it (PRODUCT §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from attrs import field, frozen, validators

from tidings import STATUSES, Drop, Send, Skip, TemplateTexts, Trigger, hookimpl
from tidings.durations import Duration, not_zero
from tidings_triggers.common import names
from tidings_triggers.texts import default_texts

if TYPE_CHECKING:
    from datetime import datetime

    from tidings.config import Rule
    from tidings.models import Event, Subject
    from tidings.plugin_types import History, Intent, Pending


@frozen
class PreVisitRule:
    """The keys of a pre-visit rule."""

    # a reminder at the visit's very start reaches the client when it is too late to act on it
    before: Duration = field(validator=not_zero("a reminder at the start of the visit comes too late to be of use"))
    statuses: tuple[str, ...] = field(default=("pending", "confirmed"), converter=names, metadata={STATUSES: True})
    late: str = field(default="skip", validator=validators.in_(("skip", "send")))


def due_time(subject: Subject, rule: Rule, history: History) -> datetime | None:
    """When the reminder for this snapshot is meant to go, or None when it is not wanted."""
    options: PreVisitRule = rule.options
    if subject.start is None or subject.status not in options.statuses:
        return None
    return options.before.before(subject.start, history.zone(subject.location))


def plan(event: Event, rule: Rule, history: History) -> Iterator[Intent]:
    """Recompute the one reminder this visit wants from its latest snapshot; the store keeps one per slot."""
    if history.newer_snapshot(event) is not None:
        return   # an older event arriving late: the later one planned the reminder from the latest snapshot
    subject = event.subject
    now = event.occurred_at
    if subject.start is None:
        return   # an order with no booked time has nothing to be reminded of
    due = due_time(subject, rule, history)
    if due is None:
        yield Drop(reason=f"status_{subject.status}")
        return
    if due >= now:
        yield Send(due=due, reason=event.verb)
        return
    # a reminder already past is skipped, not sent late, unless the rule asks (PRODUCT §5)
    if rule.options.late == "send" and subject.start > now:
        yield Send(due=now, intended=due, reason="late")
        return
    yield Drop(reason="too_late")
    if event.verb in ("created", "rescheduled"):
        yield Skip(reason="too_late")


def still_due(subject: Subject, rule: Rule, pending: Pending) -> str | None:
    """At due time: drop a reminder whose visit changed in a way its planning has not seen yet."""
    if subject.status not in rule.options.statuses:
        return f"status_{subject.status}"
    start = pending.info.get("start")
    if start is not None and subject.start is not None and start != subject.start.isoformat():
        return "visit_moved"
    return None


@hookimpl
def tidings_triggers() -> Iterator[Trigger]:
    yield Trigger(name="pre-visit", summary="One reminder a set time before each visit, moved and dropped with it",
                  rule_type=PreVisitRule, default_template="pre-visit", plan=plan_with_start, still_due=still_due)


def plan_with_start(event: Event, rule: Rule, history: History) -> Iterator[Intent]:
    """`plan`, with the visit's start kept beside the reminder for the check at due time."""
    for intent in plan(event, rule, history):
        if isinstance(intent, Send) and event.subject.start is not None:
            yield Send(due=intent.due, intended=intent.intended, reason=intent.reason,
                       info={"start": event.subject.start.isoformat()})
        else:
            yield intent


@hookimpl
def tidings_template_texts() -> Iterator[TemplateTexts]:
    yield from default_texts("pre-visit")
